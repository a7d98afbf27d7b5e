//! Cold starts and memory from Lambda Insights, where the function publishes it.
//!
//! [`period_lambda_insights`] reads one period's Lambda Insights statistics from the harvested series
//! (see `harvest::cloudwatch::lambda_insights` for the metrics and the AWS pages behind them);
//! [`apply_lambda_insights`] puts them on a metrics document already filled from REPORT records
//! (`enrich::apply_logs_and_cost`) and says where the numbers came from in
//! `cold_start_source`:
//!
//! - Lambda Insights wins for cold starts (plus the SnapStart restores REPORT records counted:
//!   Lambda Insights has no restore metric), init duration average and maximum, max memory used
//!   and utilisation; timeouts, restores and billed durations stay as REPORT records gave them.
//! - A period of such a function without a `used_memory_max` datapoint (the extension did not
//!   report) keeps the REPORT numbers; so does every function without Lambda Insights.
//!
//! Pure: no I/O.

use chrono::{DateTime, Utc};
use lfm_schema::documents::{cold_start_source, MetricDocument};

use crate::harvest::{FunctionSeries, MetricKey};

/// One period's Lambda Insights numbers of one function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodLambdaInsights {
    /// Invocations with an `init_duration` (cold starts other than SnapStart restores).
    pub inits: u64,
    pub init_duration_avg_ms: Option<f64>,
    pub init_duration_max_ms: Option<f64>,
    pub max_memory_used_mb: f64,
    /// 0..1 (Lambda Insights publishes percent).
    pub memory_utilization: Option<f64>,
}

/// The period's Lambda Insights numbers, or `None` when the function was not queried for them
/// or published no `used_memory_max` in the period.
pub fn period_lambda_insights(
    series: &FunctionSeries,
    period_start: &DateTime<Utc>,
) -> Option<PeriodLambdaInsights> {
    if !series.was_queried(MetricKey::InsightsMemoryUsedMax) {
        return None;
    }
    let get = |key| {
        series
            .get(key, period_start)
            .filter(|v: &f64| v.is_finite())
    };
    let max_memory_used_mb = get(MetricKey::InsightsMemoryUsedMax)?;
    let inits = get(MetricKey::InsightsInitCount).map_or(0, |v| v.round().max(0.0) as u64);
    Some(PeriodLambdaInsights {
        inits,
        init_duration_avg_ms: get(MetricKey::InsightsInitAvg).filter(|_| inits > 0),
        init_duration_max_ms: get(MetricKey::InsightsInitMax).filter(|_| inits > 0),
        max_memory_used_mb,
        memory_utilization: get(MetricKey::InsightsMemoryUtilizationMax)
            .map(|percent| percent / 100.0),
    })
}

/// Puts `insights` (if any) on `doc` and sets `cold_start_source`.
pub fn apply_lambda_insights(doc: &mut MetricDocument, insights: Option<&PeriodLambdaInsights>) {
    match insights {
        Some(i) => {
            let cold_starts = i.inits + doc.snapstart_restores.unwrap_or(0);
            doc.cold_starts = Some(cold_starts);
            doc.cold_start_rate =
                (doc.invocations > 0).then(|| cold_starts as f64 / doc.invocations as f64);
            doc.init_duration_avg_ms = i.init_duration_avg_ms;
            doc.init_duration_max_ms = i.init_duration_max_ms;
            doc.max_memory_used_mb = Some(i.max_memory_used_mb);
            doc.memory_utilization = i.memory_utilization;
            doc.cold_start_source = Some(cold_start_source::LAMBDA_INSIGHTS.into());
        }
        None if doc.cold_starts.is_some() => {
            doc.cold_start_source = Some(cold_start_source::LOGS_INSIGHTS.into());
        }
        None => doc.cold_start_source = None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::derive::test_support::t;
    use crate::harvest::cloudwatch::catalog::{ListedMetric, MetricCatalog};
    use crate::harvest::cloudwatch::lambda_insights::functions_with_lambda_insights;
    use crate::harvest::cloudwatch::plan::{plan_queries_with_lambda_insights, PlannedQuery};
    use crate::harvest::cloudwatch::MetricDataPage;

    /// GetMetricData answer for one function with Lambda Insights over two periods: at 15:00
    /// two cold starts (init 250 ms and 410.5 ms), at 15:05 none; the shape AWS documents.
    const PAGE: &str = r#"{"MetricDataResults": [
        {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [12, 7], "StatusCode": "Complete"},
        {"Id": "m0_li_cold", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [2.0], "StatusCode": "Complete"},
        {"Id": "m0_li_iavg", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [330.25], "StatusCode": "Complete"},
        {"Id": "m0_li_imax", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [410.5], "StatusCode": "Complete"},
        {"Id": "m0_li_mem", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [187.0, 191.0], "StatusCode": "Complete"},
        {"Id": "m0_li_util", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [73.046875, 74.609375], "StatusCode": "Complete"}
    ]}"#;

    fn harvested() -> FunctionSeries {
        let catalog = MetricCatalog::from_listed([ListedMetric::new(
            "Invocations",
            &[("FunctionName", "orders")],
        )]);
        let insights = functions_with_lambda_insights([ListedMetric::new(
            "used_memory_max",
            &[("function_name", "orders")],
        )]);
        let queries = plan_queries_with_lambda_insights(&["orders"], Some(&catalog), &insights);
        let by_id: HashMap<&str, &PlannedQuery> =
            queries.iter().map(|q| (q.id.as_str(), q)).collect();
        let mut series = FunctionSeries::default();
        for q in &queries {
            series.queried.insert(q.spec.key);
        }
        // Function-level series only: each result is its statistic's points, as harvest keeps them.
        let page: MetricDataPage = serde_json::from_str(PAGE).unwrap();
        for result in &page.metric_data_results {
            let key = by_id[result.id.as_str()].spec.key;
            series.points.entry(key).or_default().extend(
                result
                    .timestamps
                    .iter()
                    .copied()
                    .zip(result.values.iter().copied()),
            );
        }
        series
    }

    /// A document as `apply_logs_and_cost` leaves it (REPORT numbers from Logs Insights).
    fn from_logs(invocations: u64, restores: u64) -> MetricDocument {
        serde_json::from_value(serde_json::json!({
            "@timestamp": "2026-11-26T15:00:00Z", "period_seconds": 300, "account_id": "111122223333",
            "region": "us-east-1", "function_name": "orders", "function_arn": "a", "invocations": invocations,
            "errors": 0, "throttles": 0, "error_rate": 0.0, "duration_avg_ms": 40.0, "duration_max_ms": 90.0,
            "cold_starts": 2 + restores, "cold_start_rate": (2 + restores) as f64 / invocations as f64,
            "init_duration_avg_ms": 330.25, "init_duration_max_ms": 410.5, "snapstart_restores": restores,
            "max_memory_used_mb": 187.0, "memory_utilization": 187.0 / 256.0, "timeouts": 1,
            "logs_source": "logs_insights", "collected_at": "2026-11-26T16:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn insights_statistics_make_no_periods_of_their_own() {
        let series = harvested();
        assert_eq!(
            series.period_starts(),
            [t("2026-11-26T15:00:00Z"), t("2026-11-26T15:05:00Z")]
        );
        let mut only_insights = FunctionSeries::default();
        only_insights
            .points
            .entry(MetricKey::InsightsMemoryUsedMax)
            .or_default()
            .insert(t("2026-11-26T15:10:00Z"), 1.0);
        assert!(only_insights.period_starts().is_empty());
    }

    #[test]
    fn a_period_with_cold_starts_reads_count_init_and_memory() {
        let got = period_lambda_insights(&harvested(), &t("2026-11-26T15:00:00Z")).unwrap();
        assert_eq!(
            got,
            PeriodLambdaInsights {
                inits: 2,
                init_duration_avg_ms: Some(330.25),
                init_duration_max_ms: Some(410.5),
                max_memory_used_mb: 187.0,
                memory_utilization: Some(0.73046875),
            }
        );
        let warm = period_lambda_insights(&harvested(), &t("2026-11-26T15:05:00Z")).unwrap();
        assert_eq!(
            (
                warm.inits,
                warm.init_duration_avg_ms,
                warm.init_duration_max_ms
            ),
            (0, None, None)
        );
        assert_eq!(warm.max_memory_used_mb, 191.0);
        assert_eq!(
            period_lambda_insights(&harvested(), &t("2026-11-26T15:10:00Z")),
            None,
            "no used_memory_max: not reported"
        );
    }

    #[test]
    fn functions_not_queried_for_insights_read_none() {
        let mut series = harvested();
        series.queried.retain(|k| !k.is_lambda_insights());
        assert_eq!(period_lambda_insights(&series, &t("2026-11-26T15:00:00Z")), None);
    }

    #[test]
    fn insights_and_report_records_agree_and_the_source_says_insights() {
        let mut doc = from_logs(12, 0);
        let logs_only = doc.clone();
        apply_lambda_insights(
            &mut doc,
            period_lambda_insights(&harvested(), &t("2026-11-26T15:00:00Z")).as_ref(),
        );
        assert_eq!(doc.cold_start_source.as_deref(), Some("lambda_insights"));
        for (field, insights, logs) in [
            (
                "cold_start_rate",
                doc.cold_start_rate,
                logs_only.cold_start_rate,
            ),
            (
                "init_duration_avg_ms",
                doc.init_duration_avg_ms,
                logs_only.init_duration_avg_ms,
            ),
            (
                "init_duration_max_ms",
                doc.init_duration_max_ms,
                logs_only.init_duration_max_ms,
            ),
            (
                "max_memory_used_mb",
                doc.max_memory_used_mb,
                logs_only.max_memory_used_mb,
            ),
            (
                "memory_utilization",
                doc.memory_utilization,
                logs_only.memory_utilization,
            ),
        ] {
            assert_eq!(insights, logs, "{field}");
        }
        assert_eq!(doc.cold_starts, Some(2));
        assert_eq!(doc.timeouts, Some(1), "timeouts stay from REPORT records");
    }

    #[test]
    fn snapstart_restores_from_report_records_are_added_to_insights_cold_starts() {
        let mut doc = from_logs(12, 3);
        apply_lambda_insights(
            &mut doc,
            period_lambda_insights(&harvested(), &t("2026-11-26T15:00:00Z")).as_ref(),
        );
        assert_eq!(doc.cold_starts, Some(5));
        assert_eq!(doc.snapstart_restores, Some(3));
        assert_eq!(doc.cold_start_rate, Some(5.0 / 12.0));
    }

    #[test]
    fn insights_alone_still_count_when_the_logs_were_not_read() {
        let mut doc = from_logs(7, 0);
        for field in [
            &mut doc.cold_starts,
            &mut doc.snapstart_restores,
            &mut doc.timeouts,
        ] {
            *field = None;
        }
        doc.logs_source = None;
        apply_lambda_insights(
            &mut doc,
            period_lambda_insights(&harvested(), &t("2026-11-26T15:05:00Z")).as_ref(),
        );
        assert_eq!(doc.cold_starts, Some(0));
        assert_eq!(doc.cold_start_rate, Some(0.0));
        assert_eq!(
            (doc.init_duration_avg_ms, doc.init_duration_max_ms),
            (None, None)
        );
        assert_eq!(doc.max_memory_used_mb, Some(191.0));
        assert_eq!(doc.cold_start_source.as_deref(), Some("lambda_insights"));
        assert_eq!(doc.timeouts, None);
    }

    #[test]
    fn without_insights_the_source_is_the_logs_or_nothing() {
        let mut doc = from_logs(12, 0);
        let before = doc.clone();
        apply_lambda_insights(&mut doc, None);
        assert_eq!(doc.cold_start_source.as_deref(), Some("logs_insights"));
        assert_eq!(
            MetricDocument {
                cold_start_source: None,
                ..doc
            },
            before
        );
        let mut unread = from_logs(12, 0);
        unread.cold_starts = None;
        apply_lambda_insights(&mut unread, None);
        assert_eq!(unread.cold_start_source, None);
    }
}
