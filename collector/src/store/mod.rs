//! Store: write derived documents. Today OpenSearch ([`opensearch`]).
//!
//! Input: [`IndexedDocument`]s (target index, deterministic `_id`, JSON body). Output: a
//! [`StoreReport`] that accounts for every document: written, or failed with the server's
//! reason. Nothing is dropped silently.

pub mod deployments;
pub mod opensearch;
pub mod retention;

use std::collections::BTreeMap;

use serde::Serialize;

/// A document ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedDocument {
    pub index: String,
    pub id: String,
    pub body: serde_json::Value,
}

impl IndexedDocument {
    pub fn new<T: Serialize>(index: String, id: String, document: &T) -> Self {
        let body = serde_json::to_value(document).expect("lfm-schema documents serialize to JSON");
        Self { index, id, body }
    }
}

/// A document the store could not write, with the server's reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedDocument {
    pub index: String,
    pub id: String,
    /// HTTP status of the item (0 when the request itself never got an answer).
    pub status: u16,
    pub reason: String,
}

/// What one or more writes did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreReport {
    pub written_by_index: BTreeMap<String, u64>,
    pub failed: Vec<FailedDocument>,
    pub bulk_requests: u64,
    /// Wall-clock milliseconds spent in `_bulk` requests (sending, OpenSearch indexing,
    /// answer): documents written / this = the write rate into OpenSearch.
    pub bulk_ms: u64,
}

impl StoreReport {
    pub fn merge(&mut self, other: StoreReport) {
        for (index, count) in other.written_by_index {
            *self.written_by_index.entry(index).or_default() += count;
        }
        self.failed.extend(other.failed);
        self.bulk_requests += other.bulk_requests;
        self.bulk_ms += other.bulk_ms;
    }
}
