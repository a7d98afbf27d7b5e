//! OpenSearch over its REST API (reqwest): install the `lfm-schema` index templates, then write
//! documents with `_bulk`, retrying what is transient and reporting what still fails.
//!
//! - [`config`]: where and how to write ([`OpenSearchConfig`]);
//! - [`auth`]: none, basic auth or SigV4 (`es`/`aoss`), applied to every request below;
//! - [`bulk`]: request encoding and response parsing (pure);
//! - [`retry`]: which statuses are retried and the backoff (pure);
//! - [`checkpoint`]: the collector's checkpoints in `{prefix}-state`;
//! - this file: the HTTP I/O.

pub mod auth;
pub mod bulk;
pub mod checkpoint;
pub mod config;
pub mod retry;

pub use self::auth::{OpenSearchAuth, SigV4Service};
pub use self::config::OpenSearchConfig;

use reqwest::StatusCode;

use self::auth::{AuthedRequest, Authenticator};
use self::retry::{decide, Decision, RetryPolicy};
use super::{FailedDocument, IndexedDocument, StoreReport};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("OpenSearch at {url}: installing index template {name} failed: {reason}. Check the URL, the credentials (LFM_OPENSEARCH_USER/LFM_OPENSEARCH_PASSWORD; with opensearch_auth = sigv4 the AWS identity, opensearch_sigv4_service and opensearch_region) and that the user or role may manage index templates")]
    Template { url: String, name: String, reason: String },
    #[error("OpenSearch client: {0}")]
    Client(String),
}

pub struct OpenSearchStore {
    http: reqwest::Client,
    config: OpenSearchConfig,
    retry: RetryPolicy,
    auth: Authenticator,
}

/// Why a whole `_bulk` request failed, and whether trying again may help.
struct RequestFailure {
    status: u16,
    reason: String,
    decision: Decision,
}

impl OpenSearchStore {
    pub fn new(config: &OpenSearchConfig) -> Result<Self, StoreError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| StoreError::Client(e.to_string()))?;
        let auth = Authenticator::new(config.auth.clone());
        Ok(Self { http, config: config.clone(), retry: RetryPolicy::default(), auth })
    }

    /// Every request to OpenSearch starts here, so every one is authenticated ([`auth`]).
    fn request(&self, method: reqwest::Method, path: &str) -> AuthedRequest<'_> {
        self.auth.request(&self.http, method, &format!("{}/{path}", self.config.url))
    }

    /// `PUT _index_template/{name}` for every template of `lfm-schema` (idempotent).
    pub async fn install_templates(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut installed = Vec::new();
        for (name, body) in lfm_schema::documents::index_templates(prefix) {
            let failed = |reason: String| StoreError::Template {
                url: self.config.url.clone(),
                name: name.clone(),
                reason,
            };
            let response = self
                .request(reqwest::Method::PUT, &format!("_index_template/{name}"))
                .json(&body)
                .send()
                .await
                .map_err(|e| failed(error_chain(&e)))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                return Err(failed(format!("HTTP {status}: {}", bulk::truncate(&text, 500))));
            }
            // Not fatal: an index whose mapping clashes (made by hand, or by an incompatible
            // version) is reported here, and its documents fail one by one with the reason.
            if let Err(e) = self.upgrade_existing_mappings(&body).await {
                tracing::warn!("index template {name}: {e}. Documents for those indices may be rejected");
            }
            installed.push(name);
        }
        Ok(installed)
    }

    /// A template applies only to indices created after it: an index created under an older
    /// template version (today's daily metrics index, the inventory) keeps its strict mapping
    /// and would reject documents with the new fields. Puts the template's mapping (new fields
    /// are added; existing ones are never changed) on the open indices its patterns match.
    async fn upgrade_existing_mappings(&self, template: &serde_json::Value) -> Result<(), String> {
        let patterns: Vec<&str> = template["index_patterns"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
        let mappings = &template["template"]["mappings"];
        if patterns.is_empty() || mappings.is_null() {
            return Ok(());
        }
        let path = format!("{}/_mapping?allow_no_indices=true&expand_wildcards=open", patterns.join(","));
        let response = self
            .request(reqwest::Method::PUT, &path)
            .json(mappings)
            .send()
            .await
            .map_err(|e| format!("PUT {path}: {}", error_chain(&e)))?;
        let status = response.status();
        // 404: no index exists yet (nothing to upgrade).
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(format!(
            "PUT {path} (upgrading the mapping of existing indices): HTTP {status}: {}",
            bulk::truncate(&text, 500)
        ))
    }

    /// Deletes the daily metrics indices of `prefix` older than `retention_days` before
    /// `today` ([`crate::store::retention`]). Never fails: what was deleted and what could not
    /// be (listing, or each index that stays, with OpenSearch's reason) is in the report.
    pub async fn apply_retention(
        &self,
        prefix: &str,
        today: chrono::NaiveDate,
        retention_days: u32,
    ) -> crate::store::retention::RetentionReport {
        let mut report = crate::store::retention::RetentionReport::new(retention_days);
        let pattern = lfm_schema::documents::metrics_index_pattern(prefix);
        let path = format!("_cat/indices/{pattern}?format=json&h=index&expand_wildcards=open,closed");
        let listed: Result<Vec<serde_json::Value>, String> = async {
            let response = self.request(reqwest::Method::GET, &path).send().await.map_err(|e| format!("GET {path}: {}", error_chain(&e)))?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(Vec::new());
            }
            let text = response.text().await.unwrap_or_default();
            if !status.is_success() {
                return Err(format!("GET {path}: HTTP {status}: {}", bulk::truncate(&text, 500)));
            }
            serde_json::from_str(&text).map_err(|e| format!("GET {path}: {e}"))
        }
        .await;
        let rows = match listed {
            Ok(rows) => rows,
            Err(reason) => {
                report.listing_failed(&pattern, &reason);
                return report;
            }
        };
        let names = rows.iter().filter_map(|r| r["index"].as_str());
        let expired = crate::store::retention::expired_metrics_indices(prefix, names, today, retention_days);
        for index in &expired {
            let outcome = match self.request(reqwest::Method::DELETE, index).send().await {
                Err(e) => Err(format!("DELETE {index}: {}", error_chain(&e))),
                // 404: already gone (another run, or by hand).
                Ok(response) if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND => Ok(()),
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    Err(format!("DELETE {index}: HTTP {status}: {}", bulk::truncate(&text, 500)))
                }
            };
            report.deletion(index, outcome);
        }
        report
    }

    /// Writes `documents` in `_bulk` requests of at most `bulk_max_docs`. Every document ends up
    /// in the report, written or failed with a reason.
    pub async fn write(&self, documents: &[IndexedDocument]) -> StoreReport {
        let mut report = StoreReport::default();
        for chunk in documents.chunks(self.config.bulk_max_docs) {
            self.write_chunk(chunk, &mut report).await;
        }
        report
    }

    async fn write_chunk(&self, chunk: &[IndexedDocument], report: &mut StoreReport) {
        let mut pending: Vec<&IndexedDocument> = chunk.iter().collect();
        let mut attempt = 1;
        loop {
            report.bulk_requests += 1;
            let mut retry: Vec<(&IndexedDocument, u16, String)> = Vec::new();
            let started = std::time::Instant::now();
            let sent = self.send_bulk(&pending).await;
            report.bulk_ms += started.elapsed().as_millis() as u64;
            match sent {
                Ok(response) => {
                    if response.items.len() != pending.len() {
                        let reason =
                            format!("_bulk answered {} items for {} documents", response.items.len(), pending.len());
                        fail_all(report, &pending, 0, &reason);
                        return;
                    }
                    for (doc, item) in pending.iter().zip(&response.items) {
                        let item = &item.index;
                        match decide(item.status) {
                            Decision::Done => *report.written_by_index.entry(doc.index.clone()).or_default() += 1,
                            Decision::Retry => retry.push((doc, item.status, item.reason())),
                            Decision::Fail => report.failed.push(failed(doc, item.status, item.reason())),
                        }
                    }
                }
                Err(failure) if failure.decision == Decision::Retry => {
                    retry = pending.iter().map(|doc| (*doc, failure.status, failure.reason.clone())).collect();
                }
                Err(failure) => {
                    fail_all(report, &pending, failure.status, &failure.reason);
                    return;
                }
            }
            if retry.is_empty() {
                return;
            }
            if attempt >= self.retry.max_attempts {
                for (doc, status, reason) in retry {
                    report.failed.push(failed(doc, status, format!("{reason} (gave up after {attempt} attempts)")));
                }
                return;
            }
            tracing::warn!(documents = retry.len(), attempt, "OpenSearch asked to retry; backing off");
            tokio::time::sleep(self.retry.backoff(attempt)).await;
            attempt += 1;
            pending = retry.into_iter().map(|(doc, _, _)| doc).collect();
        }
    }

    async fn send_bulk(&self, documents: &[&IndexedDocument]) -> Result<bulk::BulkResponse, RequestFailure> {
        let response = self
            .request(reqwest::Method::POST, "_bulk")
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(bulk::encode(documents))
            .send()
            .await
            .map_err(|e| match e {
                // No credentials or region: trying again will not help.
                auth::SendError::Sign(_) => RequestFailure { status: 0, reason: e.to_string(), decision: Decision::Fail },
                auth::SendError::Http(_) => RequestFailure {
                    status: 0,
                    reason: format!("no answer from {}: {}", self.config.url, error_chain(&e)),
                    // Connection refused or reset, timeouts: the server may be restarting.
                    decision: Decision::Retry,
                },
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status != StatusCode::OK {
            return Err(RequestFailure {
                status: status.as_u16(),
                reason: format!("_bulk HTTP {status}: {}", bulk::truncate(&text, 500)),
                decision: decide(status.as_u16()),
            });
        }
        bulk::parse_response(&text).map_err(|reason| RequestFailure { status: status.as_u16(), reason, decision: Decision::Fail })
    }
}

fn failed(doc: &IndexedDocument, status: u16, reason: String) -> FailedDocument {
    FailedDocument { index: doc.index.clone(), id: doc.id.clone(), status, reason }
}

fn fail_all(report: &mut StoreReport, documents: &[&IndexedDocument], status: u16, reason: &str) {
    report.failed.extend(documents.iter().map(|doc| failed(doc, status, reason.to_string())));
}

/// reqwest's top-level message ("error sending request") hides the cause; show the chain.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
