//! Right-sizing and hygiene recommendations for one function over one evidence window, each
//! with the numbers behind it. Rules (thresholds as constants below):
//!
//! - `memory_decrease`: peak memory use below [`MEMORY_LOW`] of the configured memory;
//!   `memory_increase`: above [`MEMORY_HIGH`] (out-of-memory risk);
//! - `timeout_decrease`: the longest invocation under [`TIMEOUT_FAR`] of the timeout;
//!   `timeout_at_risk`: timeouts happened, or p99 duration at [`TIMEOUT_NEAR`] of it or more;
//! - `arm64_candidate`: x86_64 on a runtime AWS offers on arm64 (~20% cheaper per GB-s);
//! - `runtime_upgrade`: the runtime is deprecated or deprecating.
//!
//! Sizing advice (memory, timeout decrease) needs at least [`MIN_INVOCATIONS`] invocations
//! in the window, the floor AWS Compute Optimizer uses; risks are reported whatever the count.

use lfm_schema::reference::RuntimeInfo;

use super::runtime::RuntimeStatus;

pub const MIN_INVOCATIONS: u64 = 50;
pub const MEMORY_LOW: f64 = 0.5;
pub const MEMORY_HIGH: f64 = 0.9;
pub const TIMEOUT_FAR: f64 = 0.1;
pub const TIMEOUT_NEAR: f64 = 0.8;
/// Lambda's smallest and largest memory settings (MB).
pub const MEMORY_MIN_MB: u32 = 128;
pub const MEMORY_MAX_MB: u32 = 10_240;

/// What the window showed about one function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowEvidence {
    pub window_start: String,
    pub window_end: String,
    pub invocations: u64,
    pub memory_mb: Option<u32>,
    pub max_memory_used_mb: Option<f64>,
    pub timeout_s: Option<u32>,
    pub duration_max_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub timeouts: u64,
    pub architecture: Option<String>,
    pub runtime: Option<String>,
    pub compute_cost_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub kind: &'static str,
    pub reason: String,
    pub suggested_memory_mb: Option<u32>,
    pub suggested_timeout_s: Option<u32>,
}

/// Memory rounded up to a multiple of 64 MB within Lambda's limits.
fn memory_setting(mb: f64) -> u32 {
    let mb = (mb / 64.0).ceil() * 64.0;
    (mb as u32).clamp(MEMORY_MIN_MB, MEMORY_MAX_MB)
}

pub fn recommend(e: &WindowEvidence, runtime: (RuntimeStatus, Option<&RuntimeInfo>)) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let sizing = e.invocations >= MIN_INVOCATIONS;
    let rec = |kind, reason: String| Recommendation { kind, reason, suggested_memory_mb: None, suggested_timeout_s: None };

    if let (Some(memory), Some(used)) = (e.memory_mb, e.max_memory_used_mb) {
        let utilization = used / f64::from(memory);
        if utilization > MEMORY_HIGH && memory < MEMORY_MAX_MB {
            let mut r = rec("memory_increase", format!(
                "peak memory use {used:.0} MB is {:.0}% of the configured {memory} MB over {} invocations: out-of-memory risk",
                utilization * 100.0, e.invocations));
            r.suggested_memory_mb = Some(memory_setting(used / 0.7).max(memory + 64).min(MEMORY_MAX_MB));
            out.push(r);
        } else if sizing && utilization < MEMORY_LOW && memory > MEMORY_MIN_MB {
            let suggested = memory_setting(used / 0.7);
            if suggested < memory {
                let mut r = rec("memory_decrease", format!(
                    "peak memory use {used:.0} MB is {:.0}% of the configured {memory} MB over {} invocations; CPU scales with memory, so check durations after lowering it",
                    utilization * 100.0, e.invocations));
                r.suggested_memory_mb = Some(suggested);
                out.push(r);
            }
        }
    }

    if let Some(timeout_s) = e.timeout_s {
        let timeout_ms = f64::from(timeout_s) * 1000.0;
        let near = e.duration_p99_ms.is_some_and(|p99| p99 / timeout_ms >= TIMEOUT_NEAR);
        if e.timeouts > 0 || near {
            out.push(rec("timeout_at_risk", format!(
                "{} timeouts; p99 duration {} of the {timeout_s} s timeout",
                e.timeouts,
                e.duration_p99_ms.map(|p| format!("{:.0}%", p / timeout_ms * 100.0)).unwrap_or_else(|| "unknown".into()))));
        } else if let Some(max) = e.duration_max_ms.filter(|_| sizing) {
            if max / timeout_ms < TIMEOUT_FAR && timeout_s > 3 {
                let suggested = ((max * 3.0 / 1000.0).ceil() as u32).max(3);
                if suggested < timeout_s {
                    let mut r = rec("timeout_decrease", format!(
                        "longest invocation {max:.0} ms is {:.1}% of the {timeout_s} s timeout over {} invocations; a tighter timeout stops runaway invocations sooner",
                        max / timeout_ms * 100.0, e.invocations));
                    r.suggested_timeout_s = Some(suggested);
                    out.push(r);
                }
            }
        }
    }

    let (status, info) = runtime;
    if e.architecture.as_deref() == Some("x86_64")
        && matches!(status, RuntimeStatus::Supported)
        && info.is_some_and(|i| i.arm64)
    {
        out.push(rec("arm64_candidate", format!(
            "x86_64 on {}, which AWS offers on arm64 at ~20% less per GB-second{}",
            e.runtime.as_deref().unwrap_or("?"),
            e.compute_cost_usd.map(|c| format!(" (compute ${c:.6} in this window)")).unwrap_or_default())));
    }
    if let (RuntimeStatus::Deprecated | RuntimeStatus::Deprecating, Some(info)) = (status, info) {
        out.push(rec("runtime_upgrade", format!(
            "runtime {} {} on {}: no more security patches; blocks function updates from {}",
            info.id,
            if status == RuntimeStatus::Deprecated { "was deprecated" } else { "is deprecated" },
            info.deprecation,
            info.block_function_update.as_deref().unwrap_or("a date AWS has not announced"))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lfm_schema::reference::RuntimeTable;

    fn evidence() -> WindowEvidence {
        WindowEvidence {
            window_start: "2026-11-26T15:00:00Z".into(),
            window_end: "2026-11-26T16:00:00Z".into(),
            invocations: 500,
            memory_mb: Some(1024),
            max_memory_used_mb: Some(600.0),
            timeout_s: Some(30),
            duration_max_ms: Some(9000.0),
            duration_p99_ms: Some(8000.0),
            timeouts: 0,
            architecture: Some("arm64".into()),
            runtime: Some("python3.12".into()),
            compute_cost_usd: Some(0.01),
        }
    }

    fn kinds(e: &WindowEvidence, runtime: &str) -> Vec<&'static str> {
        let table = RuntimeTable::shipped();
        let status = if table.get(runtime).is_some_and(|r| r.deprecation.as_str() <= "2026-11-26") {
            RuntimeStatus::Deprecated
        } else {
            RuntimeStatus::Supported
        };
        recommend(e, (status, table.get(runtime))).into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn a_well_sized_function_gets_nothing() {
        assert!(kinds(&evidence(), "python3.12").is_empty());
    }

    #[test]
    fn memory_both_ways_with_suggestions() {
        let mut e = evidence();
        e.max_memory_used_mb = Some(100.0);
        let table = RuntimeTable::shipped();
        let r = recommend(&e, (RuntimeStatus::Supported, table.get("python3.12")));
        assert_eq!(r[0].kind, "memory_decrease");
        assert_eq!(r[0].suggested_memory_mb, Some(192)); // 100 / 0.7 = 143 -> 192
        e.invocations = 49; // below the evidence floor: no sizing advice
        assert!(kinds(&e, "python3.12").is_empty());
        e.max_memory_used_mb = Some(1000.0); // a risk is reported whatever the count
        let r = recommend(&e, (RuntimeStatus::Supported, table.get("python3.12")));
        assert_eq!(r[0].kind, "memory_increase");
        assert_eq!(r[0].suggested_memory_mb, Some(1472));
    }

    #[test]
    fn timeouts_both_ways() {
        let mut e = evidence();
        e.duration_max_ms = Some(900.0);
        e.duration_p99_ms = Some(500.0);
        let table = RuntimeTable::shipped();
        let r = recommend(&e, (RuntimeStatus::Supported, table.get("python3.12")));
        assert_eq!((r[0].kind, r[0].suggested_timeout_s), ("timeout_decrease", Some(3)));
        e.duration_p99_ms = Some(25_000.0);
        assert_eq!(kinds(&e, "python3.12"), ["timeout_at_risk"]);
        e.duration_p99_ms = Some(100.0);
        e.timeouts = 1;
        assert_eq!(kinds(&e, "python3.12"), ["timeout_at_risk"]);
    }

    #[test]
    fn arm64_and_runtime_upgrade() {
        let mut e = evidence();
        e.architecture = Some("x86_64".into());
        assert_eq!(kinds(&e, "python3.12"), ["arm64_candidate"]);
        assert_eq!(kinds(&e, "go1.x"), ["runtime_upgrade"]); // deprecated, and no arm64 anyway
        let table = RuntimeTable::shipped();
        let r = recommend(&e, (RuntimeStatus::Deprecated, table.get("python3.9")));
        assert_eq!(r[0].kind, "runtime_upgrade");
        assert!(r[0].reason.contains("2025-12-15") && r[0].reason.contains("2027-03-03"), "{}", r[0].reason);
    }
}
