//! The engine's one call into the regression statistics (`crate::derive::regression::judge`,
//! written by the regressions helper): converts the engine's period samples and the verdict.
//! Part of [`crate::alert`].

use lfm_schema::alerts::DeploymentComparison;

/// Periods compared on each side of a change (`derive::regression::REGRESSION_WINDOW_PERIODS`).
pub const WINDOW_PERIODS: usize = 12;

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

/// `None` while either side lacks its minimum samples and the after window is not over.
pub fn judge(before: &[Sample], after: &[Sample], metrics: &[String], period_seconds: u32, after_window_over: bool) -> Option<Verdict> {
    // Until derive::regression is merged: no verdict (deployments stay pending).
    let _ = (before, after, metrics, period_seconds, after_window_over);
    None
}
