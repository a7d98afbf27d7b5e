//! Harvest: fetch the raw numbers for discovered functions: CloudWatch metrics
//! ([`cloudwatch`]) and server-side aggregates of REPORT log records (cold starts, memory,
//! billed duration, timeouts) from Logs Insights ([`logs_insights`]).
//!
//! Output: one [`FunctionSeries`] per function, raw datapoints keyed by [`MetricKey`]; no
//! arithmetic happens here (that is derive's job).

pub mod cloudwatch;
pub mod logs_insights;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

/// A statistic of a metric, as harvested; [`cloudwatch::plan::LAMBDA_METRICS`] says which
/// CloudWatch metric and statistic each is, and for which functions it is queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricKey {
    Invocations,
    Errors,
    Throttles,
    DurationAvg,
    DurationMax,
    DurationP50,
    DurationP90,
    DurationP99,
    ConcurrencyMax,
    ProvisionedConcurrencyUtilizationMax,
    ProvisionedConcurrencySpillover,
    IteratorAgeMax,
    AsyncEventsDropped,
    AsyncEventAgeMax,
    DeadLetterErrors,
    DestinationDeliveryFailures,
    // Lambda Insights (`LambdaInsights` namespace, [`cloudwatch::lambda_insights`]), queried only for
    // functions that publish it. They add numbers to periods, never periods of their own.
    /// SampleCount of `init_duration`: one sample per cold start.
    InsightsInitCount,
    InsightsInitAvg,
    InsightsInitMax,
    /// Maximum of `used_memory_max` (MB).
    InsightsMemoryUsedMax,
    /// Maximum of `memory_utilization` (Percent, 0-100).
    InsightsMemoryUtilizationMax,
}

impl MetricKey {
    /// True for the Lambda Insights statistics.
    pub fn is_lambda_insights(self) -> bool {
        matches!(
            self,
            Self::InsightsInitCount
                | Self::InsightsInitAvg
                | Self::InsightsInitMax
                | Self::InsightsMemoryUsedMax
                | Self::InsightsMemoryUtilizationMax
        )
    }
}

/// Datapoints of one function: for each statistic, value by period start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionSeries {
    pub points: BTreeMap<MetricKey, BTreeMap<DateTime<Utc>, f64>>,
    /// The statistics that were asked for. A statistic asked for without a datapoint in a
    /// period differs from one never asked for (the function does not publish that metric).
    pub queried: BTreeSet<MetricKey>,
}

impl FunctionSeries {
    pub fn get(&self, key: MetricKey, period_start: &DateTime<Utc>) -> Option<f64> {
        self.points.get(&key).and_then(|p| p.get(period_start)).copied()
    }

    pub fn was_queried(&self, key: MetricKey) -> bool {
        self.queried.contains(&key)
    }

    /// Every period start at which any `AWS/Lambda` statistic has a datapoint, ascending
    /// (Lambda Insights datapoints describe those periods; they add none).
    pub fn period_starts(&self) -> Vec<DateTime<Utc>> {
        let mut starts: Vec<_> = self
            .points
            .iter()
            .filter(|(key, _)| !key.is_lambda_insights())
            .flat_map(|(_, p)| p.keys().copied())
            .collect();
        starts.sort();
        starts.dedup();
        starts
    }
}

/// What to check when AWS answers GetMetricData with an error (not when no answer came: the
/// sentence of [`crate::aws_error`] then says what to do).
pub const GET_METRIC_DATA_ADVICE: &str =
    "Check that the role grants cloudwatch:GetMetricData; on throttling lower --account-concurrency";
/// What to check when AWS answers ListMetrics with an error.
pub const LIST_METRICS_ADVICE: &str =
    "Check that the role grants cloudwatch:ListMetrics (re-apply the lfm_monitored_account resources after upgrading LFM)";

/// `reason`: the sentence of [`crate::aws_error`] (with the advice above when AWS answered), or
/// what was wrong with the answer.
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error("account {account_id} region {region}: cloudwatch:GetMetricData failed: {reason}")]
    GetMetricData { account_id: String, region: String, reason: String },
    #[error("account {account_id} region {region}: cloudwatch:ListMetrics failed: {reason}")]
    ListMetrics { account_id: String, region: String, reason: String },
}
