//! Which GetMetricData queries a region needs, and how they are batched.
//!
//! Every active function gets the [`Always`] statistics; the others only where the
//! [`MetricCatalog`] lists the metric for the function. Idle functions get no query. Queries
//! are cut into calls of [`MAX_QUERIES_PER_CALL`], so a region costs
//! `ceil(queries / 500)` calls ([`calls_at_floor`]); NextToken pages come on top only when a
//! call's answer exceeds the datapoint limit.

use std::collections::BTreeSet;

use super::catalog::{MetricCatalog, MetricSeries};
use super::lambda_insights::LAMBDA_INSIGHTS_METRICS;
use super::limits::MAX_QUERIES_PER_CALL;
use super::metrics::Applies::{Always, WhenListed};
use super::metrics::{MetricSpec, LAMBDA_METRICS};

/// One query: statistic `spec` of the function at `function_index`, function-level or of one
/// alias/version (`resource`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    pub id: String,
    pub function_index: usize,
    pub spec: &'static MetricSpec,
    pub resource: Option<String>,
}

/// The queries for `function_names` (indexed as given), function by function, ids
/// `m{n}_{suffix}` or `m{n}_{suffix}_{r}` per resource (ids must start with a lowercase
/// letter and be unique within a call).
///
/// With a catalog, functions it does not list get no query and optional statistics follow
/// the catalog. Without one (the window is too old to list), every function gets every
/// statistic at the function level: nothing can be skipped safely.
pub fn plan_queries(function_names: &[&str], catalog: Option<&MetricCatalog>) -> Vec<PlannedQuery> {
    plan_queries_with_lambda_insights(function_names, catalog, &BTreeSet::new())
}

/// [`plan_queries`], plus the [`LAMBDA_INSIGHTS_METRICS`] of the active functions in
/// `with_lambda_insights` (those ListMetrics lists in the `LambdaInsights` namespace), in the same
/// batches: a region still costs `ceil(all queries / 500)` calls.
pub fn plan_queries_with_lambda_insights(
    function_names: &[&str],
    catalog: Option<&MetricCatalog>,
    with_lambda_insights: &BTreeSet<String>,
) -> Vec<PlannedQuery> {
    let mut queries = Vec::new();
    for (n, name) in function_names.iter().enumerate() {
        let listed = match catalog {
            Some(catalog) if !catalog.is_active(name) => continue,
            Some(catalog) => catalog.function(name),
            None => None,
        };
        for spec in LAMBDA_METRICS {
            let series = match (spec.applies, listed) {
                (Always, _) | (WhenListed, None) => MetricSeries::FunctionLevel,
                (WhenListed, Some(metrics)) => metrics.series_of(spec.metric_name),
            };
            let query = |id: String, resource: Option<String>| PlannedQuery { id, function_index: n, spec, resource };
            match series {
                MetricSeries::FunctionLevel => queries.push(query(format!("m{n}_{}", spec.id_suffix), None)),
                MetricSeries::PerResource(resources) => {
                    for (r, resource) in resources.into_iter().enumerate() {
                        queries.push(query(format!("m{n}_{}_{r}", spec.id_suffix), Some(resource)));
                    }
                }
                MetricSeries::Absent => {}
            }
        }
        // Lambda Insights publishes per function (and per version): function level only.
        if with_lambda_insights.contains(*name) {
            queries.extend(LAMBDA_INSIGHTS_METRICS.iter().map(|spec| PlannedQuery {
                id: format!("m{n}_{}", spec.id_suffix),
                function_index: n,
                spec,
                resource: None,
            }));
        }
    }
    queries
}

/// The queries of each GetMetricData call.
pub fn batches(queries: &[PlannedQuery]) -> std::slice::Chunks<'_, PlannedQuery> {
    queries.chunks(MAX_QUERIES_PER_CALL)
}

/// The fewest GetMetricData calls that can carry `query_count` queries.
pub fn calls_at_floor(query_count: usize) -> usize {
    query_count.div_ceil(MAX_QUERIES_PER_CALL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::cloudwatch::catalog::ListedMetric;

    const ALWAYS: usize = 9;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("fn-{i:04}")).collect()
    }

    fn active_catalog(names: &[String], every: usize) -> MetricCatalog {
        MetricCatalog::from_listed(
            names
                .iter()
                .step_by(every)
                .flat_map(|n| ["Invocations", "Duration"].map(|m| ListedMetric::new(m, &[("FunctionName", n)]))),
        )
    }

    #[test]
    fn every_active_function_gets_the_nine_core_statistics() {
        let core: Vec<(&str, &str)> =
            LAMBDA_METRICS.iter().filter(|s| s.applies == Always).map(|s| (s.metric_name, s.stat)).collect();
        assert_eq!(
            core,
            [
                ("Invocations", "Sum"),
                ("Errors", "Sum"),
                ("Throttles", "Sum"),
                ("Duration", "Average"),
                ("Duration", "Maximum"),
                ("Duration", "p50"),
                ("Duration", "p90"),
                ("Duration", "p99"),
                ("ConcurrentExecutions", "Maximum"),
            ]
        );
        let queries = plan_queries(&["a", "b"], None);
        let ids: Vec<&str> = queries.iter().filter(|q| q.function_index == 0).map(|q| q.id.as_str()).take(ALWAYS).collect();
        assert_eq!(ids, ["m0_inv", "m0_err", "m0_thr", "m0_davg", "m0_dmax", "m0_p50", "m0_p90", "m0_p99", "m0_conc"]);
        let all_ids: std::collections::HashSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(all_ids.len(), queries.len(), "ids are unique");
        assert!(queries.iter().all(|q| q.id.starts_with(|c: char| c.is_ascii_lowercase())));
    }

    #[test]
    fn idle_functions_cost_no_query() {
        let catalog = MetricCatalog::from_listed([ListedMetric::new("Invocations", &[("FunctionName", "busy")])]);
        let queries = plan_queries(&["idle-1", "busy", "idle-2"], Some(&catalog));
        assert_eq!(queries.len(), ALWAYS);
        assert!(queries.iter().all(|q| q.function_index == 1 && q.resource.is_none()));
        assert!(queries[0].id.starts_with("m1_"));
    }

    #[test]
    fn optional_statistics_only_where_listed() {
        let catalog = MetricCatalog::from_listed([
            ListedMetric::new("Invocations", &[("FunctionName", "consumer")]),
            ListedMetric::new("IteratorAge", &[("FunctionName", "consumer")]),
            ListedMetric::new("Invocations", &[("FunctionName", "api")]),
            ListedMetric::new("ProvisionedConcurrencyUtilization", &[("FunctionName", "api"), ("Resource", "api:live")]),
            ListedMetric::new("ProvisionedConcurrencyUtilization", &[("FunctionName", "api"), ("Resource", "api:canary")]),
            ListedMetric::new("ProvisionedConcurrencySpilloverInvocations", &[("FunctionName", "api"), ("Resource", "api:live")]),
            ListedMetric::new("AsyncEventsDropped", &[("FunctionName", "worker")]),
            ListedMetric::new("AsyncEventAge", &[("FunctionName", "worker")]),
            ListedMetric::new("DeadLetterErrors", &[("FunctionName", "worker")]),
            ListedMetric::new("DestinationDeliveryFailures", &[("FunctionName", "worker")]),
            ListedMetric::new("Invocations", &[("FunctionName", "worker")]),
        ]);
        let queries = plan_queries(&["consumer", "api", "worker"], Some(&catalog));
        let extra = |n: usize| -> Vec<(&str, Option<&str>)> {
            queries
                .iter()
                .filter(|q| q.function_index == n && q.spec.applies == WhenListed)
                .map(|q| (q.id.as_str(), q.resource.as_deref()))
                .collect()
        };
        assert_eq!(extra(0), [("m0_iter", None)]);
        assert_eq!(extra(1), [("m1_pcu_0", Some("api:canary")), ("m1_pcu_1", Some("api:live")), ("m1_pcs_0", Some("api:live"))]);
        assert_eq!(extra(2), [("m2_aedrop", None), ("m2_aeage", None), ("m2_dlq", None), ("m2_dest", None)]);
        assert_eq!(queries.len(), 3 * ALWAYS + 1 + 3 + 4);
    }

    #[test]
    fn without_a_catalog_every_function_gets_every_statistic() {
        let queries = plan_queries(&["a", "b", "c"], None);
        assert_eq!(queries.len(), 3 * LAMBDA_METRICS.len());
        assert!(queries.iter().all(|q| q.resource.is_none()));
    }

    #[test]
    fn batching_is_at_the_floor_for_several_fleet_sizes() {
        // (functions, every how many is active, expected active, expected calls)
        for (fleet, every, active, calls) in
            [(0, 1, 0, 0), (10, 1, 10, 1), (55, 1, 55, 1), (56, 1, 56, 2), (200, 4, 50, 1), (1000, 1, 1000, 18), (5000, 10, 500, 9)]
        {
            let names = names(fleet);
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let queries = plan_queries(&refs, Some(&active_catalog(&names, every)));
            assert_eq!(queries.len(), active * ALWAYS, "{fleet} functions");
            let sizes: Vec<usize> = batches(&queries).map(<[_]>::len).collect();
            assert_eq!(sizes.len(), calls, "{fleet} functions, {active} active");
            assert_eq!(sizes.len(), calls_at_floor(active * ALWAYS));
            assert!(sizes.iter().rev().skip(1).all(|&s| s == MAX_QUERIES_PER_CALL), "only the last call is partial");
        }
    }

    #[test]
    fn floor() {
        assert_eq!(calls_at_floor(0), 0);
        assert_eq!(calls_at_floor(1), 1);
        assert_eq!(calls_at_floor(500), 1);
        assert_eq!(calls_at_floor(501), 2);
    }
}
