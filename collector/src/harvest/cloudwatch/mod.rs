//! CloudWatch for the `AWS/Lambda` namespace: which functions were active and which metrics
//! they publish ([`catalog`], `ListMetrics`), which queries that takes ([`plan`]), and the
//! `GetMetricData` calls that fetch them (here). Functions that publish Lambda Insights
//! ([`insights`], namespace `LambdaInsights`) get its cold-start and memory statistics in the
//! same calls.
//!
//! GetMetricData is billed per metric requested, not per call, and its call rate per account
//! and region is limited (50 TPS): idle functions get no query, optional metrics are asked
//! for only where they exist, and queries are batched 500 per call. A call whose answer
//! exceeds 100,800 datapoints is continued with `NextToken`.

pub mod catalog;
pub mod insights;
pub mod plan;

use std::collections::HashMap;

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_types::region::Region;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use self::catalog::{list_lambda_metrics, listing_scope, ListingScope, MetricCatalog, RESOURCE_DIMENSION};
use self::insights::list_functions_with_insights;
use self::plan::{batches, plan_queries_with_insights, Combine, PlannedQuery};
use super::{FunctionSeries, HarvestError};
use crate::config::Window;
use crate::discover::{AccountSession, FunctionRecord};
use crate::summary::{actions, ApiCallCounter};

pub const NAMESPACE: &str = "AWS/Lambda";
pub const FUNCTION_DIMENSION: &str = "FunctionName";

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
        // Several queries feed one statistic when it is read per alias or version.
        let points = series[query.function_index].points.entry(query.spec.key).or_default();
        for (timestamp, value) in result.timestamps.iter().zip(&result.values) {
            if !value.is_finite() {
                continue;
            }
            points
                .entry(*timestamp)
                .and_modify(|v| match query.spec.combine {
                    Combine::Sum => *v += value,
                    Combine::Max => *v = v.max(*value),
                })
                .or_insert(*value);
        }
    }
    Ok(())
}

/// What a region's harvest fetched and what it cost in metric queries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionSeries {
    /// One per function, in the order given (idle functions: empty).
    pub series: Vec<FunctionSeries>,
    /// Functions with at least one query.
    pub active_functions: usize,
    /// Metric queries sent (the GetMetricData billing unit), NextToken pages not counted again.
    pub metric_queries: usize,
}

/// Fetches every statistic of `functions` (all of one account and region) over `window`:
/// ListMetrics to find the active functions and their metrics (when the window is recent
/// enough to be listed, judged at `now`), then GetMetricData for them.
pub async fn harvest(
    session: &AccountSession,
    region: &str,
    functions: &[FunctionRecord],
    window: &Window,
    now: DateTime<Utc>,
    calls: &ApiCallCounter,
) -> Result<RegionSeries, HarvestError> {
    let config = aws_sdk_cloudwatch::config::Builder::from(&session.sdk_config)
        .region(Region::new(region.to_string()))
        .build();
    let client = aws_sdk_cloudwatch::Client::from_conf(config);
    let failed = |reason: String| HarvestError::GetMetricData {
        account_id: session.account_id.clone(),
        region: region.to_string(),
        reason,
    };

    let catalog = match listing_scope(window, now) {
        ListingScope::Unavailable => None,
        scope => match list_lambda_metrics(&client, scope, calls).await {
            Ok(listed) => Some(MetricCatalog::from_listed(listed)),
            Err(reason) => {
                return Err(HarvestError::ListMetrics {
                    account_id: session.account_id.clone(),
                    region: region.to_string(),
                    reason,
                })
            }
        },
    };
    let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    // Lambda Insights only where some function is active: an idle region costs no listing.
    let with_insights = match (&catalog, listing_scope(window, now)) {
        (Some(catalog), scope) if names.iter().any(|n| catalog.is_active(n)) => {
            list_functions_with_insights(&client, scope, calls).await.map_err(|reason| HarvestError::ListMetrics {
                account_id: session.account_id.clone(),
                region: region.to_string(),
                reason: format!("namespace {}: {reason}", insights::NAMESPACE),
            })?
        }
        _ => Default::default(),
    };
    let queries = plan_queries_with_insights(&names, catalog.as_ref(), &with_insights);
    let mut series = vec![FunctionSeries::default(); functions.len()];
    for query in &queries {
        series[query.function_index].queried.insert(query.spec.key);
    }
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
    let active_functions = series.iter().filter(|s| !s.queried.is_empty()).count();
    Ok(RegionSeries { series, active_functions, metric_queries: queries.len() })
}

fn sdk_query(query: &PlannedQuery, function_name: &str, period_seconds: u32) -> MetricDataQuery {
    let mut metric = Metric::builder()
        .namespace(query.spec.namespace)
        .metric_name(query.spec.metric_name)
        .dimensions(Dimension::builder().name(query.spec.function_dimension).value(function_name).build());
    if let Some(resource) = &query.resource {
        metric = metric.dimensions(Dimension::builder().name(RESOURCE_DIMENSION).value(resource).build());
    }
    let metric = metric.build();
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
    use super::plan::plan_queries;
    use crate::harvest::MetricKey;

    fn by_id(queries: &[PlannedQuery]) -> HashMap<&str, &PlannedQuery> {
        queries.iter().map(|q| (q.id.as_str(), q)).collect()
    }

    #[test]
    fn unknown_ids_and_failed_statuses_are_errors() {
        let queries = plan_queries(&["orders"], None);
        let by_id = by_id(&queries);
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

    #[test]
    fn per_alias_series_combine_by_their_statistic() {
        let catalog = MetricCatalog::from_listed(
            [("ProvisionedConcurrencyUtilization", "api:live"), ("ProvisionedConcurrencyUtilization", "api:canary"),
             ("ProvisionedConcurrencySpilloverInvocations", "api:live"), ("ProvisionedConcurrencySpilloverInvocations", "api:canary")]
                .map(|(m, r)| catalog::ListedMetric::new(m, &[("FunctionName", "api"), ("Resource", r)])),
        );
        let queries = plan_queries(&["api"], Some(&catalog));
        let mut series = vec![FunctionSeries::default()];
        let page: MetricDataPage = serde_json::from_str(
            r#"{"MetricDataResults": [
                {"Id": "m0_pcu_0", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [0.5, 0.25], "StatusCode": "Complete"},
                {"Id": "m0_pcu_1", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [0.75], "StatusCode": "Complete"},
                {"Id": "m0_pcs_0", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [3.0], "StatusCode": "Complete"},
                {"Id": "m0_pcs_1", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [4.0, 1.0], "StatusCode": "Complete"}]}"#,
        )
        .unwrap();
        absorb_page(&page, &by_id(&queries), &mut series).unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let s = &series[0];
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencyUtilizationMax, &at("2026-11-26T15:00:00Z")), Some(0.75));
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencyUtilizationMax, &at("2026-11-26T15:05:00Z")), Some(0.25));
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencySpillover, &at("2026-11-26T15:00:00Z")), Some(7.0));
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencySpillover, &at("2026-11-26T15:05:00Z")), Some(1.0));
    }
}
