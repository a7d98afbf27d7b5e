//! Deploy-aware regressions: did a function get worse after a recorded change
//! ([`lfm_schema::alerts::DeploymentDocument`])? Pure statistics on the metrics documents of the
//! periods before and after it; the alert engine reads those documents and calls [`judge`].
//!
//! Per metric (method and thresholds: `docs/guides/regressions.md`):
//! - `error_rate`, `cold_start_rate`: proportions. Pooled counts per side, two-proportion
//!   z-test with the variance inflated by the over-dispersion of the per-period counts
//!   ([`stats::overdispersion`], floor 1): real functions' error counts vary more from period
//!   to period than a binomial allows, and a plain z-test would call that variation a change.
//! - `duration_p99_ms`, `cost_per_invocation_usd` (`cost_usd / invocations`): one value per
//!   period, Mann-Whitney U ([`stats::mann_whitney`]): no distribution assumed, one bad
//!   period cannot decide alone.
//!
//! One-sided at [`ALPHA`] in each direction, and a change must also exceed the metric's
//! [`MinimumEffect`] (relative and absolute) to count. Minimum samples on each side:
//! [`MIN_PERIODS`] periods with invocations, and [`MIN_INVOCATIONS`] invocations for the
//! proportions.

pub mod stats;

use chrono::{DateTime, TimeDelta, Utc};
use lfm_schema::alerts::{regression_metric, verdict, DeploymentComparison};

/// Periods compared on each side of a change (W).
pub const REGRESSION_WINDOW_PERIODS: usize = 12;
/// One-sided significance level of each test (a worsening; an improvement).
pub const ALPHA: f64 = 0.001;
/// Periods with invocations (and a value of the metric) needed on each side.
pub const MIN_PERIODS: usize = 6;
/// Invocations needed on each side for the proportions.
pub const MIN_INVOCATIONS: u64 = 100;

pub const TEST_PROPORTION: &str = "two_proportion_z_overdispersed";
pub const TEST_MANN_WHITNEY: &str = "mann_whitney_u";

/// One period of one function, from its metrics document.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodSample {
    pub start: DateTime<Utc>,
    pub invocations: u64,
    pub errors: u64,
    pub cold_starts: Option<u64>,
    pub duration_p99_ms: Option<f64>,
    pub cost_usd: Option<f64>,
}

/// The outcome of [`judge`].
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// [`lfm_schema::alerts::verdict`]: regressed, improved, unchanged or insufficient_data.
    pub verdict: String,
    pub comparisons: Vec<DeploymentComparison>,
    /// "error rate 0.4% -> 6.1%; p99 duration 120 ms -> 480 ms".
    pub summary: String,
}

/// How large a change must be, besides significant, to count: both
/// `|after - before| >= absolute` and `larger >= smaller * (1 + relative)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinimumEffect {
    pub relative: f64,
    pub absolute: f64,
}

/// The minimum effect of each metric (why these values: `docs/guides/regressions.md`).
pub fn minimum_effect(metric: &str) -> MinimumEffect {
    match metric {
        // Half a percentage point, and half as much again: 0.4% -> 0.9%, 10% -> 15%.
        regression_metric::ERROR_RATE => MinimumEffect { relative: 0.5, absolute: 0.005 },
        // A deployment itself starts fresh environments: two points, half as much again.
        regression_metric::COLD_START_RATE => MinimumEffect { relative: 0.5, absolute: 0.02 },
        // 20% and 10 ms: below that a p99 moves with the traffic mix.
        regression_metric::DURATION_P99_MS => MinimumEffect { relative: 0.2, absolute: 10.0 },
        // 20% and $0.10 per million invocations.
        _ => MinimumEffect { relative: 0.2, absolute: 1e-7 },
    }
}

/// Splits the periods of a function around a change made at `changed_at`: before = the
/// [`REGRESSION_WINDOW_PERIODS`] periods that end at or before it, after = the ones that start at
/// or after it. The period the change falls inside ran both versions and belongs to neither.
pub fn split(samples: &[PeriodSample], changed_at: DateTime<Utc>, period_seconds: u32) -> (Vec<PeriodSample>, Vec<PeriodSample>) {
    let period = TimeDelta::seconds(i64::from(period_seconds.max(1)));
    let span = period * REGRESSION_WINDOW_PERIODS as i32;
    let (first_after, last_before_end) = after_window_start(changed_at, period_seconds);
    let before = samples.iter().filter(|s| s.start + period <= last_before_end && s.start >= last_before_end - span);
    let after = samples.iter().filter(|s| s.start >= first_after && s.start < first_after + span);
    (before.cloned().collect(), after.cloned().collect())
}

/// When the after window is over: the end of its last period (the engine passes
/// `now >= this` as `after_window_over`).
pub fn after_window_end(changed_at: DateTime<Utc>, period_seconds: u32) -> DateTime<Utc> {
    let period = TimeDelta::seconds(i64::from(period_seconds.max(1)));
    after_window_start(changed_at, period_seconds).0 + period * REGRESSION_WINDOW_PERIODS as i32
}

/// (start of the first period wholly after the change, end of the last wholly before it).
fn after_window_start(changed_at: DateTime<Utc>, period_seconds: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let p = i64::from(period_seconds.max(1));
    let t = changed_at.timestamp();
    let floor = t - t.rem_euclid(p);
    let boundary = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or(changed_at);
    let exactly_on_boundary = floor == t && changed_at.timestamp_subsec_nanos() == 0;
    if exactly_on_boundary {
        (boundary(t), boundary(t))
    } else {
        (boundary(floor + p), boundary(floor))
    }
}

/// Compares `after` with `before` on `metrics` (empty: all four). `None` while a metric has
/// its minimum samples before the change but not yet after it and the after window is not over
/// (the engine asks again next run). A metric whose before side lacks the minimum is
/// insufficient_data at once: the before side cannot grow. Periods beyond
/// [`REGRESSION_WINDOW_PERIODS`] x `period_seconds` from the change are ignored (the latest
/// before, the earliest after).
pub fn judge(
    before: &[PeriodSample],
    after: &[PeriodSample],
    metrics: &[String],
    period_seconds: u32,
    after_window_over: bool,
) -> Option<Judgement> {
    let before = window(before, period_seconds, Side::Before);
    let after = window(after, period_seconds, Side::After);
    let wanted: Vec<&str> = if metrics.is_empty() {
        regression_metric::ALL.to_vec()
    } else {
        regression_metric::ALL.iter().copied().filter(|m| metrics.iter().any(|w| w == m)).collect()
    };
    let mut comparisons = Vec::new();
    for metric in wanted {
        let comparison = compare(metric, &before, &after);
        let waiting = comparison.verdict == verdict::INSUFFICIENT_DATA && comparison.before_ready && !after_window_over;
        if waiting {
            return None;
        }
        comparisons.push(comparison);
    }
    let any = |v: &str| comparisons.iter().any(|c| c.verdict == v);
    let overall = if any(verdict::REGRESSED) {
        verdict::REGRESSED
    } else if any(verdict::IMPROVED) {
        verdict::IMPROVED
    } else if any(verdict::UNCHANGED) {
        verdict::UNCHANGED
    } else {
        verdict::INSUFFICIENT_DATA
    };
    let summary = summary(overall, &comparisons);
    Some(Judgement {
        verdict: overall.to_string(),
        comparisons: comparisons.into_iter().map(|c| c.document).collect(),
        summary,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Before,
    After,
}

/// The samples of one side within W periods of the change, in time order.
fn window(samples: &[PeriodSample], period_seconds: u32, side: Side) -> Vec<PeriodSample> {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.start);
    let span = TimeDelta::seconds(i64::from(period_seconds.max(1))) * REGRESSION_WINDOW_PERIODS as i32;
    match (side, sorted.first(), sorted.last()) {
        (Side::Before, _, Some(last)) => {
            let from = last.start - span;
            sorted.into_iter().filter(|s| s.start > from).collect()
        }
        (Side::After, Some(first), _) => {
            let until = first.start + span;
            sorted.into_iter().filter(|s| s.start < until).collect()
        }
        _ => Vec::new(),
    }
}

/// One metric's comparison, and whether its before side had the minimum samples.
struct Compared {
    document: DeploymentComparison,
    verdict: &'static str,
    before_ready: bool,
}

fn compare(metric: &'static str, before: &[PeriodSample], after: &[PeriodSample]) -> Compared {
    match metric {
        regression_metric::ERROR_RATE => compare_proportion(metric, before, after, |s| Some(s.errors)),
        regression_metric::COLD_START_RATE => compare_proportion(metric, before, after, |s| s.cold_starts),
        regression_metric::DURATION_P99_MS => compare_values(metric, before, after, |s| s.duration_p99_ms),
        _ => compare_values(metric, before, after, |s| s.cost_usd.map(|c| c / s.invocations as f64)),
    }
}

/// (successes, invocations) of the periods with invocations and a count.
fn counts(samples: &[PeriodSample], count: impl Fn(&PeriodSample) -> Option<u64>) -> Vec<(u64, u64)> {
    samples.iter().filter(|s| s.invocations > 0).filter_map(|s| Some((count(s)?.min(s.invocations), s.invocations))).collect()
}

fn compare_proportion(
    metric: &'static str,
    before: &[PeriodSample],
    after: &[PeriodSample],
    count: impl Fn(&PeriodSample) -> Option<u64>,
) -> Compared {
    let (b, a) = (counts(before, &count), counts(after, &count));
    let pooled = |c: &[(u64, u64)]| c.iter().fold((0, 0), |(x, n), (cx, cn)| (x + cx, n + cn));
    let ((xb, nb), (xa, na)) = (pooled(&b), pooled(&a));
    let rate = |x: u64, n: u64| (n > 0).then(|| x as f64 / n as f64);
    let enough = |c: &[(u64, u64)], n: u64| c.len() >= MIN_PERIODS && n >= MIN_INVOCATIONS;
    let (before_ready, after_ready) = (enough(&b, nb), enough(&a, na));
    let tails = (before_ready && after_ready).then(|| stats::two_proportion_z((xb, nb), (xa, na), stats::overdispersion_within(&[&b, &a])).1);
    decide(metric, TEST_PROPORTION, (rate(xb, nb), rate(xa, na)), (b.len(), a.len()), tails, before_ready)
}

fn compare_values(
    metric: &'static str,
    before: &[PeriodSample],
    after: &[PeriodSample],
    value: impl Fn(&PeriodSample) -> Option<f64>,
) -> Compared {
    let values = |side: &[PeriodSample]| -> Vec<f64> {
        side.iter().filter(|s| s.invocations > 0).filter_map(&value).filter(|v| v.is_finite()).collect()
    };
    let (b, a) = (values(before), values(after));
    let (before_ready, after_ready) = (b.len() >= MIN_PERIODS, a.len() >= MIN_PERIODS);
    let tails = (before_ready && after_ready).then(|| stats::mann_whitney(&b, &a).1);
    decide(metric, TEST_MANN_WHITNEY, (stats::median(&b), stats::median(&a)), (b.len(), a.len()), tails, before_ready)
}

/// The verdict of one metric from its tails (`None`: not enough samples) and effect size.
/// Every metric here is worse when it grows.
fn decide(
    metric: &'static str,
    test: &str,
    (before, after): (Option<f64>, Option<f64>),
    (before_samples, after_samples): (usize, usize),
    tails: Option<stats::Tails>,
    before_ready: bool,
) -> Compared {
    let effect = minimum_effect(metric);
    let exceeds = |small: f64, large: f64| large - small >= effect.absolute && large >= small * (1.0 + effect.relative);
    let (verdict, p_value) = match (tails, before, after) {
        (Some(t), Some(b), Some(a)) => {
            if t.greater < ALPHA && exceeds(b, a) {
                (verdict::REGRESSED, Some(t.greater))
            } else if t.less < ALPHA && exceeds(a, b) {
                (verdict::IMPROVED, Some(t.less))
            } else {
                (verdict::UNCHANGED, Some(if a >= b { t.greater } else { t.less }))
            }
        }
        _ => (verdict::INSUFFICIENT_DATA, None),
    };
    Compared {
        document: DeploymentComparison {
            metric: metric.to_string(),
            before,
            after,
            p_value,
            verdict: verdict.to_string(),
            test: test.to_string(),
            before_samples: before_samples as u64,
            after_samples: after_samples as u64,
        },
        verdict,
        before_ready,
    }
}

/// The summary sentence: the metrics that decided the verdict, "before -> after".
fn summary(overall: &str, comparisons: &[Compared]) -> String {
    let of = |v: &str| -> Vec<String> { comparisons.iter().filter(|c| c.verdict == v).filter_map(|c| describe(&c.document)).collect() };
    match overall {
        verdict::REGRESSED | verdict::IMPROVED => of(overall).join("; "),
        verdict::UNCHANGED => format!("no significant change: {}", of(verdict::UNCHANGED).join("; ")),
        _ => format!(
            "not enough data to compare: each side needs {MIN_PERIODS} periods with invocations \
             ({MIN_INVOCATIONS} invocations for the rates) within {REGRESSION_WINDOW_PERIODS} periods of the change"
        ),
    }
}

/// "error rate 0.4% -> 6.1%".
fn describe(c: &DeploymentComparison) -> Option<String> {
    let (b, a) = (c.before?, c.after?);
    Some(match c.metric.as_str() {
        regression_metric::ERROR_RATE => format!("error rate {} -> {}", percent(b), percent(a)),
        regression_metric::COLD_START_RATE => format!("cold-start rate {} -> {}", percent(b), percent(a)),
        regression_metric::DURATION_P99_MS => format!("p99 duration {} -> {}", millis(b), millis(a)),
        _ => format!("cost per 1M invocations ${:.2} -> ${:.2}", b * 1e6, a * 1e6),
    })
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p > 0.0 && p < 0.1 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests;
