//! Which CloudWatch statistics LFM harvests: [`MetricSpec`] (one statistic of one metric, for
//! which functions it is asked, how per-alias series combine) and the `AWS/Lambda` list
//! [`LAMBDA_METRICS`]. The Lambda Insights statistics ([`super::lambda_insights`]) use the same
//! type; the query planner ([`super::plan`]) turns both into GetMetricData queries.

use super::{FUNCTION_DIMENSION, NAMESPACE};
use crate::harvest::MetricKey;

/// For which active functions a statistic is queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every active function publishes the metric.
    Always,
    /// Only functions with the feature (provisioned concurrency, a stream trigger, async
    /// invocations, a dead-letter queue, destinations) publish it: ask only where listed.
    WhenListed,
}

/// How two series of one statistic (one per alias or version) combine into the function's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Sum,
    Max,
}

/// One statistic of one CloudWatch metric, and the suffix of its query ids.
#[derive(Debug, PartialEq, Eq)]
pub struct MetricSpec {
    pub key: MetricKey,
    /// `AWS/Lambda`, or `LambdaInsights` ([`super::lambda_insights`]).
    pub namespace: &'static str,
    /// The dimension naming the function: `FunctionName`, or `function_name` in LambdaInsights.
    pub function_dimension: &'static str,
    pub metric_name: &'static str,
    pub stat: &'static str,
    pub id_suffix: &'static str,
    pub applies: Applies,
    pub combine: Combine,
}

const fn spec(
    key: MetricKey,
    metric_name: &'static str,
    stat: &'static str,
    id_suffix: &'static str,
    applies: Applies,
) -> MetricSpec {
    let combine = match stat.as_bytes() {
        b"Sum" => Combine::Sum,
        _ => Combine::Max,
    };
    MetricSpec { key, namespace: NAMESPACE, function_dimension: FUNCTION_DIMENSION, metric_name, stat, id_suffix, applies, combine }
}

use Applies::{Always, WhenListed};
use MetricKey as K;

/// The statistics LFM harvests (AWS/Lambda metric names and the statistic AWS recommends).
pub const LAMBDA_METRICS: &[MetricSpec] = &[
    spec(K::Invocations, "Invocations", "Sum", "inv", Always),
    spec(K::Errors, "Errors", "Sum", "err", Always),
    spec(K::Throttles, "Throttles", "Sum", "thr", Always),
    spec(K::DurationAvg, "Duration", "Average", "davg", Always),
    spec(K::DurationMax, "Duration", "Maximum", "dmax", Always),
    spec(K::DurationP50, "Duration", "p50", "p50", Always),
    spec(K::DurationP90, "Duration", "p90", "p90", Always),
    spec(K::DurationP99, "Duration", "p99", "p99", Always),
    spec(K::ConcurrencyMax, "ConcurrentExecutions", "Maximum", "conc", Always),
    spec(K::ProvisionedConcurrencyUtilizationMax, "ProvisionedConcurrencyUtilization", "Maximum", "pcu", WhenListed),
    spec(K::ProvisionedConcurrencySpillover, "ProvisionedConcurrencySpilloverInvocations", "Sum", "pcs", WhenListed),
    spec(K::IteratorAgeMax, "IteratorAge", "Maximum", "iter", WhenListed),
    spec(K::AsyncEventsDropped, "AsyncEventsDropped", "Sum", "aedrop", WhenListed),
    spec(K::AsyncEventAgeMax, "AsyncEventAge", "Maximum", "aeage", WhenListed),
    spec(K::DeadLetterErrors, "DeadLetterErrors", "Sum", "dlq", WhenListed),
    spec(K::DestinationDeliveryFailures, "DestinationDeliveryFailures", "Sum", "dest", WhenListed),
];
