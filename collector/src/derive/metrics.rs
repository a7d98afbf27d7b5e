//! Metrics documents: one per function per period with any CloudWatch datapoint.
//!
//! Rules (see docs/metrics in the shared guide):
//! - a period gets a row when any statistic has a datapoint there (idle periods: no row);
//! - a missing Invocations, Errors or Throttles datapoint in a row counts 0 (CloudWatch omits
//!   zero-valued datapoints of metrics that were not emitted);
//! - `error_rate = errors / invocations`, `None` when there were no invocations;
//! - a missing Duration statistic (average, maximum, percentile) stays `None`, never 0;
//!   percentiles are CloudWatch's own (`p50`, `p90`, `p99` statistics), not recomputed;
//! - concurrency is the period's Maximum of ConcurrentExecutions, `None` without a datapoint;
//! - metrics only some functions publish (provisioned concurrency, IteratorAge, async events,
//!   dead-letter and destination failures) are `None` for functions that were not asked for
//!   them (ListMetrics did not list them); for the others a missing count is 0 and a missing
//!   maximum `None`, as above.

use chrono::{DateTime, Datelike, Utc};
use lfm_schema::documents::{metric_document_id, metrics_index, MetricDocument};

use super::rfc3339;
use crate::discover::FunctionRecord;
use crate::harvest::{FunctionSeries, MetricKey};
use crate::store::IndexedDocument;

/// The numbers of one function in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodMetrics {
    pub period_start: DateTime<Utc>,
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    pub error_rate: Option<f64>,
    pub duration_avg_ms: Option<f64>,
    pub duration_max_ms: Option<f64>,
    pub duration_p50_ms: Option<f64>,
    pub duration_p90_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub concurrency_max: Option<u64>,
    pub provisioned_concurrency_utilization_max: Option<f64>,
    pub provisioned_concurrency_spillover: Option<u64>,
    pub iterator_age_max_ms: Option<f64>,
    pub async_events_dropped: Option<u64>,
    pub async_event_age_max_ms: Option<f64>,
    pub dead_letter_errors: Option<u64>,
    pub destination_delivery_failures: Option<u64>,
}

pub fn error_rate(errors: u64, invocations: u64) -> Option<f64> {
    (invocations > 0).then(|| errors as f64 / invocations as f64)
}

/// CloudWatch Sums of counts arrive as floats; they are whole numbers, and never negative.
fn count(value: Option<f64>) -> u64 {
    value.map(|v| v.round().max(0.0) as u64).unwrap_or(0)
}

/// One row per period in which any statistic has a datapoint, ascending.
pub fn period_metrics(series: &FunctionSeries) -> Vec<PeriodMetrics> {
    series
        .period_starts()
        .into_iter()
        .map(|start| {
            let get = |key| series.get(key, &start);
            // A count the function publishes: 0 when the period has no datapoint of it.
            let optional_count = |key| series.was_queried(key).then(|| count(get(key)));
            let invocations = count(get(MetricKey::Invocations));
            let errors = count(get(MetricKey::Errors));
            PeriodMetrics {
                period_start: start,
                invocations,
                errors,
                throttles: count(series.get(MetricKey::Throttles, &start)),
                error_rate: error_rate(errors, invocations),
                duration_avg_ms: series.get(MetricKey::DurationAvg, &start),
                duration_max_ms: series.get(MetricKey::DurationMax, &start),
                duration_p50_ms: get(MetricKey::DurationP50),
                duration_p90_ms: get(MetricKey::DurationP90),
                duration_p99_ms: get(MetricKey::DurationP99),
                concurrency_max: get(MetricKey::ConcurrencyMax).map(|v| count(Some(v))),
                provisioned_concurrency_utilization_max: get(MetricKey::ProvisionedConcurrencyUtilizationMax),
                provisioned_concurrency_spillover: optional_count(MetricKey::ProvisionedConcurrencySpillover),
                iterator_age_max_ms: get(MetricKey::IteratorAgeMax),
                async_events_dropped: optional_count(MetricKey::AsyncEventsDropped),
                async_event_age_max_ms: get(MetricKey::AsyncEventAgeMax),
                dead_letter_errors: optional_count(MetricKey::DeadLetterErrors),
                destination_delivery_failures: optional_count(MetricKey::DestinationDeliveryFailures),
            }
        })
        .collect()
}

/// The metrics documents of one function, each in the daily index of its period start.
pub fn metric_documents(
    prefix: &str,
    function: &FunctionRecord,
    series: &FunctionSeries,
    period_seconds: u32,
    collected_at: &DateTime<Utc>,
) -> Vec<IndexedDocument> {
    metric_rows(function, series, period_seconds, collected_at)
        .into_iter()
        .map(|(start, document)| indexed_metric_document(prefix, function, &start, period_seconds, &document))
        .collect()
}

/// The daily index and ID of a metrics document of `function` for the period at `start`.
pub fn indexed_metric_document(
    prefix: &str,
    function: &FunctionRecord,
    start: &DateTime<Utc>,
    period_seconds: u32,
    document: &MetricDocument,
) -> IndexedDocument {
    IndexedDocument::new(
        metrics_index(prefix, start.year(), start.month(), start.day()),
        metric_document_id(&function.account_id, &function.region, &function.name, start.timestamp(), period_seconds),
        document,
    )
}

/// The metrics documents of one function with their period starts, log-derived and cost
/// fields null (see [`super::enrich`]).
pub fn metric_rows(
    function: &FunctionRecord,
    series: &FunctionSeries,
    period_seconds: u32,
    collected_at: &DateTime<Utc>,
) -> Vec<(DateTime<Utc>, MetricDocument)> {
    period_metrics(series)
        .into_iter()
        .map(|row| {
            let start = row.period_start;
            let document = MetricDocument {
                timestamp: rfc3339(&start),
                period_seconds,
                account_id: function.account_id.clone(),
                region: function.region.clone(),
                function_name: function.name.clone(),
                function_arn: function.arn.clone(),
                invocations: row.invocations,
                errors: row.errors,
                throttles: row.throttles,
                error_rate: row.error_rate,
                duration_avg_ms: row.duration_avg_ms,
                duration_max_ms: row.duration_max_ms,
                duration_p50_ms: row.duration_p50_ms,
                duration_p90_ms: row.duration_p90_ms,
                duration_p99_ms: row.duration_p99_ms,
                concurrency_max: row.concurrency_max,
                provisioned_concurrency_utilization_max: row.provisioned_concurrency_utilization_max,
                provisioned_concurrency_spillover: row.provisioned_concurrency_spillover,
                iterator_age_max_ms: row.iterator_age_max_ms,
                async_events_dropped: row.async_events_dropped,
                async_event_age_max_ms: row.async_event_age_max_ms,
                dead_letter_errors: row.dead_letter_errors,
                destination_delivery_failures: row.destination_delivery_failures,
                cold_starts: None,
                cold_start_rate: None,
                init_duration_avg_ms: None,
                init_duration_max_ms: None,
                snapstart_restores: None,
                max_memory_used_mb: None,
                memory_utilization: None,
                timeouts: None,
                timeout_proximity_max: None,
                timeout_proximity_p99: None,
                billed_duration_ms_sum: None,
                gb_seconds: None,
                request_cost_usd: None,
                compute_cost_usd: None,
                cost_usd: None,
                cost_basis: None,
                logs_source: None,
                cold_start_source: None,
                logs_withheld_reason: None,
                collected_at: rfc3339(collected_at),
            };
            (start, document)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::test_support::{function, t};
    use crate::harvest::cloudwatch::catalog::{ListedMetric, MetricCatalog};
    use crate::harvest::cloudwatch::plan::plan_queries;
    use crate::harvest::cloudwatch::{MetricDataPage, PageReader};

    /// The series of `functions` as the collector builds them: queries planned from what
    /// ListMetrics listed (`metric name`, function, optional resource), pages absorbed.
    fn absorb(pages: &[MetricDataPage], functions: &[&str], listed: &[(&str, &str, Option<&str>)]) -> Vec<FunctionSeries> {
        let catalog = MetricCatalog::from_listed(listed.iter().map(|(metric, function, resource)| match resource {
            Some(r) => ListedMetric::new(metric, &[("FunctionName", function), ("Resource", r)]),
            None => ListedMetric::new(metric, &[("FunctionName", function)]),
        }));
        let queries = plan_queries(functions, Some(&catalog));
        let mut series = vec![FunctionSeries::default(); functions.len()];
        for query in &queries {
            series[query.function_index].queried.insert(query.spec.key);
        }
        // The fixtures' window: 2026-11-26 15:00-16:00 at 300 s.
        let window = crate::config::Window::new(t("2026-11-26T15:00:00Z"), t("2026-11-26T16:00:00Z"), 300).unwrap();
        let mut reader = PageReader::new(&queries, functions, &window);
        for page in pages {
            reader.absorb(page, &mut series).unwrap();
        }
        assert_eq!((reader.points_outside_window, reader.non_finite_values), (0, 0));
        series
    }

    /// Both functions of the walking-skeleton fixtures published Invocations only.
    fn absorb_core(pages: &[MetricDataPage], functions: &[&str]) -> Vec<FunctionSeries> {
        let listed: Vec<_> = functions.iter().map(|f| ("Invocations", *f, None)).collect();
        absorb(pages, functions, &listed)
    }

    fn row(start: &str) -> PeriodMetrics {
        PeriodMetrics {
            period_start: t(start),
            invocations: 0,
            errors: 0,
            throttles: 0,
            error_rate: None,
            duration_avg_ms: None,
            duration_max_ms: None,
            duration_p50_ms: None,
            duration_p90_ms: None,
            duration_p99_ms: None,
            concurrency_max: None,
            provisioned_concurrency_utilization_max: None,
            provisioned_concurrency_spillover: None,
            iterator_age_max_ms: None,
            async_events_dropped: None,
            async_event_age_max_ms: None,
            dead_letter_errors: None,
            destination_delivery_failures: None,
        }
    }

    #[test]
    fn two_functions_one_idle() {
        let page: MetricDataPage =
            serde_json::from_str(include_str!("../../tests/fixtures/get_metric_data_two_functions.json")).unwrap();
        let series = absorb_core(&[page], &["orders", "idle"]);
        let rows = period_metrics(&series[0]);
        let starts: Vec<_> = rows.iter().map(|r| r.period_start).collect();
        assert_eq!(
            starts,
            [t("2026-11-26T15:00:00Z"), t("2026-11-26T15:05:00Z"), t("2026-11-26T15:20:00Z"), t("2026-11-26T15:30:00Z")]
        );
        // Invoked, no Errors datapoint: 0 errors, rate 0.
        assert_eq!(
            rows[0],
            PeriodMetrics {
                invocations: 10,
                error_rate: Some(0.0),
                duration_avg_ms: Some(112.43),
                duration_max_ms: Some(480.17),
                ..row("2026-11-26T15:00:00Z")
            }
        );
        assert_eq!((rows[1].invocations, rows[1].errors), (25, 2));
        assert_eq!(rows[1].error_rate, Some(0.08));
        // Only throttled: a row with no invocations, so no error rate and no durations.
        assert_eq!(
            rows[3],
            PeriodMetrics { throttles: 3, ..row("2026-11-26T15:30:00Z") }
        );
        // The idle function gets no rows at all.
        assert!(period_metrics(&series[1]).is_empty());
    }

    #[test]
    fn pages_joined_by_next_token_form_one_series() {
        let pages: Vec<MetricDataPage> =
            serde_json::from_str(include_str!("../../tests/fixtures/get_metric_data_paged.json")).unwrap();
        assert!(pages[0].next_token.is_some());
        let rows = period_metrics(&absorb_core(&pages, &["orders"])[0]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.iter().map(|r| r.invocations).sum::<u64>(), 3688);
        let last = &rows[2];
        assert_eq!((last.invocations, last.errors, last.throttles), (1301, 13, 7));
        assert_eq!(last.error_rate, Some(13.0 / 1301.0));
        assert_eq!(last.duration_max_ms, Some(2900.0));
    }

    #[test]
    fn error_rate_is_null_without_invocations() {
        assert_eq!(error_rate(0, 0), None);
        assert_eq!(error_rate(1, 4), Some(0.25));
    }

    #[test]
    fn metric_documents_have_daily_indices_and_deterministic_ids() {
        let page: MetricDataPage =
            serde_json::from_str(include_str!("../../tests/fixtures/get_metric_data_two_functions.json")).unwrap();
        let series = absorb_core(&[page], &["orders", "idle"]);
        let collected_at = t("2026-11-26T16:00:07Z");
        let docs = metric_documents("lfm", &function("orders"), &series[0], 300, &collected_at);
        assert_eq!(docs.len(), 4);
        assert_eq!(docs[0].index, "lfm-metrics-2026.11.26");
        assert_eq!(docs[0].id, "111122223333:eu-west-1:orders:1795705200:300");
        assert_eq!(docs[0].body["@timestamp"], "2026-11-26T15:00:00Z");
        assert_eq!(docs[0].body["collected_at"], "2026-11-26T16:00:07Z");
        assert!(docs[3].body["error_rate"].is_null());
        assert!(docs[3].body["duration_avg_ms"].is_null());
        // Same input, same documents: collecting a window twice overwrites, never duplicates.
        assert_eq!(docs, metric_documents("lfm", &function("orders"), &series[0], 300, &collected_at));
    }

    fn features_page() -> Vec<FunctionSeries> {
        let page: MetricDataPage =
            serde_json::from_str(include_str!("../../tests/fixtures/get_metric_data_features.json")).unwrap();
        absorb(
            &[page],
            &["api", "consumer", "worker"],
            &[
                ("Invocations", "api", None),
                ("ConcurrentExecutions", "api", None),
                ("ProvisionedConcurrencyUtilization", "api", Some("api:blue")),
                ("ProvisionedConcurrencyUtilization", "api", Some("api:green")),
                ("ProvisionedConcurrencySpilloverInvocations", "api", Some("api:green")),
                ("Invocations", "consumer", None),
                ("IteratorAge", "consumer", None),
                ("Invocations", "worker", None),
                ("AsyncEventsDropped", "worker", None),
                ("AsyncEventAge", "worker", None),
                ("DeadLetterErrors", "worker", None),
                ("DestinationDeliveryFailures", "worker", None),
            ],
        )
    }

    #[test]
    fn percentiles_concurrency_and_provisioned_concurrency_over_aliases() {
        let rows = period_metrics(&features_page()[0]);
        assert_eq!(
            rows,
            [
                PeriodMetrics {
                    invocations: 1840,
                    error_rate: Some(0.0),
                    duration_avg_ms: Some(38.21766304347826),
                    duration_max_ms: Some(912.5),
                    duration_p50_ms: Some(22.75),
                    duration_p90_ms: Some(81.25),
                    duration_p99_ms: Some(402.0),
                    concurrency_max: Some(14),
                    // max over the two aliases; spillover published (on one alias), 0 here
                    provisioned_concurrency_utilization_max: Some(0.9),
                    provisioned_concurrency_spillover: Some(0),
                    ..row("2026-11-26T15:00:00Z")
                },
                PeriodMetrics {
                    invocations: 2210,
                    errors: 3,
                    error_rate: Some(3.0 / 2210.0),
                    duration_avg_ms: Some(41.90045248868778),
                    duration_max_ms: Some(1404.25),
                    duration_p50_ms: Some(24.5),
                    duration_p90_ms: Some(95.0),
                    duration_p99_ms: Some(611.75),
                    concurrency_max: Some(19),
                    provisioned_concurrency_utilization_max: Some(1.0),
                    provisioned_concurrency_spillover: Some(37),
                    ..row("2026-11-26T15:05:00Z")
                },
            ]
        );
    }

    #[test]
    fn stream_consumer_has_iterator_age_and_nothing_else_optional() {
        let rows = period_metrics(&features_page()[1]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].iterator_age_max_ms, Some(48211.0));
        assert_eq!((rows[0].invocations, rows[0].concurrency_max, rows[0].duration_p99_ms), (96, Some(2), Some(530.0)));
        assert_eq!((rows[0].async_events_dropped, rows[0].dead_letter_errors), (None, None), "not published: null");
        // A period with only an IteratorAge datapoint still gets a row.
        assert_eq!(PeriodMetrics { iterator_age_max_ms: Some(120.0), ..row("2026-11-26T15:10:00Z") }, rows[1]);
    }

    #[test]
    fn async_worker_counts_zero_when_published_without_datapoint() {
        let rows = period_metrics(&features_page()[2]);
        assert_eq!(rows.len(), 2);
        let invoked = &rows[0];
        assert_eq!((invoked.invocations, invoked.errors), (12, 5));
        assert_eq!(invoked.async_events_dropped, Some(2));
        assert_eq!(invoked.async_event_age_max_ms, Some(21_600_000.0));
        assert_eq!(invoked.dead_letter_errors, Some(0), "published by the function, no datapoint: 0");
        assert_eq!(invoked.destination_delivery_failures, Some(0));
        assert_eq!((invoked.iterator_age_max_ms, invoked.provisioned_concurrency_spillover), (None, None));
        // Events dropped after their maximum age, no invocation in the period.
        let dropped = &rows[1];
        assert_eq!((dropped.invocations, dropped.error_rate, dropped.concurrency_max), (0, None, None));
        assert_eq!((dropped.async_events_dropped, dropped.destination_delivery_failures), (Some(1), Some(1)));
    }

    #[test]
    fn documents_carry_the_new_fields_and_null_when_not_applicable() {
        let series = features_page();
        let at = t("2026-11-26T16:00:07Z");
        let api = metric_documents("lfm", &function("api"), &series[0], 300, &at);
        assert_eq!(api[1].body["duration_p99_ms"], 611.75);
        assert_eq!(api[1].body["concurrency_max"], 19);
        assert_eq!(api[1].body["provisioned_concurrency_spillover"], 37);
        assert!(api[1].body["iterator_age_max_ms"].is_null());
        assert!(api[1].body["dead_letter_errors"].is_null());
        let worker = metric_documents("lfm", &function("worker"), &series[2], 300, &at);
        assert_eq!(worker[0].body["dead_letter_errors"], 0);
        assert!(worker[1].body["duration_p50_ms"].is_null());
    }
}
