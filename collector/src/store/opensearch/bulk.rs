//! The `_bulk` API: encoding a request body (ndjson) and reading the per-item results.

use lfm_opensearch::error::truncate;
use serde::Deserialize;

use crate::store::IndexedDocument;

/// `{"index": {...}}` + document, one line each: `index` creates or replaces by `_id`.
pub fn encode(documents: &[&IndexedDocument]) -> String {
    let mut body = String::new();
    for doc in documents {
        let action = serde_json::json!({ "index": { "_index": doc.index, "_id": doc.id } });
        body.push_str(&action.to_string());
        body.push('\n');
        body.push_str(&doc.body.to_string());
        body.push('\n');
    }
    body
}

#[derive(Debug, Deserialize)]
pub struct BulkResponse {
    #[serde(default)]
    pub errors: bool,
    pub items: Vec<BulkResponseItem>,
}

/// Each item is `{"<action>": {...}}`; we only send `index`, but read any action.
#[derive(Debug, Deserialize)]
pub struct BulkResponseItem {
    #[serde(alias = "create", alias = "update", alias = "delete")]
    pub index: BulkItemResult,
}

#[derive(Debug, Deserialize)]
pub struct BulkItemResult {
    #[serde(rename = "_index", default)]
    pub index: String,
    #[serde(rename = "_id", default)]
    pub id: String,
    pub status: u16,
    pub error: Option<BulkItemError>,
}

#[derive(Debug, Deserialize)]
pub struct BulkItemError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub reason: String,
}

impl BulkItemResult {
    /// `type: reason` of a failed item, e.g. `strict_dynamic_mapping_exception: mapping set to strict ...`.
    pub fn reason(&self) -> String {
        match &self.error {
            Some(e) => format!("{}: {}", e.kind, e.reason),
            None => String::new(),
        }
    }
}

pub fn parse_response(body: &str) -> Result<BulkResponse, String> {
    serde_json::from_str(body).map_err(|e| format!("unreadable _bulk response ({e}): {}", truncate(body, 300)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_ndjson_with_ids() {
        let doc = IndexedDocument {
            index: "lfm-inventory".into(),
            id: "111122223333:us-east-1:orders".into(),
            body: serde_json::json!({"function_name": "orders"}),
        };
        let body = encode(&[&doc, &doc]);
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 4);
        let action: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(action, serde_json::json!({"index": {"_index": "lfm-inventory", "_id": "111122223333:us-east-1:orders"}}));
        assert_eq!(lines[1], r#"{"function_name":"orders"}"#);
        assert!(body.ends_with('\n'));
    }

    /// A response as OpenSearch 2.x writes it when one document broke the strict mapping and
    /// one shard was overloaded.
    #[test]
    fn parses_partial_failures() {
        let body = r#"{
          "took": 30, "errors": true,
          "items": [
            {"index": {"_index": "lfm-metrics-2026.11.26", "_id": "111122223333:us-east-1:orders:1795705200:300",
                       "_version": 1, "result": "created", "forced_refresh": false,
                       "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1, "status": 201}},
            {"index": {"_index": "lfm-metrics-2026.11.26", "_id": "111122223333:us-east-1:orders:1795705500:300",
                       "status": 400,
                       "error": {"type": "strict_dynamic_mapping_exception",
                                 "reason": "mapping set to strict, dynamic introduction of [cold_starts] within [_doc] is not allowed"}}},
            {"index": {"_index": "lfm-metrics-2026.11.26", "_id": "111122223333:us-east-1:orders:1795705800:300",
                       "status": 429,
                       "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}}}
          ]
        }"#;
        let response = parse_response(body).unwrap();
        assert!(response.errors);
        let statuses: Vec<u16> = response.items.iter().map(|i| i.index.status).collect();
        assert_eq!(statuses, [201, 400, 429]);
        assert!(response.items[1].index.reason().starts_with("strict_dynamic_mapping_exception: mapping set to strict"));
        assert_eq!(response.items[0].index.reason(), "");
        assert!(parse_response("<html>502 Bad Gateway</html>").unwrap_err().contains("502 Bad Gateway"));
    }
}
