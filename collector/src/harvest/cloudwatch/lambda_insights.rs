//! Lambda Insights: which functions publish it, and which of its statistics LFM reads.
//!
//! A function with the Lambda Insights extension writes one embedded-metric-format event per
//! invocation, which CloudWatch turns into metrics in the `LambdaInsights` namespace with the
//! dimension sets `[function_name]` and `[function_name, version]`: `memory_utilization`
//! (Percent), `total_memory` and `used_memory_max` (Megabytes), `cpu_total_time`, `tx_bytes`,
//! `rx_bytes`, `total_network`, and `init_duration` (Milliseconds), which is present only in
//! the event of an invocation that had a cold start. Sources (read 2026-11-26):
//! "Metrics collected by Lambda Insights"
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Lambda-Insights-metrics.html>
//! and "Example telemetry event in CloudWatch Lambda Insights"
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Lambda-Insights-example-event.html>.
//!
//! So, per period and function (function-level series, all versions):
//! - cold starts = `SampleCount` of `init_duration` (one sample per cold start; a period
//!   without a cold start has no datapoint: 0);
//! - init duration average and maximum = `Average` and `Maximum` of `init_duration`;
//! - max memory used = `Maximum` of `used_memory_max`; utilisation = `Maximum` of
//!   `memory_utilization` / 100 (`used_memory_max / total_memory`, total = configured memory).
//!
//! Lambda Insights has no SnapStart restore and no timeout metric: those still come from
//! REPORT records (Logs Insights runs for every active function either way), and a SnapStart
//! restore is added to the cold starts counted here (`derive::lambda_insights`).
//!
//! Discovery: one paged `ListMetrics` per account and region (`Namespace=LambdaInsights`,
//! `MetricName=used_memory_max`, which every invocation publishes, dimension `function_name`,
//! `RecentlyActive=PT3H` for recent windows), made only when the region has active functions.
//! The [`LAMBDA_INSIGHTS_METRICS`] of the listed active functions join the same GetMetricData plan
//! as the `AWS/Lambda` ones ([`super::plan::plan_queries_with_lambda_insights`]), so calls stay at
//! `ceil(queries / 500)`. A window too old to be listed reads no Lambda Insights (REPORT
//! records still give every number).

use std::collections::BTreeSet;

use super::catalog::{list_metrics, ListedMetric, ListingScope};
use super::metrics::{Applies, Combine, MetricSpec};
use crate::harvest::MetricKey;
use crate::metering::ApiCallCounter;

pub const NAMESPACE: &str = "LambdaInsights";
pub const FUNCTION_DIMENSION: &str = "function_name";
/// The metric listed to find the functions with Lambda Insights: published on every invocation.
pub const LISTED_METRIC: &str = "used_memory_max";

const fn lambda_insights_spec(
    key: MetricKey,
    metric_name: &'static str,
    stat: &'static str,
    id_suffix: &'static str,
    combine: Combine,
) -> MetricSpec {
    MetricSpec {
        key,
        namespace: NAMESPACE,
        function_dimension: FUNCTION_DIMENSION,
        metric_name,
        stat,
        id_suffix,
        applies: Applies::WhenListed,
        combine,
    }
}

/// The Lambda Insights statistics queried for each active function that publishes them.
pub const LAMBDA_INSIGHTS_METRICS: &[MetricSpec] = &[
    lambda_insights_spec(
        MetricKey::InsightsInitCount,
        "init_duration",
        "SampleCount",
        "li_cold",
        Combine::Sum,
    ),
    lambda_insights_spec(
        MetricKey::InsightsInitAvg,
        "init_duration",
        "Average",
        "li_iavg",
        Combine::Max,
    ),
    lambda_insights_spec(
        MetricKey::InsightsInitMax,
        "init_duration",
        "Maximum",
        "li_imax",
        Combine::Max,
    ),
    lambda_insights_spec(
        MetricKey::InsightsMemoryUsedMax,
        "used_memory_max",
        "Maximum",
        "li_mem",
        Combine::Max,
    ),
    lambda_insights_spec(
        MetricKey::InsightsMemoryUtilizationMax,
        "memory_utilization",
        "Maximum",
        "li_util",
        Combine::Max,
    ),
];

/// Names of the functions with a function-level (`[function_name]` only) Lambda Insights
/// metric among `listed`; the per-version series name the same functions.
pub fn functions_with_lambda_insights(listed: impl IntoIterator<Item = ListedMetric>) -> BTreeSet<String> {
    listed
        .into_iter()
        .filter_map(|m| match m.dimensions.as_slice() {
            [(name, value)] if name == FUNCTION_DIMENSION => Some(value.clone()),
            _ => None,
        })
        .collect()
}

/// Lists the functions of one account and region that publish Lambda Insights, all pages.
pub async fn list_functions_with_lambda_insights(
    client: &aws_sdk_cloudwatch::Client,
    scope: ListingScope,
    calls: &ApiCallCounter,
) -> Result<BTreeSet<String>, String> {
    let listed = list_metrics(
        client,
        NAMESPACE,
        Some(LISTED_METRIC),
        FUNCTION_DIMENSION,
        scope,
        calls,
    )
    .await?;
    Ok(functions_with_lambda_insights(listed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::cloudwatch::catalog::MetricCatalog;
    use crate::harvest::cloudwatch::metrics::LAMBDA_METRICS;
    use crate::harvest::cloudwatch::plan::{batches, calls_at_floor, plan_queries, plan_queries_with_lambda_insights};

    /// A ListMetrics page as AWS answers it for `Namespace=LambdaInsights,
    /// MetricName=used_memory_max`: both dimension sets of the example telemetry event.
    fn listed_page() -> Vec<ListedMetric> {
        vec![
            ListedMetric::new("used_memory_max", &[("function_name", "orders-api")]),
            ListedMetric::new(
                "used_memory_max",
                &[("function_name", "orders-api"), ("version", "$LATEST")],
            ),
            ListedMetric::new(
                "used_memory_max",
                &[("function_name", "images-resize"), ("version", "7")],
            ),
            ListedMetric::new("used_memory_max", &[("function_name", "images-resize")]),
            ListedMetric::new(
                "used_memory_max",
                &[("function_name", "idle-with-insights")],
            ),
        ]
    }

    #[test]
    fn functions_are_read_from_the_function_level_series() {
        let names: Vec<String> = functions_with_lambda_insights(listed_page()).into_iter().collect();
        assert_eq!(names, ["idle-with-insights", "images-resize", "orders-api"]);
        assert!(functions_with_lambda_insights([ListedMetric::new(
            "used_memory_max",
            &[("version", "1")]
        )])
        .is_empty());
    }

    #[test]
    fn insights_statistics_follow_the_documented_metrics() {
        let got: Vec<(&str, &str, &str, &str)> = LAMBDA_INSIGHTS_METRICS
            .iter()
            .map(|s| (s.namespace, s.function_dimension, s.metric_name, s.stat))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "LambdaInsights",
                    "function_name",
                    "init_duration",
                    "SampleCount"
                ),
                (
                    "LambdaInsights",
                    "function_name",
                    "init_duration",
                    "Average"
                ),
                (
                    "LambdaInsights",
                    "function_name",
                    "init_duration",
                    "Maximum"
                ),
                (
                    "LambdaInsights",
                    "function_name",
                    "used_memory_max",
                    "Maximum"
                ),
                (
                    "LambdaInsights",
                    "function_name",
                    "memory_utilization",
                    "Maximum"
                ),
            ]
        );
        assert!(LAMBDA_METRICS
            .iter()
            .all(|s| s.namespace == "AWS/Lambda" && s.function_dimension == "FunctionName"));
    }

    #[test]
    fn only_active_functions_with_insights_get_insights_queries_in_the_same_plan() {
        let names = [
            "orders-api",
            "idle-with-insights",
            "billing-cron",
            "images-resize",
        ];
        let catalog = MetricCatalog::from_listed(
            ["orders-api", "billing-cron", "images-resize"]
                .map(|n| ListedMetric::new("Invocations", &[("FunctionName", n)])),
        );
        let insights = functions_with_lambda_insights(listed_page());
        let queries = plan_queries_with_lambda_insights(&names, Some(&catalog), &insights);
        let core = plan_queries(&names, Some(&catalog)).len();
        assert_eq!(core, 3 * 9);
        assert_eq!(
            queries.len(),
            core + 2 * LAMBDA_INSIGHTS_METRICS.len(),
            "idle-with-insights is idle: no query"
        );
        let insight_ids: Vec<&str> = queries
            .iter()
            .filter(|q| q.spec.key.is_lambda_insights())
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(
            insight_ids,
            [
                "m0_li_cold",
                "m0_li_iavg",
                "m0_li_imax",
                "m0_li_mem",
                "m0_li_util",
                "m3_li_cold",
                "m3_li_iavg",
                "m3_li_imax",
                "m3_li_mem",
                "m3_li_util"
            ]
        );
        let ids: BTreeSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids.len(), queries.len(), "ids are unique within the plan");
        assert!(queries
            .iter()
            .filter(|q| q.function_index == 2)
            .all(|q| !q.spec.key.is_lambda_insights()));
    }

    #[test]
    fn insights_queries_share_the_calls_at_the_floor() {
        // 60 active functions, every 4th with Lambda Insights: 540 + 15 * 5 = 615 queries, 2 calls.
        let names: Vec<String> = (0..60).map(|i| format!("fn-{i:03}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let catalog = MetricCatalog::from_listed(
            names
                .iter()
                .map(|n| ListedMetric::new("Invocations", &[("FunctionName", n)])),
        );
        let insights = functions_with_lambda_insights(
            names
                .iter()
                .step_by(4)
                .map(|n| ListedMetric::new("used_memory_max", &[("function_name", n)])),
        );
        let queries = plan_queries_with_lambda_insights(&refs, Some(&catalog), &insights);
        assert_eq!(queries.len(), 60 * 9 + 15 * 5);
        assert_eq!(batches(&queries).count(), 2);
        assert_eq!(calls_at_floor(queries.len()), 2);
        // Without a catalog (window too old to list) nothing is known about Lambda Insights.
        assert!(plan_queries(&refs, None)
            .iter()
            .all(|q| !q.spec.key.is_lambda_insights()));
    }
}
