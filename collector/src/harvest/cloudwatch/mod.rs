//! CloudWatch for the `AWS/Lambda` namespace: which functions were active and which metrics
//! they publish ([`catalog`], `ListMetrics`), which queries that takes ([`plan`]), and the
//! `GetMetricData` calls that fetch them (here). Functions that publish Lambda Insights
//! ([`lambda_insights`], namespace `LambdaInsights`) get its cold-start and memory statistics in the
//! same calls.
//!
//! GetMetricData is billed per metric requested, not per call, and its call rate per account
//! and region is limited (50 TPS): idle functions get no query, optional metrics are asked
//! for only where they exist, and queries are batched 500 per call. A call whose answer
//! exceeds 100,800 datapoints is continued with `NextToken`.

pub mod catalog;
pub mod lambda_insights;
pub mod limits;
pub mod metrics;
pub mod plan;

use std::collections::{HashMap, HashSet};

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_types::region::Region;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use self::catalog::{list_lambda_metrics, listing_scope, ListingScope, MetricCatalog, RESOURCE_DIMENSION};
use self::lambda_insights::list_functions_with_lambda_insights;
use self::metrics::Combine;
use self::plan::{batches, plan_queries_with_lambda_insights, PlannedQuery};
use super::{FunctionSeries, HarvestError};
use crate::aws_error::{describe, with_advice};
use crate::config::Window;
use crate::discover::{AccountSession, FunctionRecord};
use crate::metering::{actions, skipped, ApiCallCounter};

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

/// Reads the pages of one GetMetricData call into the functions' series, checking each answer
/// against the call's queries and window. Anything that could put a wrong number on a function
/// is an error naming the function, the query and the reason, and the whole chunk is retried
/// by the next run (the region's checkpoint stays):
/// - a result with status `InternalError`, `Forbidden` or one this version does not know;
/// - a result id no query of the call asked for; a query without any result when the call ends;
/// - mismatched `Timestamps`/`Values`; a timestamp off the window's period grid, or given twice
///   for one query (also across `NextToken` pages: a `Sum` would count it twice); a negative
///   value (a count would read as 0);
/// - `Messages` on the answer itself (AWS: the operation was cut short, "as much as possible"
///   was executed).
///
/// `PartialData` results are taken and continued on the next page. Datapoints outside the
/// window are not ours: skipped and counted ([`PageReader::points_outside_window`]); a
/// non-finite value is no datapoint (counted too).
pub struct PageReader<'a> {
    queries_by_id: HashMap<&'a str, &'a PlannedQuery>,
    function_names: &'a [&'a str],
    window: Window,
    seen: HashSet<(&'a str, DateTime<Utc>)>,
    answered: HashSet<&'a str>,
    pub points_outside_window: u64,
    pub non_finite_values: u64,
}

impl<'a> PageReader<'a> {
    /// For a call carrying `queries` (planned for `function_names`) over `window`.
    pub fn new(queries: &'a [PlannedQuery], function_names: &'a [&'a str], window: &Window) -> Self {
        Self {
            queries_by_id: queries.iter().map(|q| (q.id.as_str(), q)).collect(),
            function_names,
            window: *window,
            seen: HashSet::new(),
            answered: HashSet::new(),
            points_outside_window: 0,
            non_finite_values: 0,
        }
    }

    fn describe(&self, query: &PlannedQuery) -> String {
        let function = self.function_names.get(query.function_index).copied().unwrap_or("?");
        let resource = query.resource.as_deref().map(|r| format!(" of {r}")).unwrap_or_default();
        format!("function {function}: query {} ({} {}{resource})", query.id, query.spec.metric_name, query.spec.stat)
    }

    /// Adds one page's datapoints to `series` (indexed like the functions).
    pub fn absorb(&mut self, page: &MetricDataPage, series: &mut [FunctionSeries]) -> Result<(), String> {
        let messages = |list: &[MessageData]| -> String {
            list.iter()
                .map(|m| format!("{}: {}", m.code.as_deref().unwrap_or("?"), m.value.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        if !page.messages.is_empty() {
            return Err(format!("the answer carries messages, so it may be incomplete: {}", messages(&page.messages)));
        }
        for result in &page.metric_data_results {
            let (&id, &query) = self
                .queries_by_id
                .get_key_value(result.id.as_str())
                .ok_or_else(|| format!("result id {:?} matches no query of this call", result.id))?;
            let described = self.describe(query);
            match result.status_code.as_deref() {
                None | Some("Complete") | Some("PartialData") => {}
                Some(status) => {
                    return Err(format!("{described} returned status {status}: {}", messages(&result.messages)));
                }
            }
            if !result.messages.is_empty() {
                tracing::warn!("GetMetricData {described}: {}", messages(&result.messages));
            }
            if result.timestamps.len() != result.values.len() {
                return Err(format!(
                    "{described} returned {} timestamps but {} values",
                    result.timestamps.len(),
                    result.values.len()
                ));
            }
            self.answered.insert(id);
            let step = i64::from(self.window.period_seconds.max(1));
            // Several queries feed one statistic when it is read per alias or version.
            let points = series[query.function_index].points.entry(query.spec.key).or_default();
            for (timestamp, value) in result.timestamps.iter().zip(&result.values) {
                if *timestamp < self.window.start || *timestamp >= self.window.end {
                    self.points_outside_window += 1;
                    continue;
                }
                if (*timestamp - self.window.start).num_seconds() % step != 0 || timestamp.timestamp_subsec_nanos() != 0 {
                    return Err(format!(
                        "{described} returned timestamp {} off the {}s period grid of the window starting {}",
                        timestamp.to_rfc3339(),
                        self.window.period_seconds,
                        self.window.start.to_rfc3339()
                    ));
                }
                if !self.seen.insert((id, *timestamp)) {
                    return Err(format!("{described} returned timestamp {} twice", timestamp.to_rfc3339()));
                }
                if !value.is_finite() {
                    self.non_finite_values += 1;
                    continue;
                }
                // Every statistic LFM reads is a count, a duration, an age or a ratio.
                if *value < 0.0 {
                    return Err(format!(
                        "{described} returned {value} at {}: a negative value for a statistic that cannot be negative",
                        timestamp.to_rfc3339()
                    ));
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

    /// After the last page: every query must have had a result (a missing one would read as
    /// "no datapoint", i.e. 0 errors or no row, for its function).
    pub fn finish(&self) -> Result<(), String> {
        let mut missing: Vec<&PlannedQuery> =
            self.queries_by_id.iter().filter(|(id, _)| !self.answered.contains(*id)).map(|(_, q)| *q).collect();
        missing.sort_by(|a, b| a.id.cmp(&b.id));
        match missing.first() {
            None => Ok(()),
            Some(first) => Err(format!(
                "the answer has no result for {}{}",
                self.describe(first),
                match missing.len() {
                    1 => String::new(),
                    n => format!(" and {} other queries", n - 1),
                }
            )),
        }
    }
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
/// enough to be listed, judged at `now`), then GetMetricData for them; with `lambda_insights`
/// also the Lambda Insights statistics of the active functions that publish them.
pub async fn harvest(
    session: &AccountSession,
    region: &str,
    functions: &[FunctionRecord],
    window: &Window,
    now: DateTime<Utc>,
    lambda_insights: bool,
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
    let with_lambda_insights = match (&catalog, listing_scope(window, now)) {
        (Some(catalog), scope) if lambda_insights && names.iter().any(|n| catalog.is_active(n)) => {
            list_functions_with_lambda_insights(&client, scope, calls).await.map_err(|reason| HarvestError::ListMetrics {
                account_id: session.account_id.clone(),
                region: region.to_string(),
                reason: format!("namespace {}: {reason}", lambda_insights::NAMESPACE),
            })?
        }
        _ => Default::default(),
    };
    let queries = plan_queries_with_lambda_insights(&names, catalog.as_ref(), &with_lambda_insights);
    let mut series = vec![FunctionSeries::default(); functions.len()];
    for query in &queries {
        series[query.function_index].queried.insert(query.spec.key);
    }
    for batch in batches(&queries) {
        let mut reader = PageReader::new(batch, &names, window);
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
                .map_err(|e| failed(with_advice(&describe(e, Some(region)), super::GET_METRIC_DATA_ADVICE)))?;
            let page = page_from_sdk(&output);
            reader.absorb(&page, &mut series).map_err(failed)?;
            match page.next_token {
                Some(token) if !token.is_empty() && next_token.as_deref() != Some(token.as_str()) => {
                    next_token = Some(token)
                }
                Some(token) if !token.is_empty() => {
                    return Err(failed(format!("CloudWatch GetMetricData returned the same NextToken '{token}' twice; stopping to avoid an endless loop")))
                }
                _ => break,
            }
        }
        reader.finish().map_err(failed)?;
        calls.record_skipped(skipped::CLOUDWATCH_OUTSIDE_WINDOW, reader.points_outside_window);
        calls.record_skipped(skipped::CLOUDWATCH_NON_FINITE, reader.non_finite_values);
        if reader.points_outside_window + reader.non_finite_values > 0 {
            tracing::warn!(
                "account {} region {region}: GetMetricData returned {} datapoints outside the window and {} non-finite values; skipped",
                session.account_id,
                reader.points_outside_window,
                reader.non_finite_values
            );
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
    use super::plan::plan_queries;
    use super::*;
    use crate::harvest::MetricKey;

    fn window() -> Window {
        Window::new(at("2026-11-26T15:00:00Z"), at("2026-11-26T16:00:00Z"), 300).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn page(json: &str) -> MetricDataPage {
        serde_json::from_str(json).unwrap()
    }

    /// Series of `names` (no catalog: every statistic at function level) after `pages`, or the
    /// first error, with `finish` checked after the last page.
    fn read(names: &[&str], pages: &[&str]) -> Result<Vec<FunctionSeries>, String> {
        let queries = plan_queries(names, None);
        let mut series = vec![FunctionSeries::default(); names.len()];
        let mut reader = PageReader::new(&queries, names, &window());
        for p in pages {
            reader.absorb(&page(p), &mut series)?;
        }
        reader.finish()?;
        Ok(series)
    }

    /// A Complete result for every query of function 0..n except those in `except`, no datapoints.
    fn empty_results(names: &[&str], except: &[&str]) -> String {
        let results: Vec<String> = plan_queries(names, None)
            .iter()
            .filter(|q| !except.contains(&q.id.as_str()))
            .map(|q| format!(r#"{{"Id": "{}", "Timestamps": [], "Values": [], "StatusCode": "Complete"}}"#, q.id))
            .collect();
        format!(r#"{{"MetricDataResults": [{}]}}"#, results.join(","))
    }

    #[test]
    fn unknown_ids_and_failed_statuses_are_errors_naming_the_function() {
        let queries = plan_queries(&["orders"], None);
        let mut series = vec![FunctionSeries::default()];
        let mut reader = PageReader::new(&queries, &["orders"], &window());
        let unknown = page(r#"{"MetricDataResults": [{"Id": "m7_inv", "Timestamps": [], "Values": [], "StatusCode": "Complete"}]}"#);
        assert!(reader.absorb(&unknown, &mut series).unwrap_err().contains("m7_inv"));
        let forbidden = page(
            r#"{"MetricDataResults": [{"Id": "m0_err", "StatusCode": "Forbidden",
                "Messages": [{"Code": "AccessDenied", "Value": "not authorized"}]}]}"#,
        );
        let err = reader.absorb(&forbidden, &mut series).unwrap_err();
        for part in ["function orders", "m0_err", "Errors Sum", "Forbidden", "AccessDenied"] {
            assert!(err.contains(part), "{part} missing from {err}");
        }
    }

    #[test]
    fn an_internal_error_for_one_query_fails_the_call_instead_of_reading_as_zero() {
        // billing's Errors query failed: read as "no datapoint" it would be 0 errors.
        let internal = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [10.0], "StatusCode": "Complete"},
            {"Id": "m1_err", "Timestamps": [], "Values": [], "StatusCode": "InternalError",
             "Messages": [{"Code": "InternalError", "Value": "An internal error occurred"}]}]}"#;
        let err = read(&["orders", "billing"], &[internal]).unwrap_err();
        assert!(err.contains("function billing") && err.contains("InternalError") && err.contains("m1_err"), "{err}");
        let odd = r#"{"MetricDataResults": [{"Id": "m0_inv", "Timestamps": [], "Values": [], "StatusCode": "SomethingNew"}]}"#;
        assert!(read(&["orders"], &[odd]).unwrap_err().contains("SomethingNew"));
    }

    #[test]
    fn partial_data_pages_are_followed_and_joined() {
        let names = ["orders"];
        let first = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [10.0, 12.0], "StatusCode": "PartialData"}],
            "NextToken": "page-2"}"#;
        let rest = empty_results(&names, &["m0_inv"]);
        let second = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:10:00Z"], "Values": [7.0], "StatusCode": "Complete"}]}"#;
        let series = read(&names, &[first, &rest, second]).unwrap();
        let inv = &series[0].points[&MetricKey::Invocations];
        assert_eq!(inv.values().copied().collect::<Vec<_>>(), [10.0, 12.0, 7.0]);
        // A page repeating a timestamp of the same query would double a Sum: an error.
        let repeat = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:05:00Z"], "Values": [12.0], "StatusCode": "Complete"}]}"#;
        assert!(read(&names, &[first, repeat]).unwrap_err().contains("twice"));
    }

    #[test]
    fn timestamps_outside_the_window_are_skipped_and_off_grid_ones_are_errors() {
        let names = ["orders"];
        let rest = empty_results(&names, &["m0_inv"]);
        let outside = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T14:55:00Z", "2026-11-26T15:00:00Z", "2026-11-26T16:00:00Z"], "Values": [99.0, 10.0, 98.0], "StatusCode": "Complete"}]}"#;
        let queries = plan_queries(&names, None);
        let mut series = vec![FunctionSeries::default()];
        let mut reader = PageReader::new(&queries, &names, &window());
        reader.absorb(&page(outside), &mut series).unwrap();
        reader.absorb(&page(&rest), &mut series).unwrap();
        reader.finish().unwrap();
        assert_eq!(reader.points_outside_window, 2);
        assert_eq!(series[0].points[&MetricKey::Invocations].len(), 1);
        assert_eq!(series[0].get(MetricKey::Invocations, &at("2026-11-26T15:00:00Z")), Some(10.0));
        let off_grid = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:02:30Z"], "Values": [5.0], "StatusCode": "Complete"}]}"#;
        let err = read(&names, &[off_grid, &rest]).unwrap_err();
        assert!(err.contains("function orders") && err.contains("15:02:30") && err.contains("300s"), "{err}");
    }

    #[test]
    fn mismatched_arrays_page_messages_and_missing_results_are_errors() {
        let names = ["orders"];
        let rest = empty_results(&names, &["m0_inv"]);
        let mismatched = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [1.0], "StatusCode": "Complete"}]}"#;
        let err = read(&names, &[mismatched, &rest]).unwrap_err();
        assert!(err.contains("2 timestamps but 1 values") && err.contains("function orders"), "{err}");
        let messages = r#"{"MetricDataResults": [], "Messages": [{"Code": "MaxMetricsExceeded", "Value": "Maximum number of allowed metrics exceeded"}]}"#;
        let err = read(&names, &[messages]).unwrap_err();
        assert!(err.contains("MaxMetricsExceeded") && err.contains("incomplete"), "{err}");
        // An empty MetricDataResults: every query unanswered.
        let err = read(&names, &[r#"{"MetricDataResults": []}"#]).unwrap_err();
        assert!(err.contains("no result for function orders: query m0_") && err.contains("and 15 other queries"), "{err}");
        // All answered, no datapoint anywhere: an idle function, no rows, no error.
        let series = read(&names, &[&empty_results(&names, &[])]).unwrap();
        assert!(series[0].period_starts().is_empty());
        assert_eq!(series[0].queried.len(), 0, "queried is the planner's to set");
    }

    #[test]
    fn non_finite_values_and_result_messages_are_no_datapoint() {
        let names = ["orders"];
        let rest = empty_results(&names, &["m0_dmax"]);
        // serde reads a NaN the SDK would hand over; JSON has none, so build it.
        let mut odd = page(r#"{"MetricDataResults": [
            {"Id": "m0_dmax", "Timestamps": ["2026-11-26T15:00:00Z", "2026-11-26T15:05:00Z"], "Values": [0.0, 40.0], "StatusCode": "Complete",
             "Messages": [{"Code": "Info", "Value": "something to know"}]}]}"#);
        odd.metric_data_results[0].values[0] = f64::NAN;
        let queries = plan_queries(&names, None);
        let mut series = vec![FunctionSeries::default()];
        let mut reader = PageReader::new(&queries, &names, &window());
        reader.absorb(&odd, &mut series).unwrap();
        reader.absorb(&page(&rest), &mut series).unwrap();
        reader.finish().unwrap();
        assert_eq!(reader.non_finite_values, 1);
        assert_eq!(series[0].get(MetricKey::DurationMax, &at("2026-11-26T15:00:00Z")), None);
        assert_eq!(series[0].get(MetricKey::DurationMax, &at("2026-11-26T15:05:00Z")), Some(40.0));
    }

    #[test]
    fn a_negative_count_is_an_error_not_zero() {
        let names = ["orders"];
        let rest = empty_results(&names, &["m0_inv"]);
        let negative = r#"{"MetricDataResults": [
            {"Id": "m0_inv", "Timestamps": ["2026-11-26T15:00:00Z"], "Values": [-1.0], "StatusCode": "Complete"}]}"#;
        let err = read(&names, &[negative, &rest]).unwrap_err();
        assert!(err.contains("function orders") && err.contains("-1") && err.contains("Invocations Sum"), "{err}");
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
        PageReader::new(&queries, &["api"], &window()).absorb(&page, &mut series).unwrap();
        let s = &series[0];
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencyUtilizationMax, &at("2026-11-26T15:00:00Z")), Some(0.75));
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencyUtilizationMax, &at("2026-11-26T15:05:00Z")), Some(0.25));
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencySpillover, &at("2026-11-26T15:00:00Z")), Some(7.0));
        assert_eq!(s.get(MetricKey::ProvisionedConcurrencySpillover, &at("2026-11-26T15:05:00Z")), Some(1.0));
    }
}
