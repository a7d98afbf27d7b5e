//! The engine's one call into the regression statistics ([`crate::derive::regression::judge`]):
//! converts the engine's period samples and the verdict.
//! Part of [`crate::alert`].

use chrono::{DateTime, Utc};
use lfm_schema::alerts::DeploymentComparison;

use crate::derive::regression::{self, PeriodSample};

/// Periods compared on each side of a change (`derive::regression::REGRESSION_WINDOW_PERIODS`).
pub const WINDOW_PERIODS: usize = regression::REGRESSION_WINDOW_PERIODS;

/// One period of a function around a change (start in unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub start: i64,
    pub invocations: u64,
    pub errors: u64,
    pub cold_starts: Option<u64>,
    pub duration_p99_ms: Option<f64>,
    pub cost_usd: Option<f64>,
}

/// A verdict on a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub verdict: String,
    pub comparisons: Vec<DeploymentComparison>,
    /// "error rate 0.4% -> 6.1%".
    pub summary: String,
}

/// `None` while either side lacks its minimum samples and the after window is not over
/// (see [`regression::judge`]).
pub fn judge(before: &[Sample], after: &[Sample], metrics: &[String], period_seconds: u32, after_window_over: bool) -> Option<Verdict> {
    let convert = |samples: &[Sample]| -> Vec<PeriodSample> {
        samples
            .iter()
            .filter_map(|s| {
                Some(PeriodSample {
                    start: DateTime::<Utc>::from_timestamp(s.start, 0)?,
                    invocations: s.invocations,
                    errors: s.errors,
                    cold_starts: s.cold_starts,
                    duration_p99_ms: s.duration_p99_ms,
                    cost_usd: s.cost_usd,
                })
            })
            .collect()
    };
    let found = regression::judge(&convert(before), &convert(after), metrics, period_seconds, after_window_over)?;
    Some(Verdict { verdict: found.verdict, comparisons: found.comparisons, summary: found.summary })
}
