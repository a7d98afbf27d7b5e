//! CloudWatch `GetMetricData` for the `AWS/Lambda` namespace.
//!
//! Every function needs the statistics in [`LAMBDA_METRICS`] (one query each, dimension
//! `FunctionName`). Queries are batched up to [`MAX_QUERIES_PER_CALL`] per call, because
//! GetMetricData is billed per metric requested, not per call, and the call rate per account
//! and region is limited (50 TPS): batching keeps the cost the same and the call count low.
//! A call whose answer exceeds 100,800 datapoints is continued with `NextToken`.

use std::collections::HashMap;

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_types::region::Region;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{FunctionSeries, HarvestError, MetricKey};
use crate::config::Window;
use crate::discover::{AccountSession, FunctionRecord};
use crate::summary::{actions, ApiCallCounter};

pub const NAMESPACE: &str = "AWS/Lambda";
pub const FUNCTION_DIMENSION: &str = "FunctionName";
/// GetMetricData accepts at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// One statistic of one CloudWatch metric, and the suffix of its query ids (`m{n}_{suffix}`).
#[derive(Debug, PartialEq, Eq)]
pub struct MetricSpec {
    pub key: MetricKey,
    pub metric_name: &'static str,
    pub stat: &'static str,
    pub id_suffix: &'static str,
}

/// The statistics harvested for every function.
pub const LAMBDA_METRICS: &[MetricSpec] = &[
    MetricSpec { key: MetricKey::Invocations, metric_name: "Invocations", stat: "Sum", id_suffix: "inv" },
    MetricSpec { key: MetricKey::Errors, metric_name: "Errors", stat: "Sum", id_suffix: "err" },
    MetricSpec { key: MetricKey::Throttles, metric_name: "Throttles", stat: "Sum", id_suffix: "thr" },
    MetricSpec { key: MetricKey::DurationAvg, metric_name: "Duration", stat: "Average", id_suffix: "davg" },
    MetricSpec { key: MetricKey::DurationMax, metric_name: "Duration", stat: "Maximum", id_suffix: "dmax" },
];

/// One query: statistic `spec` of the function at `function_index` in the harvested slice.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    pub id: String,
    pub function_index: usize,
    pub spec: &'static MetricSpec,
}

/// All queries for `function_count` functions, function by function, ids `m{n}_{suffix}`
/// (ids must start with a lowercase letter and be unique within a call).
pub fn plan_queries(function_count: usize) -> Vec<PlannedQuery> {
    (0..function_count)
        .flat_map(|n| {
            LAMBDA_METRICS.iter().map(move |spec| PlannedQuery {
                id: format!("m{n}_{}", spec.id_suffix),
                function_index: n,
                spec,
            })
        })
        .collect()
}

/// The queries of each GetMetricData call.
pub fn batches(queries: &[PlannedQuery]) -> std::slice::Chunks<'_, PlannedQuery> {
    queries.chunks(MAX_QUERIES_PER_CALL)
}

/// One `MetricDataResults` entry, in the shape the API documents (and the AWS CLI prints), so
/// tests can feed recorded responses through the same code as live ones.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataResult {
    pub id: String,
    #[serde(default)]
    pub timestamps: Vec<DateTime<Utc>>,
    #[serde(default)]
    pub values: Vec<f64>,
    /// `Complete`, `PartialData` (more follows with NextToken), `InternalError`, `Forbidden`.
    pub status_code: Option<String>,
    #[serde(default)]
    pub messages: Vec<MessageData>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageData {
    pub code: Option<String>,
    pub value: Option<String>,
}

/// One GetMetricData response page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataPage {
    pub metric_data_results: Vec<MetricDataResult>,
    pub next_token: Option<String>,
    #[serde(default)]
    pub messages: Vec<MessageData>,
}

/// Adds one page's datapoints to `series` (indexed like the functions). Errors on a result
/// CloudWatch marked failed, a result id no query asked for, or mismatched arrays.
pub fn absorb_page(
    page: &MetricDataPage,
    queries_by_id: &HashMap<&str, &PlannedQuery>,
    series: &mut [FunctionSeries],
) -> Result<(), String> {
    for result in &page.metric_data_results {
        let query = queries_by_id
            .get(result.id.as_str())
            .ok_or_else(|| format!("result id {:?} matches no query of this call", result.id))?;
        match result.status_code.as_deref() {
            Some("InternalError") | Some("Forbidden") => {
                let detail: Vec<String> = result
                    .messages
                    .iter()
                    .chain(&page.messages)
                    .map(|m| format!("{}: {}", m.code.as_deref().unwrap_or("?"), m.value.as_deref().unwrap_or("")))
                    .collect();
                return Err(format!(
                    "query {} ({} {}) returned status {} {}",
                    result.id,
                    query.spec.metric_name,
                    query.spec.stat,
                    result.status_code.as_deref().unwrap_or_default(),
                    detail.join("; ")
                ));
            }
            _ => {}
        }
        if result.timestamps.len() != result.values.len() {
            return Err(format!(
                "query {} returned {} timestamps but {} values",
                result.id,
                result.timestamps.len(),
                result.values.len()
            ));
        }
        let points = series[query.function_index].points.entry(query.spec.key).or_default();
        for (timestamp, value) in result.timestamps.iter().zip(&result.values) {
            if value.is_finite() {
                points.insert(*timestamp, *value);
            }
        }
    }
    Ok(())
}

/// Fetches every statistic of `functions` (all of one account and region) over `window`.
pub async fn harvest(
    session: &AccountSession,
    region: &str,
    functions: &[FunctionRecord],
    window: &Window,
    calls: &ApiCallCounter,
) -> Result<Vec<FunctionSeries>, HarvestError> {
    let config = aws_sdk_cloudwatch::config::Builder::from(&session.sdk_config)
        .region(Region::new(region.to_string()))
        .build();
    let client = aws_sdk_cloudwatch::Client::from_conf(config);
    let failed = |reason: String| HarvestError::GetMetricData {
        account_id: session.account_id.clone(),
        region: region.to_string(),
        reason,
    };

    let mut series = vec![FunctionSeries::default(); functions.len()];
    let queries = plan_queries(functions.len());
    for batch in batches(&queries) {
        let queries_by_id: HashMap<&str, &PlannedQuery> = batch.iter().map(|q| (q.id.as_str(), q)).collect();
        let sdk_queries: Vec<MetricDataQuery> =
            batch.iter().map(|q| sdk_query(q, &functions[q.function_index].name, window.period_seconds)).collect();
        let mut next_token: Option<String> = None;
        loop {
            calls.record(actions::CLOUDWATCH_GET_METRIC_DATA);
            let output = client
                .get_metric_data()
                .set_metric_data_queries(Some(sdk_queries.clone()))
                .start_time(AwsDateTime::from_secs(window.start.timestamp()))
                .end_time(AwsDateTime::from_secs(window.end.timestamp()))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(next_token.clone())
                .send()
                .await
                .map_err(|e| failed(crate::aws_error::describe(&e)))?;
            let page = page_from_sdk(&output);
            absorb_page(&page, &queries_by_id, &mut series).map_err(failed)?;
            match page.next_token {
                Some(token) if !token.is_empty() && next_token.as_deref() != Some(token.as_str()) => {
                    next_token = Some(token)
                }
                Some(token) if !token.is_empty() => {
                    return Err(failed(format!("the service returned the same NextToken {token:?} twice")))
                }
                _ => break,
            }
        }
    }
    Ok(series)
}

fn sdk_query(query: &PlannedQuery, function_name: &str, period_seconds: u32) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(NAMESPACE)
        .metric_name(query.spec.metric_name)
        .dimensions(Dimension::builder().name(FUNCTION_DIMENSION).value(function_name).build())
        .build();
    MetricDataQuery::builder()
        .id(&query.id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(i32::try_from(period_seconds).unwrap_or(i32::MAX))
                .stat(query.spec.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

fn page_from_sdk(output: &aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput) -> MetricDataPage {
    let message = |m: &aws_sdk_cloudwatch::types::MessageData| MessageData {
        code: m.code().map(str::to_string),
        value: m.value().map(str::to_string),
    };
    MetricDataPage {
        metric_data_results: output
            .metric_data_results()
            .iter()
            .map(|r| MetricDataResult {
                id: r.id().unwrap_or_default().to_string(),
                timestamps: r
                    .timestamps()
                    .iter()
                    .filter_map(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
                    .collect(),
                values: r.values().to_vec(),
                status_code: r.status_code().map(|s| s.as_str().to_string()),
                messages: r.messages().iter().map(message).collect(),
            })
            .collect(),
        next_token: output.next_token().map(str::to_string),
        messages: output.messages().iter().map(message).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ids_and_order() {
        let queries = plan_queries(2);
        let ids: Vec<&str> = queries.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["m0_inv", "m0_err", "m0_thr", "m0_davg", "m0_dmax", "m1_inv", "m1_err", "m1_thr", "m1_davg", "m1_dmax"]);
        assert!(queries.iter().all(|q| q.id.starts_with(|c: char| c.is_ascii_lowercase())));
    }

    #[test]
    fn batching_101_functions_takes_two_calls() {
        let queries = plan_queries(101);
        assert_eq!(queries.len(), 505);
        let sizes: Vec<usize> = batches(&queries).map(<[_]>::len).collect();
        assert_eq!(sizes, [500, 5]);
    }

    #[test]
    fn batching_exact_multiples() {
        assert_eq!(batches(&plan_queries(100)).count(), 1);
        assert_eq!(batches(&plan_queries(200)).count(), 2);
        assert_eq!(batches(&plan_queries(0)).count(), 0);
    }

    #[test]
    fn unknown_ids_and_failed_statuses_are_errors() {
        let queries = plan_queries(1);
        let by_id: HashMap<&str, &PlannedQuery> = queries.iter().map(|q| (q.id.as_str(), q)).collect();
        let mut series = vec![FunctionSeries::default()];
        let page: MetricDataPage = serde_json::from_str(
            r#"{"MetricDataResults": [{"Id": "m7_inv", "Timestamps": [], "Values": [], "StatusCode": "Complete"}]}"#,
        )
        .unwrap();
        assert!(absorb_page(&page, &by_id, &mut series).unwrap_err().contains("m7_inv"));
        let page: MetricDataPage = serde_json::from_str(
            r#"{"MetricDataResults": [{"Id": "m0_err", "StatusCode": "Forbidden",
                "Messages": [{"Code": "AccessDenied", "Value": "not authorized"}]}]}"#,
        )
        .unwrap();
        let err = absorb_page(&page, &by_id, &mut series).unwrap_err();
        assert!(err.contains("Forbidden") && err.contains("AccessDenied"), "{err}");
    }
}
