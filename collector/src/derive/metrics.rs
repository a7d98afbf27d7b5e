//! Metrics documents: one per function per period with any CloudWatch datapoint.
//!
//! Rules (see docs/metrics in the shared guide):
//! - a period gets a row when any statistic has a datapoint there (idle periods: no row);
//! - a missing Invocations, Errors or Throttles datapoint in a row counts 0 (CloudWatch omits
//!   zero-valued datapoints of metrics that were not emitted);
//! - `error_rate = errors / invocations`, `None` when there were no invocations;
//! - a missing Duration statistic stays `None`, never 0.

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
            let invocations = count(series.get(MetricKey::Invocations, &start));
            let errors = count(series.get(MetricKey::Errors, &start));
            PeriodMetrics {
                period_start: start,
                invocations,
                errors,
                throttles: count(series.get(MetricKey::Throttles, &start)),
                error_rate: error_rate(errors, invocations),
                duration_avg_ms: series.get(MetricKey::DurationAvg, &start),
                duration_max_ms: series.get(MetricKey::DurationMax, &start),
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
                collected_at: rfc3339(collected_at),
            };
            IndexedDocument::new(
                metrics_index(prefix, start.year(), start.month(), start.day()),
                metric_document_id(&function.account_id, &function.region, &function.name, start.timestamp(), period_seconds),
                &document,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::derive::test_support::{function, t};
    use crate::harvest::cloudwatch::{absorb_page, plan_queries, MetricDataPage, PlannedQuery};

    fn absorb(pages: &[MetricDataPage], function_count: usize) -> Vec<FunctionSeries> {
        let queries = plan_queries(function_count);
        let by_id: HashMap<&str, &PlannedQuery> = queries.iter().map(|q| (q.id.as_str(), q)).collect();
        let mut series = vec![FunctionSeries::default(); function_count];
        for page in pages {
            absorb_page(page, &by_id, &mut series).unwrap();
        }
        series
    }

    #[test]
    fn two_functions_one_idle() {
        let page: MetricDataPage =
            serde_json::from_str(include_str!("../../tests/fixtures/get_metric_data_two_functions.json")).unwrap();
        let series = absorb(&[page], 2);
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
                period_start: t("2026-11-26T15:00:00Z"),
                invocations: 10,
                errors: 0,
                throttles: 0,
                error_rate: Some(0.0),
                duration_avg_ms: Some(112.43),
                duration_max_ms: Some(480.17),
            }
        );
        assert_eq!((rows[1].invocations, rows[1].errors), (25, 2));
        assert_eq!(rows[1].error_rate, Some(0.08));
        // Only throttled: a row with no invocations, so no error rate and no durations.
        assert_eq!(
            rows[3],
            PeriodMetrics {
                period_start: t("2026-11-26T15:30:00Z"),
                invocations: 0,
                errors: 0,
                throttles: 3,
                error_rate: None,
                duration_avg_ms: None,
                duration_max_ms: None,
            }
        );
        // The idle function gets no rows at all.
        assert!(period_metrics(&series[1]).is_empty());
    }

    #[test]
    fn pages_joined_by_next_token_form_one_series() {
        let pages: Vec<MetricDataPage> =
            serde_json::from_str(include_str!("../../tests/fixtures/get_metric_data_paged.json")).unwrap();
        assert!(pages[0].next_token.is_some());
        let rows = period_metrics(&absorb(&pages, 1)[0]);
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
        let series = absorb(&[page], 2);
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
}
