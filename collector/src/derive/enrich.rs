//! The numbers CloudWatch's `AWS/Lambda` metrics lack, put on the documents built from them:
//!
//! - [`apply_logs_and_cost`]: REPORT-derived fields (cold starts, init, SnapStart restores,
//!   memory, timeouts) from the Logs Insights stats of the period, timeout proximity, and the
//!   period's cost (`billed` from REPORT billed durations plus SnapStart billed restore
//!   durations, `estimated` from metrics otherwise). REPORT records that disagree with
//!   CloudWatch's numbers of the period ([`report_check`](super::report_check)) are not
//!   believed: their fields stay null with `logs_withheld_reason` and the cost is estimated;
//! - [`window_evidence`] and [`apply_runtime_and_recommendations`]: runtime status and
//!   recommendations on the inventory document, with the window's numbers as evidence.
//!
//! Pure: the harvest fetched everything; nothing here does I/O.

use chrono::{DateTime, NaiveDate, Utc};
use lfm_schema::documents::{
    logs_source, InventoryDocument, MetricDocument, RecommendationEntry, RecommendationEvidence,
};
use lfm_schema::reference::{PriceTable, RuntimeTable};

use super::cost::{init_is_billed, period_cost, Usage};
use super::report_check::disagreement;
use super::recommend::{recommend, WindowEvidence};
use super::runtime::runtime_status;
use crate::discover::FunctionRecord;
use crate::harvest::logs_insights::LogPeriodStats;

/// What the logs said about one function in one period.
#[derive(Debug, Clone, Copy)]
pub enum PeriodLogs<'a> {
    /// The function's log group was not read (idle, query failed, group missing or shared):
    /// log-derived fields stay null and the cost is estimated.
    NotRead,
    /// Read; `None` when the period had no REPORT record.
    Read(Option<&'a LogPeriodStats>),
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 && n.is_finite() => Some(n / d),
        _ => None,
    }
}

/// Fills the log-derived, timeout and cost fields of `doc` (`period_start` = its period).
pub fn apply_logs_and_cost(
    doc: &mut MetricDocument,
    function: &FunctionRecord,
    period_start: &DateTime<Utc>,
    logs: PeriodLogs<'_>,
    prices: &PriceTable,
) {
    let memory_mb = function.memory_mb.map(f64::from);
    let timeout_ms = function.timeout_s.map(|s| f64::from(s) * 1000.0);
    let empty = LogPeriodStats::default();
    // Forged REPORT records (printed by the function) make the period's records disagree with
    // CloudWatch's: then none of them is believed, as if the logs had not been read.
    let withheld = match logs {
        PeriodLogs::Read(Some(s)) => disagreement(s, doc.invocations, doc.duration_max_ms),
        _ => None,
    };
    doc.logs_withheld_reason = withheld.map(str::to_string);
    let stats = match logs {
        PeriodLogs::NotRead => None,
        PeriodLogs::Read(_) if withheld.is_some() => None,
        PeriodLogs::Read(stats) => Some(stats.unwrap_or(&empty)),
    };
    if let Some(s) = stats {
        doc.logs_source = Some(logs_source::LOGS_INSIGHTS.into());
        doc.cold_starts = Some(s.cold_starts());
        doc.cold_start_rate =
            (doc.invocations > 0).then(|| s.cold_starts() as f64 / doc.invocations as f64);
        doc.init_duration_avg_ms = s.init_duration_avg_ms;
        doc.init_duration_max_ms = s.init_duration_max_ms;
        doc.snapstart_restores = Some(s.restores);
        doc.max_memory_used_mb = s.max_memory_used_mb;
        doc.memory_utilization = ratio(s.max_memory_used_mb, memory_mb.or(s.memory_size_mb));
        doc.timeouts = Some(s.timeouts());
    }
    let duration_max = doc
        .duration_max_ms
        .or(stats.and_then(|s| s.duration_max_ms));
    let duration_p99 = doc
        .duration_p99_ms
        .or(stats.and_then(|s| s.duration_p99_ms));
    doc.timeout_proximity_max = ratio(duration_max, timeout_ms);
    doc.timeout_proximity_p99 = ratio(duration_p99, timeout_ms);

    // Billed only when REPORTs cover every invocation CloudWatch counted; otherwise the
    // billed sum would understate the period.
    let billed = stats.filter(|s| s.reports > 0 && s.reports >= doc.invocations);
    let usage = Usage {
        invocations: doc.invocations,
        // What AWS charges: Billed Duration plus SnapStart's Billed Restore Duration.
        billed_mb_ms: billed.map(|s| s.charged_mb_ms_sum()),
        duration_avg_ms: doc.duration_avg_ms,
        memory_mb: function.memory_mb,
        init_duration_ms_sum: stats
            .and_then(|s| s.init_duration_avg_ms.map(|avg| avg * s.inits as f64)),
    };
    let init_billed = init_is_billed(
        period_start,
        function.package_type.as_deref(),
        function.runtime.as_deref(),
    );
    let architecture = function.architecture.as_deref().unwrap_or("x86_64");
    if let Some(cost) = period_cost(&usage, prices, &function.region, architecture, init_billed) {
        doc.billed_duration_ms_sum =
            billed.map(|s| s.charged_duration_ms_sum().round().max(0.0) as u64);
        doc.gb_seconds = Some(cost.gb_seconds);
        doc.request_cost_usd = cost.request_cost_usd;
        doc.compute_cost_usd = cost.compute_cost_usd;
        doc.cost_usd = cost.cost_usd;
        doc.cost_basis = Some(cost.basis.as_str().into());
    }
}

fn max_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values
        .flatten()
        .filter(|v| v.is_finite())
        .fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

/// The window's numbers of one function from its metrics documents (any order).
pub fn window_evidence(
    function: &FunctionRecord,
    start: &str,
    end: &str,
    docs: &[&MetricDocument],
) -> WindowEvidence {
    let compute: Vec<f64> = docs.iter().filter_map(|d| d.compute_cost_usd).collect();
    WindowEvidence {
        window_start: start.into(),
        window_end: end.into(),
        invocations: docs.iter().map(|d| d.invocations).sum(),
        memory_mb: function.memory_mb,
        max_memory_used_mb: max_of(docs.iter().map(|d| d.max_memory_used_mb)),
        timeout_s: function.timeout_s,
        duration_max_ms: max_of(docs.iter().map(|d| d.duration_max_ms)),
        duration_p99_ms: max_of(docs.iter().map(|d| d.duration_p99_ms)),
        timeouts: docs.iter().filter_map(|d| d.timeouts).sum(),
        architecture: function.architecture.clone(),
        runtime: function.runtime.clone(),
        compute_cost_usd: (!compute.is_empty()).then(|| compute.iter().sum()),
    }
}

/// Runtime status, deprecation date and recommendations on an inventory document.
pub fn apply_runtime_and_recommendations(
    doc: &mut InventoryDocument,
    function: &FunctionRecord,
    runtimes: &RuntimeTable,
    today: NaiveDate,
    warning_days: u32,
    evidence: &WindowEvidence,
) {
    let (status, info) = runtime_status(
        runtimes,
        function.runtime.as_deref(),
        function.package_type.as_deref(),
        today,
        warning_days,
    );
    doc.runtime_status = Some(status.as_str().into());
    let deprecation = info.and_then(|i| NaiveDate::parse_from_str(&i.deprecation, "%Y-%m-%d").ok());
    doc.runtime_deprecation_date = deprecation.map(|d| d.format("%Y-%m-%d").to_string());
    doc.runtime_days_to_deprecation = deprecation.map(|d| (d - today).num_days());
    let memory = evidence.memory_mb.map(f64::from);
    let shown = RecommendationEvidence {
        window_start: evidence.window_start.clone(),
        window_end: evidence.window_end.clone(),
        invocations: evidence.invocations,
        max_memory_used_mb: evidence.max_memory_used_mb,
        memory_utilization: ratio(evidence.max_memory_used_mb, memory),
        duration_max_ms: evidence.duration_max_ms,
        duration_p99_ms: evidence.duration_p99_ms,
        timeouts: Some(evidence.timeouts),
        compute_cost_usd: evidence.compute_cost_usd,
    };
    doc.recommendations = recommend(evidence, (status, info))
        .into_iter()
        .map(|r| RecommendationEntry {
            kind: r.kind.into(),
            message: r.reason,
            suggested_memory_mb: r.suggested_memory_mb,
            suggested_timeout_s: r.suggested_timeout_s,
            evidence: shown.clone(),
        })
        .collect();
    doc.recommendation_kinds = doc.recommendations.iter().map(|r| r.kind.clone()).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::test_support::{function, t};

    fn metric(invocations: u64, avg: f64, max: f64) -> MetricDocument {
        serde_json::from_value(serde_json::json!({
            "@timestamp": "2026-11-26T15:05:00Z", "period_seconds": 300, "account_id": "111122223333",
            "region": "us-east-1", "function_name": "f", "function_arn": "a", "invocations": invocations,
            "errors": 0, "throttles": 0, "error_rate": 0.0, "duration_avg_ms": avg, "duration_max_ms": max,
            "duration_p99_ms": max, "collected_at": "2026-11-26T16:00:00Z"
        }))
        .unwrap()
    }

    fn us_east(name: &str, arch: &str) -> FunctionRecord {
        let mut f = function(name);
        f.region = "us-east-1".into();
        f.architecture = Some(arch.into());
        f.memory_mb = Some(512);
        f.timeout_s = Some(3);
        f
    }

    /// Ten invocations, one cold start, one timeout: the stats a REPORT query returns.
    fn stats() -> LogPeriodStats {
        LogPeriodStats {
            reports: 10,
            duration_max_ms: Some(3000.0),
            duration_p99_ms: Some(3000.0),
            billed_duration_ms_sum: 4000.0,
            billed_mb_ms_sum: 4000.0 * 512.0,
            billed_restore_duration_ms_sum: 0.0,
            billed_restore_mb_ms_sum: 0.0,
            memory_size_mb: Some(512.0),
            max_memory_used_mb: Some(128.0),
            inits: 1,
            init_duration_avg_ms: Some(250.0),
            init_duration_max_ms: Some(250.0),
            restores: 0,
            restore_duration_max_ms: None,
            status_timeouts: 1,
            task_timeouts: 1,
        }
    }

    #[test]
    fn logs_read_give_report_numbers_and_a_billed_cost() {
        let f = us_east("f", "x86_64");
        let mut doc = metric(10, 400.0, 3000.0);
        let s = stats();
        apply_logs_and_cost(
            &mut doc,
            &f,
            &t("2026-11-26T15:05:00Z"),
            PeriodLogs::Read(Some(&s)),
            &PriceTable::shipped(),
        );
        assert_eq!(doc.cold_starts, Some(1));
        assert_eq!(doc.cold_start_rate, Some(0.1));
        assert_eq!(
            doc.timeouts,
            Some(1),
            "a REPORT status and a Task timed out line are one timeout"
        );
        assert_eq!(doc.memory_utilization, Some(0.25));
        assert_eq!(doc.timeout_proximity_max, Some(1.0));
        assert_eq!(doc.cost_basis.as_deref(), Some("billed"));
        assert_eq!(doc.billed_duration_ms_sum, Some(4000));
        let gb_s = 4000.0 * 512.0 / 1024.0 / 1000.0;
        assert!((doc.gb_seconds.unwrap() - gb_s).abs() < 1e-12);
        let expected = 10.0 * 0.2 / 1e6 + gb_s * 0.0000166667;
        assert!(
            (doc.cost_usd.unwrap() - expected).abs() / expected < 1e-6,
            "{:?}",
            doc.cost_usd
        );
        assert_eq!(doc.logs_source.as_deref(), Some("logs_insights"));
    }

    #[test]
    fn logs_not_read_leave_log_fields_null_and_estimate_the_cost_with_init() {
        let f = us_east("f", "arm64");
        let mut doc = metric(10, 400.0, 900.0);
        apply_logs_and_cost(
            &mut doc,
            &f,
            &t("2026-11-26T15:05:00Z"),
            PeriodLogs::NotRead,
            &PriceTable::shipped(),
        );
        assert!(
            doc.cold_starts.is_none() && doc.max_memory_used_mb.is_none() && doc.timeouts.is_none()
        );
        assert!(doc.logs_source.is_none() && doc.billed_duration_ms_sum.is_none());
        assert_eq!(doc.cost_basis.as_deref(), Some("estimated"));
        assert!((doc.gb_seconds.unwrap() - 4000.0 * 512.0 / 1024.0 / 1000.0).abs() < 1e-12);
        assert_eq!(doc.timeout_proximity_max, Some(0.3));
        // REPORTs missing for some invocations: billed sums would understate, so estimate,
        // adding the init durations (billed since 2025-08-01).
        let mut doc = metric(20, 400.0, 900.0);
        // REPORT durations within CloudWatch's maximum (else withheld, see report_check).
        let s = LogPeriodStats { duration_max_ms: Some(900.0), duration_p99_ms: Some(900.0), ..stats() };
        apply_logs_and_cost(
            &mut doc,
            &f,
            &t("2026-11-26T15:05:00Z"),
            PeriodLogs::Read(Some(&s)),
            &PriceTable::shipped(),
        );
        assert_eq!(doc.cost_basis.as_deref(), Some("estimated"));
        assert!(
            (doc.gb_seconds.unwrap() - (8000.0 + 250.0) * 512.0 / 1024.0 / 1000.0).abs() < 1e-12
        );
    }

    #[test]
    fn snapstart_billed_restore_time_is_charged_and_restores_are_cold_starts() {
        // java21 with SnapStart, 512 MB: 10 REPORTs, 2 after a restore whose Billed Restore
        // Duration (213 + 190 ms) AWS charges on top of the handler's 4,000 billed ms.
        let mut f = us_east("snap", "x86_64");
        f.runtime = Some("java21".into());
        let s = LogPeriodStats {
            inits: 0,
            init_duration_avg_ms: None,
            init_duration_max_ms: None,
            restores: 2,
            restore_duration_max_ms: Some(460.12),
            billed_restore_duration_ms_sum: 403.0,
            billed_restore_mb_ms_sum: 403.0 * 512.0,
            ..stats()
        };
        let mut doc = metric(10, 400.0, 3000.0);
        apply_logs_and_cost(&mut doc, &f, &t("2026-11-26T15:05:00Z"), PeriodLogs::Read(Some(&s)), &PriceTable::shipped());
        assert_eq!(doc.billed_duration_ms_sum, Some(4403));
        let gb_s = 4403.0 * 512.0 / 1024.0 / 1000.0;
        assert!((doc.gb_seconds.unwrap() - gb_s).abs() < 1e-12, "{:?}", doc.gb_seconds);
        let before = 4000.0 * 512.0 / 1024.0 / 1000.0; // what Billed Duration alone gave
        assert!((doc.compute_cost_usd.unwrap() / (before * 0.0000166667) - 1.10075).abs() < 1e-9);
        assert_eq!((doc.cold_starts, doc.snapstart_restores, doc.init_duration_max_ms), (Some(2), Some(2), None));
        assert_eq!(doc.logs_withheld_reason, None);
    }

    #[test]
    fn report_records_that_disagree_with_cloudwatch_are_withheld_with_the_reason() {
        let f = us_east("forger", "x86_64");
        // The case: one printed line in one minute, a 5 s "cold start" at 10,240 MB.
        let forged = LogPeriodStats {
            reports: 2,
            duration_max_ms: Some(5000.0),
            duration_p99_ms: Some(5000.0),
            billed_duration_ms_sum: 10_039.0,
            billed_mb_ms_sum: 10_000.0 * 10240.0 + 39.0 * 512.0,
            memory_size_mb: Some(10240.0),
            max_memory_used_mb: Some(10240.0),
            inits: 1,
            init_duration_avg_ms: Some(5000.0),
            init_duration_max_ms: Some(5000.0),
            status_timeouts: 0,
            task_timeouts: 0,
            ..stats()
        };
        for (cloudwatch_max, reason) in [
            (38.5, "report_duration_above_cloudwatch_max"),
            // a copy of a real record (same duration): the count still gives it away
            (5000.0, "reports_exceed_invocations"),
        ] {
            let mut doc = metric(1, 38.5, cloudwatch_max);
            doc.duration_p99_ms = Some(38.5);
            apply_logs_and_cost(&mut doc, &f, &t("2026-11-26T15:05:00Z"), PeriodLogs::Read(Some(&forged)), &PriceTable::shipped());
            assert_eq!(doc.logs_withheld_reason.as_deref(), Some(reason));
            assert_eq!((doc.cold_starts, doc.init_duration_max_ms, doc.snapstart_restores), (None, None, None));
            assert_eq!((doc.max_memory_used_mb, doc.memory_utilization, doc.timeouts), (None, None, None));
            assert_eq!((doc.billed_duration_ms_sum, doc.logs_source.as_deref()), (None, None));
            assert_eq!(doc.cost_basis.as_deref(), Some("estimated"));
            // invocations x average Duration x 512 MB, never the forged 10,240 MB x 10 s
            assert!((doc.gb_seconds.unwrap() - 38.5 * 512.0 / 1024.0 / 1000.0).abs() < 1e-12);
            assert_eq!(doc.timeout_proximity_p99, Some(38.5 / 3000.0), "CloudWatch's numbers stay");
        }
        // Records that agree: nothing withheld, the reason null.
        let mut doc = metric(10, 400.0, 3000.0);
        let s = stats();
        apply_logs_and_cost(&mut doc, &f, &t("2026-11-26T15:05:00Z"), PeriodLogs::Read(Some(&s)), &PriceTable::shipped());
        assert_eq!((doc.logs_withheld_reason, doc.cold_starts), (None, Some(1)));
    }

    #[test]
    fn a_period_without_report_records_counts_zero_cold_starts() {
        let f = us_east("f", "x86_64");
        let mut doc = metric(0, f64::NAN, f64::NAN);
        doc.duration_avg_ms = None;
        doc.duration_max_ms = None;
        doc.duration_p99_ms = None;
        apply_logs_and_cost(
            &mut doc,
            &f,
            &t("2026-11-26T15:05:00Z"),
            PeriodLogs::Read(None),
            &PriceTable::shipped(),
        );
        assert_eq!(doc.cold_starts, Some(0));
        assert_eq!(
            doc.cold_start_rate, None,
            "no invocations: no rate, never NaN"
        );
        assert_eq!(doc.timeout_proximity_max, None);
        assert_eq!(doc.cost_usd, Some(0.0));
    }

    #[test]
    fn inventory_gets_runtime_status_and_recommendations_with_evidence() {
        let mut f = us_east("f", "x86_64");
        f.runtime = Some("python3.9".into());
        f.memory_mb = Some(1024);
        let docs: Vec<MetricDocument> = (0..6)
            .map(|_| {
                let mut d = metric(10, 400.0, 2900.0);
                let s = LogPeriodStats { duration_max_ms: Some(2900.0), duration_p99_ms: Some(2900.0), ..stats() };
                apply_logs_and_cost(
                    &mut d,
                    &f,
                    &t("2026-11-26T15:05:00Z"),
                    PeriodLogs::Read(Some(&s)),
                    &PriceTable::shipped(),
                );
                d
            })
            .collect();
        let refs: Vec<&MetricDocument> = docs.iter().collect();
        let evidence = window_evidence(&f, "2026-11-26T15:00:00Z", "2026-11-26T16:00:00Z", &refs);
        assert_eq!(evidence.invocations, 60);
        assert_eq!(evidence.timeouts, 6);
        let mut inv: InventoryDocument = serde_json::from_value(serde_json::json!({
            "@timestamp": "2026-11-26T16:00:00Z", "collected_at": "2026-11-26T16:00:00Z", "account_id": "1",
            "region": "us-east-1", "function_name": "f", "function_arn": "a", "runtime": "python3.9",
            "memory_mb": 1024, "timeout_s": 3, "architecture": "x86_64", "package_type": "Zip",
            "last_modified": null, "code_size_bytes": null
        }))
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        apply_runtime_and_recommendations(
            &mut inv,
            &f,
            &RuntimeTable::shipped(),
            today,
            180,
            &evidence,
        );
        assert_eq!(inv.runtime_status.as_deref(), Some("deprecated"));
        assert_eq!(inv.runtime_deprecation_date.as_deref(), Some("2025-12-15"));
        assert!(inv.runtime_days_to_deprecation.unwrap() < 0);
        for kind in ["memory_decrease", "timeout_at_risk", "runtime_upgrade"] {
            assert!(
                inv.recommendation_kinds.iter().any(|k| k == kind),
                "{kind} in {:?}",
                inv.recommendation_kinds
            );
        }
        assert_eq!(inv.recommendations.len(), inv.recommendation_kinds.len());
        assert_eq!(inv.recommendations[0].evidence.invocations, 60);
        assert_eq!(
            inv.recommendations[0].evidence.memory_utilization,
            Some(0.125)
        );
    }
}
