//! Checkpoint documents in `{prefix}-state`: read them all with one `_mget` (realtime: a
//! checkpoint written by the previous run is visible without a refresh), write them with `_bulk`.

use super::mget::MgetResponse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lfm_schema::documents::{checkpoint_document_id, state_index, CheckpointDocument, CHECKPOINT_KIND};

use lfm_opensearch::error::truncate;

use super::{OpenSearchStore, StoreError};
use crate::store::IndexedDocument;


/// Reads `_mget` answers: found documents by `(account, region)`; a missing index or document
/// is no checkpoint, any other per-document error fails the whole read.
fn parse_mget(body: &str) -> Result<HashMap<(String, String), DateTime<Utc>>, String> {
    let response: MgetResponse<CheckpointDocument> =
        serde_json::from_str(body).map_err(|e| format!("unreadable _mget response ({e}): {}", truncate(body, 300)))?;
    let mut found = HashMap::new();
    for doc in response.docs {
        if let Some(error) = doc.error {
            if error["type"] == "index_not_found_exception" {
                continue;
            }
            return Err(format!("checkpoint {}: {error}", doc.id));
        }
        let Some(source) = doc.source.filter(|_| doc.found) else { continue };
        let until = DateTime::parse_from_rfc3339(&source.complete_until)
            .map_err(|e| format!("checkpoint {}: complete_until {:?}: {e}", doc.id, source.complete_until))?;
        found.insert((source.account_id, source.region), until.with_timezone(&Utc));
    }
    Ok(found)
}

/// The checkpoint document for one pair.
pub fn checkpoint_document(
    prefix: &str,
    account_id: &str,
    region: &str,
    complete_until: DateTime<Utc>,
    period_seconds: u32,
    run_id: &str,
    written_at: DateTime<Utc>,
) -> IndexedDocument {
    let doc = CheckpointDocument {
        timestamp: written_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        kind: CHECKPOINT_KIND.into(),
        account_id: account_id.into(),
        region: region.into(),
        complete_until: complete_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        period_seconds,
        run_id: run_id.into(),
    };
    IndexedDocument::new(state_index(prefix), checkpoint_document_id(account_id, region), &doc)
}

impl OpenSearchStore {
    /// The checkpoints of `pairs` that exist.
    pub async fn load_checkpoints(
        &self,
        prefix: &str,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), DateTime<Utc>>, StoreError> {
        let ids: Vec<String> = pairs.iter().map(|(a, r)| checkpoint_document_id(a, r)).collect();
        let index = state_index(prefix);
        let response = self
            .client()
            .request(reqwest::Method::POST, &format!("{index}/_mget"))
            .action(format!("reading checkpoints from {index}"))
            .json(&serde_json::json!({ "ids": ids }))
            .send()
            .await?;
        if response.status == 404 && response.text.contains("index_not_found_exception") {
            return Ok(HashMap::new());
        }
        let response = response.success()?;
        parse_mget(&response.text).map_err(|reason| StoreError(response.unexpected(reason)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_found_missing_and_absent_index() {
        let body = r#"{"docs": [
            {"_index": "t-state", "_id": "checkpoint:111122223333:us-east-1", "_version": 3, "found": true,
             "_source": {"@timestamp": "2026-11-26T16:16:00Z", "kind": "checkpoint", "account_id": "111122223333",
                         "region": "us-east-1", "complete_until": "2026-11-26T16:15:00Z", "period_seconds": 300, "run_id": "r"}},
            {"_index": "t-state", "_id": "checkpoint:111122223333:eu-west-1", "found": false}
        ]}"#;
        let found = parse_mget(body).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[&("111122223333".to_string(), "us-east-1".to_string())],
            "2026-11-26T16:15:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let missing_index = r#"{"docs": [{"_index": "t-state", "_id": "checkpoint:1:r",
            "error": {"type": "index_not_found_exception", "reason": "no such index [t-state]"}}]}"#;
        assert!(parse_mget(missing_index).unwrap().is_empty());
        let other = r#"{"docs": [{"_index": "t-state", "_id": "checkpoint:1:r",
            "error": {"type": "security_exception", "reason": "no permissions for [indices:data/read/mget]"}}]}"#;
        assert!(parse_mget(other).unwrap_err().contains("security_exception"));
    }

    #[test]
    fn document_id_and_index() {
        let at: DateTime<Utc> = "2026-11-26T16:15:00Z".parse().unwrap();
        let doc = checkpoint_document("t", "111122223333", "us-east-1", at, 300, "r1", at);
        assert_eq!((doc.index.as_str(), doc.id.as_str()), ("t-state", "checkpoint:111122223333:us-east-1"));
        assert_eq!(doc.body["complete_until"], "2026-11-26T16:15:00Z");
    }
}
