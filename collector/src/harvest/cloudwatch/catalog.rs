//! Which `AWS/Lambda` metrics exist, per function, from `cloudwatch:ListMetrics`.
//!
//! One paged ListMetrics pass over the namespace (filtered to metrics with a `FunctionName`
//! dimension) tells, for every function, which metrics were published: a function with none
//! was idle and costs no GetMetricData query, and the metrics that apply only to some
//! functions (provisioned concurrency, streams, async invocations, destinations) are asked
//! for only where they exist. ListMetrics is billed per request (pages of 500 metrics),
//! GetMetricData per metric requested, so listing first is the cheaper way for any fleet.
//!
//! What ListMetrics can see depends on the window's age ([`ListingScope`]):
//! - `RecentlyActive=PT3H` lists metrics with data published in the last three hours (AWS:
//!   an approximation that may include metrics up to ~50 minutes older, never fewer);
//! - without it, metrics with data in the last two weeks;
//! - a window older than that cannot be listed: every function is queried for every metric.
//!
//! AWS lists a new metric up to 15 minutes after its first datapoint: a function invoked for
//! the very first time minutes before the run may be missed until the next run.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_cloudwatch::types::{DimensionFilter, RecentlyActive};
use chrono::{DateTime, TimeDelta, Utc};

use super::{FUNCTION_DIMENSION, NAMESPACE};
use crate::aws_error::{describe, with_advice};
use crate::config::Window;
use crate::metering::{actions, ApiCallCounter};

/// Dimension of the per-version and per-alias metrics (`my-function:live`, `my-function:7`).
pub const RESOURCE_DIMENSION: &str = "Resource";
/// How far back `RecentlyActive=PT3H` looks, and how far back plain ListMetrics looks.
const RECENTLY_ACTIVE: TimeDelta = TimeDelta::hours(3);
const LISTING_HORIZON: TimeDelta = TimeDelta::days(14);

/// What ListMetrics can tell about a window, given when we ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingScope {
    /// The window starts within the last three hours: list with `RecentlyActive=PT3H`.
    RecentlyActive,
    /// The window starts within the last two weeks: plain ListMetrics.
    LastTwoWeeks,
    /// Older: ListMetrics no longer lists metrics without recent data; do not list.
    Unavailable,
}

pub fn listing_scope(window: &Window, now: DateTime<Utc>) -> ListingScope {
    if window.start >= now - RECENTLY_ACTIVE {
        ListingScope::RecentlyActive
    } else if window.start >= now - LISTING_HORIZON {
        ListingScope::LastTwoWeeks
    } else {
        ListingScope::Unavailable
    }
}

/// One listed metric: its name and dimensions, as ListMetrics returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMetric {
    pub metric_name: String,
    pub dimensions: Vec<(String, String)>,
}

impl ListedMetric {
    pub fn new(metric_name: &str, dimensions: &[(&str, &str)]) -> Self {
        Self {
            metric_name: metric_name.into(),
            dimensions: dimensions.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        }
    }
}

/// The metrics published by one function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionMetrics {
    /// Metric names with the dimension set `{FunctionName}` (all versions and aliases).
    pub function_level: BTreeSet<String>,
    /// Metric name -> `Resource` values with the dimension set `{FunctionName, Resource}`.
    pub by_resource: BTreeMap<String, BTreeSet<String>>,
}

impl FunctionMetrics {
    /// Where `metric_name` can be read for this function: the function-level series if it
    /// exists (it already covers every version and alias), else one series per resource.
    pub fn series_of(&self, metric_name: &str) -> MetricSeries {
        if self.function_level.contains(metric_name) {
            MetricSeries::FunctionLevel
        } else {
            match self.by_resource.get(metric_name) {
                Some(resources) if !resources.is_empty() => MetricSeries::PerResource(resources.iter().cloned().collect()),
                _ => MetricSeries::Absent,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricSeries {
    FunctionLevel,
    PerResource(Vec<String>),
    Absent,
}

/// The listed metrics of one account and region, by function name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricCatalog {
    functions: HashMap<String, FunctionMetrics>,
}

impl MetricCatalog {
    /// Metrics with other dimension sets (`ExecutedVersion`, none) are not per function: skipped.
    pub fn from_listed(metrics: impl IntoIterator<Item = ListedMetric>) -> Self {
        let mut functions: HashMap<String, FunctionMetrics> = HashMap::new();
        for metric in metrics {
            let value_of = |name: &str| metric.dimensions.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let Some(function) = value_of(FUNCTION_DIMENSION) else { continue };
            let entry = functions.entry(function).or_default();
            match (metric.dimensions.len(), value_of(RESOURCE_DIMENSION)) {
                (1, _) => {
                    entry.function_level.insert(metric.metric_name);
                }
                (2, Some(resource)) => {
                    entry.by_resource.entry(metric.metric_name).or_default().insert(resource);
                }
                _ => {}
            }
        }
        Self { functions }
    }

    /// True when the function published any metric in the listed span.
    pub fn is_active(&self, function_name: &str) -> bool {
        self.functions
            .get(function_name)
            .is_some_and(|m| !m.function_level.is_empty() || !m.by_resource.is_empty())
    }

    pub fn function(&self, function_name: &str) -> Option<&FunctionMetrics> {
        self.functions.get(function_name)
    }
}

/// Lists every `AWS/Lambda` metric with a `FunctionName` dimension, all pages.
pub async fn list_lambda_metrics(
    client: &aws_sdk_cloudwatch::Client,
    scope: ListingScope,
    calls: &ApiCallCounter,
) -> Result<Vec<ListedMetric>, String> {
    list_metrics(client, NAMESPACE, None, FUNCTION_DIMENSION, scope, calls).await
}

/// Lists the metrics of `namespace` (only `metric_name` if given) that have a `dimension`
/// dimension, all pages.
pub async fn list_metrics(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric_name: Option<&str>,
    dimension: &str,
    scope: ListingScope,
    calls: &ApiCallCounter,
) -> Result<Vec<ListedMetric>, String> {
    let mut listed = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        calls.record(actions::CLOUDWATCH_LIST_METRICS);
        let mut request = client
            .list_metrics()
            .namespace(namespace)
            .set_metric_name(metric_name.map(str::to_string))
            .dimensions(DimensionFilter::builder().name(dimension).build())
            .set_next_token(next_token.clone());
        if scope == ListingScope::RecentlyActive {
            request = request.recently_active(RecentlyActive::Pt3H);
        }
        let region = client.config().region().map(|r| r.as_ref().to_string());
        let page = request.send().await.map_err(|e| with_advice(&describe(e, region.as_deref()), crate::harvest::LIST_METRICS_ADVICE))?;
        listed.extend(page.metrics().iter().map(|m| ListedMetric {
            metric_name: m.metric_name().unwrap_or_default().to_string(),
            dimensions: m
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
                .collect(),
        }));
        match page.next_token().filter(|t| !t.is_empty()) {
            None => break,
            Some(token) if next_token.as_deref() == Some(token) => {
                return Err(format!("CloudWatch ListMetrics returned the same NextToken '{token}' twice; stopping to avoid an endless loop"));
            }
            Some(token) => next_token = Some(token.to_string()),
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn hour_window(start: &str) -> Window {
        Window::new(t(start), t(start) + TimeDelta::hours(1), 300).unwrap()
    }

    #[test]
    fn scope_follows_the_age_of_the_window_start() {
        let now = t("2026-11-26T16:20:00Z");
        assert_eq!(listing_scope(&hour_window("2026-11-26T15:00:00Z"), now), ListingScope::RecentlyActive);
        assert_eq!(listing_scope(&hour_window("2026-11-26T13:20:00Z"), now), ListingScope::RecentlyActive);
        assert_eq!(listing_scope(&hour_window("2026-11-26T13:15:00Z"), now), ListingScope::LastTwoWeeks);
        assert_eq!(listing_scope(&hour_window("2026-11-12T17:00:00Z"), now), ListingScope::LastTwoWeeks);
        assert_eq!(listing_scope(&hour_window("2026-11-12T16:00:00Z"), now), ListingScope::Unavailable);
    }

    #[test]
    fn catalog_by_function_level_and_resource() {
        let catalog = MetricCatalog::from_listed([
            ListedMetric::new("Invocations", &[("FunctionName", "orders")]),
            ListedMetric::new("IteratorAge", &[("FunctionName", "orders")]),
            ListedMetric::new("Invocations", &[("FunctionName", "orders"), ("Resource", "orders:live")]),
            ListedMetric::new("ProvisionedConcurrencyUtilization", &[("Resource", "orders:live"), ("FunctionName", "orders")]),
            ListedMetric::new("ProvisionedConcurrencyUtilization", &[("FunctionName", "orders"), ("Resource", "orders:7")]),
            ListedMetric::new(
                "Invocations",
                &[("FunctionName", "orders"), ("Resource", "orders:live"), ("ExecutedVersion", "7")],
            ),
            ListedMetric::new("Throttles", &[("FunctionName", "throttled-only")]),
            ListedMetric::new("ConcurrentExecutions", &[]),
        ]);
        assert!(catalog.is_active("orders"));
        assert!(catalog.is_active("throttled-only"));
        assert!(!catalog.is_active("idle"));
        let orders = catalog.function("orders").unwrap();
        assert_eq!(orders.series_of("IteratorAge"), MetricSeries::FunctionLevel);
        assert_eq!(orders.series_of("Invocations"), MetricSeries::FunctionLevel, "the function level wins over aliases");
        assert_eq!(
            orders.series_of("ProvisionedConcurrencyUtilization"),
            MetricSeries::PerResource(vec!["orders:7".into(), "orders:live".into()])
        );
        assert_eq!(orders.series_of("DeadLetterErrors"), MetricSeries::Absent);
    }
}
