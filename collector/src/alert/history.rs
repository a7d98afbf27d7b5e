//! The history of the candidates, read with as few requests as possible: `POST
//! {metrics indices written}/_refresh` (this run's documents become searchable), then ONE
//! search over `{p}-metrics-*` with a terms filter on the candidates' ARNs, a time range and
//! `_source` limited to the fields the rules need; pages (`search_after`) only past 10,000
//! hits. Part of [`crate::alert`].

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::store::opensearch::OpenSearchStore;

use super::series::{MetricTable, SeriesSet};

/// Hits per page (OpenSearch's default `index.max_result_window` is 10,000).
pub const PAGE_SIZE: usize = 10_000;

/// Fields every row needs besides the metrics.
const IDENTITY_FIELDS: [&str; 7] = ["@timestamp", "period_seconds", "account_id", "region", "function_name", "function_arn", "invocations"];

/// What the history read did.
#[derive(Debug, Default)]
pub struct HistoryRead {
    pub series: SeriesSet,
    pub requests: u64,
    pub pages: u64,
    pub hits: u64,
}

fn rfc(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The search body for `arns` with periods starting in [`from`, `to`) (unix seconds).
pub fn search_body(arns: &[&str], from: i64, to: i64, source: &[String], after: Option<&Value>) -> Value {
    let mut body = json!({
        "size": PAGE_SIZE,
        "track_total_hits": false,
        "_source": source,
        "query": {"bool": {"filter": [
            {"terms": {"function_arn": arns}},
            {"range": {"@timestamp": {"gte": rfc(from), "lt": rfc(to)}}}
        ]}},
        "sort": [{"function_arn": "asc"}, {"@timestamp": "asc"}, {"period_seconds": "asc"}]
    });
    if let Some(after) = after {
        body["search_after"] = after.clone();
    }
    body
}

/// The `_source` fields: identity plus the metrics the rules read.
pub fn source_fields(table: &MetricTable) -> Vec<String> {
    let mut fields: Vec<String> = IDENTITY_FIELDS.iter().map(|f| f.to_string()).collect();
    // Every rule metric is the metrics document's field of the same name.
    for metric in &table.metrics {
        if !fields.iter().any(|f| f == metric) {
            fields.push(metric.clone());
        }
    }
    fields
}

/// Reads a search answer into `series`; returns the hit count and the last hit's sort values.
pub fn read_hits(answer: &Value, table: &MetricTable, series: &mut SeriesSet) -> Result<(usize, Option<Value>), String> {
    let hits = answer["hits"]["hits"].as_array().ok_or("the answer has no hits.hits")?;
    for hit in hits {
        series.add(&hit["_source"], table);
    }
    Ok((hits.len(), hits.last().map(|h| h["sort"].clone())))
}

/// Refreshes `indices` (this run's metrics indices) and reads the history of `arns`.
pub async fn read(
    store: &OpenSearchStore,
    prefix: &str,
    indices: &[String],
    arns: &[&str],
    from: i64,
    to: i64,
    table: &MetricTable,
) -> Result<HistoryRead, String> {
    let mut read = HistoryRead::default();
    let reason = |e: lfm_opensearch::Error| e.to_string();
    let client = store.client();
    if !indices.is_empty() {
        // Many daily indices (a backfill): the pattern is shorter and does the same.
        let target = if indices.len() <= 20 { indices.join(",") } else { lfm_schema::documents::metrics_index_pattern(prefix) };
        read.requests += 1;
        client
            .request(Method::POST, &format!("{target}/_refresh?ignore_unavailable=true&allow_no_indices=true"))
            .action(format!("refreshing {target} before the alert history search"))
            .send()
            .await
            .map_err(reason)?
            .success()
            .map_err(reason)?;
    }
    if arns.is_empty() {
        return Ok(read);
    }
    let pattern = lfm_schema::documents::metrics_index_pattern(prefix);
    let source = source_fields(table);
    let mut after: Option<Value> = None;
    loop {
        read.requests += 1;
        read.pages += 1;
        let body = search_body(arns, from, to, &source, after.as_ref());
        let response = client
            .request(Method::POST, &format!("{pattern}/_search?ignore_unavailable=true&allow_no_indices=true"))
            .action(format!("reading the alert history of {} functions from {pattern}", arns.len()))
            .json(&body)
            .send()
            .await
            .map_err(reason)?
            .success()
            .map_err(reason)?;
        let (count, last) = read_hits(&response.json(), table, &mut read.series).map_err(|e| format!("{pattern}/_search: {e}"))?;
        read.hits += count as u64;
        if count < PAGE_SIZE || last.is_none() {
            break;
        }
        after = last;
    }
    read.series.finish();
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_is_filtered_sorted_and_pages_after_the_last_hit() {
        let table = MetricTable { metrics: vec!["error_rate".into()] };
        let body = search_body(&["arn:a", "arn:b"], 0, 900, &source_fields(&table), None);
        assert_eq!(body["query"]["bool"]["filter"][0]["terms"]["function_arn"], json!(["arn:a", "arn:b"]));
        assert_eq!(body["query"]["bool"]["filter"][1]["range"]["@timestamp"], json!({"gte": "1970-01-01T00:00:00Z", "lt": "1970-01-01T00:15:00Z"}));
        assert!(body["_source"].as_array().unwrap().contains(&json!("error_rate")));
        assert!(body.get("search_after").is_none());
        let paged = search_body(&["arn:a"], 0, 900, &[], Some(&json!(["arn:a", 300000, 300])));
        assert_eq!(paged["search_after"], json!(["arn:a", 300000, 300]));
    }

    #[test]
    fn hits_become_sorted_rows() {
        let table = MetricTable { metrics: vec!["error_rate".into()] };
        let hit = |start: &str, rate: f64| {
            json!({"_source": {"@timestamp": start, "period_seconds": 300, "account_id": "1", "region": "r",
                   "function_name": "f", "function_arn": "arn:f", "invocations": 100, "errors": 1, "error_rate": rate},
                   "sort": ["arn:f", 0, 300]})
        };
        let answer = json!({"hits": {"hits": [hit("2026-11-26T14:05:00Z", 0.2), hit("2026-11-26T14:00:00Z", 0.1)]}});
        let mut series = SeriesSet::default();
        let (count, last) = read_hits(&answer, &table, &mut series).unwrap();
        series.finish();
        assert_eq!(count, 2);
        assert_eq!(last, Some(json!(["arn:f", 0, 300])));
        let f = &series.functions["arn:f"];
        assert_eq!(f.rows.len(), 2);
        assert!(f.rows[0].start < f.rows[1].start);
        assert_eq!(f.rows[1].values[0], Some(0.2));
        assert!(read_hits(&json!({"error": "x"}), &table, &mut series).is_err());
    }
}
