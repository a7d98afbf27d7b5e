//! The answer of `_mget`, shared by the checkpoint read ([`super::checkpoint`]) and the
//! previous-inventory read of deployments (`crate::store::deployments`).

use serde::Deserialize;

/// `{"docs": [...]}`, one entry per requested `_id`, `_source` as `S`.
#[derive(Debug, Deserialize)]
pub struct MgetResponse<S> {
    pub docs: Vec<MgetDoc<S>>,
}

/// One requested document: found (with its source) or not, or a per-document error.
#[derive(Debug, Deserialize)]
pub struct MgetDoc<S> {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub found: bool,
    #[serde(rename = "_source")]
    pub source: Option<S>,
    pub error: Option<serde_json::Value>,
}
