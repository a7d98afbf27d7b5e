//! Recording deployments in the store stage: before an account's documents are written, read
//! the previous inventory documents of its change candidates with ONE `_mget` and return the
//! [`crate::derive::deployments`] documents of the real changes, written with the account's
//! documents. Realtime `_mget` sees the inventory the previous run wrote without a refresh.
//!
//! Reading is best effort: when the `_mget` fails no deployment is recorded for the account and
//! the caller reports the returned reason as a warning; the collection itself goes on.

use crate::store::opensearch::mget::MgetResponse;
use std::collections::HashMap;

use lfm_opensearch::error::truncate;
use lfm_schema::documents::{inventory_index, InventoryDocument};

use super::opensearch::OpenSearchStore;
use super::IndexedDocument;
use crate::checkpoint::RunPlan;
use crate::derive::deployments::{deployment, indexed_deployment, is_candidate};

/// A candidate: its inventory `_id`, this run's document and the period of its pair's windows.
struct Candidate {
    id: String,
    current: InventoryDocument,
    period_seconds: u32,
}

/// The deployment documents of one account's harvested `documents` (see the module doc).
/// `Err`: the sentence to report (what failed, and that no deployment was recorded).
pub async fn record(
    store: &OpenSearchStore,
    prefix: &str,
    plan: &RunPlan,
    documents: &[IndexedDocument],
) -> Result<Vec<IndexedDocument>, String> {
    let candidates = candidates(prefix, plan, documents);
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    let previous = store.previous_inventory(prefix, &ids).await.map_err(|e| {
        format!("deployments not recorded for {} changed functions: reading their previous inventory failed: {e}", ids.len())
    })?;
    Ok(candidates
        .iter()
        .filter_map(|c| deployment(previous.get(&c.id), &c.current, c.period_seconds))
        .map(|d| indexed_deployment(prefix, &d))
        .collect())
}

/// The inventory documents among `documents` whose LastModified falls at or after the start of
/// the earliest window their pair collects in this run (pure).
fn candidates(prefix: &str, plan: &RunPlan, documents: &[IndexedDocument]) -> Vec<Candidate> {
    let index = inventory_index(prefix);
    documents
        .iter()
        .filter(|d| d.index == index)
        .filter_map(|d| {
            let current: InventoryDocument = serde_json::from_value(d.body.clone()).ok()?;
            let first = plan.windows(&current.account_id, &current.region).first()?;
            is_candidate(&current, Some(first.start)).then(|| Candidate { id: d.id.clone(), current, period_seconds: first.period_seconds })
        })
        .collect()
}


/// Found inventory documents by `_id`. A missing index or document is no previous document;
/// any other per-document error fails the read; an unreadable document is skipped (nothing to
/// compare with, as for a first sight).
fn parse_mget(body: &str) -> Result<HashMap<String, InventoryDocument>, String> {
    let response: MgetResponse<serde_json::Value> =
        serde_json::from_str(body).map_err(|e| format!("unreadable _mget response ({e}): {}", truncate(body, 300)))?;
    let mut found = HashMap::new();
    for doc in response.docs {
        if let Some(error) = doc.error {
            if error["type"] == "index_not_found_exception" {
                continue;
            }
            return Err(format!("inventory document {}: {error}", doc.id));
        }
        let Some(source) = doc.source.filter(|_| doc.found) else { continue };
        if let Ok(inventory) = serde_json::from_value(source) {
            found.insert(doc.id, inventory);
        }
    }
    Ok(found)
}

impl OpenSearchStore {
    /// The inventory documents `ids` as the previous collection wrote them (one `_mget`).
    pub async fn previous_inventory(&self, prefix: &str, ids: &[&str]) -> Result<HashMap<String, InventoryDocument>, String> {
        let index = inventory_index(prefix);
        let response = self
            .client()
            .request(reqwest::Method::POST, &format!("{index}/_mget"))
            .action(format!("reading {} previous inventory documents from {index}", ids.len()))
            .json(&serde_json::json!({ "ids": ids }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status == 404 && response.text.contains("index_not_found_exception") {
            return Ok(HashMap::new());
        }
        let response = response.success().map_err(|e| e.to_string())?;
        parse_mget(&response.text).map_err(|reason| response.unexpected(reason).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::PairPlan;
    use crate::config::Window;
    use crate::derive::test_support::{function, t};
    use crate::derive::{indexed_inventory_document, inventory_struct};

    fn plan(start: Option<&str>) -> RunPlan {
        let windows = start
            .map(|s| vec![Window { start: t(s), end: t(s) + chrono::TimeDelta::hours(1), period_seconds: 300 }])
            .unwrap_or_default();
        RunPlan {
            pairs: vec![PairPlan {
                account_id: "111122223333".into(),
                region: "eu-west-1".into(),
                checkpoint: None,
                windows,
                gap: None,
                may_advance: true,
                note: None,
            }],
            error: None,
        }
    }

    #[test]
    fn candidates_are_inventory_documents_modified_inside_the_window() {
        let mut changed = function("orders");
        changed.last_modified = Some(t("2026-11-26T14:05:00Z"));
        let old = function("billing"); // modified 2026-11-01
        let docs: Vec<IndexedDocument> = [&changed, &old]
            .iter()
            .map(|f| indexed_inventory_document("p", f, &inventory_struct(f, &t("2026-11-26T15:00:07Z"))))
            .collect();
        let found = candidates("p", &plan(Some("2026-11-26T14:00:00Z")), &docs);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id.as_str(), found[0].period_seconds), ("111122223333:eu-west-1:orders", 300));
        assert!(candidates("p", &plan(None), &docs).is_empty());
        assert!(candidates("other", &plan(Some("2026-11-26T14:00:00Z")), &docs).is_empty());
    }

    #[test]
    fn reads_mget_answers() {
        let inventory = serde_json::to_value(inventory_struct(&function("orders"), &t("2026-11-26T14:00:07Z"))).unwrap();
        let body = serde_json::json!({"docs": [
            {"_index": "p-inventory", "_id": "111122223333:eu-west-1:orders", "found": true, "_source": inventory},
            {"_index": "p-inventory", "_id": "111122223333:eu-west-1:new", "found": false}
        ]})
        .to_string();
        let found = parse_mget(&body).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found["111122223333:eu-west-1:orders"].memory_mb, Some(256));
        let missing = r#"{"docs": [{"_id": "x", "error": {"type": "index_not_found_exception"}}]}"#;
        assert!(parse_mget(missing).unwrap().is_empty());
        let denied = r#"{"docs": [{"_id": "x", "error": {"type": "security_exception", "reason": "no permissions"}}]}"#;
        assert!(parse_mget(denied).unwrap_err().contains("security_exception"));
        assert!(parse_mget("<html>").unwrap_err().contains("unreadable _mget response"));
    }
}
