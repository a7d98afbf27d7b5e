//! Harvest: fetch the raw numbers for discovered functions: CloudWatch metrics
//! ([`cloudwatch`]) and server-side aggregates of REPORT log records (cold starts, memory,
//! billed duration, timeouts) from Logs Insights ([`logs_insights`]).
//!
//! Output: one [`FunctionSeries`] per function, raw datapoints keyed by [`MetricKey`]; no
//! arithmetic happens here (that is derive's job).

pub mod cloudwatch;
pub mod logs_insights;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// A statistic of a metric, as harvested. New statistics (percentiles, concurrency ...) are
/// added here and in [`cloudwatch::LAMBDA_METRICS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricKey {
    Invocations,
    Errors,
    Throttles,
    DurationAvg,
    DurationMax,
}

/// Datapoints of one function: for each statistic, value by period start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionSeries {
    pub points: BTreeMap<MetricKey, BTreeMap<DateTime<Utc>, f64>>,
}

impl FunctionSeries {
    pub fn get(&self, key: MetricKey, period_start: &DateTime<Utc>) -> Option<f64> {
        self.points.get(&key).and_then(|p| p.get(period_start)).copied()
    }

    /// Every period start at which any statistic has a datapoint, ascending.
    pub fn period_starts(&self) -> Vec<DateTime<Utc>> {
        let mut starts: Vec<_> = self.points.values().flat_map(|p| p.keys().copied()).collect();
        starts.sort();
        starts.dedup();
        starts
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error("account {account_id} region {region}: cloudwatch:GetMetricData failed: {reason}. Check that the role grants cloudwatch:GetMetricData; on throttling lower --account-concurrency")]
    GetMetricData { account_id: String, region: String, reason: String },
}
