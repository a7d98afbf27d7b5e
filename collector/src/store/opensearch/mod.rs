//! OpenSearch through the one LFM OpenSearch client (`lfm-opensearch`: authentication,
//! timeouts, the retry decision, the template install, readable errors): install the
//! `lfm-schema` index templates, then write documents with `_bulk`, trying again the items
//! OpenSearch calls transient and reporting what still fails.
//!
//! - [`config`]: where and how to write ([`OpenSearchConfig`]), and the client configuration
//!   with the collector's setting names;
//! - [`bulk`]: `_bulk` request encoding and response parsing (pure);
//! - [`checkpoint`]: the collector's checkpoints in `{prefix}-state`;
//! - this file: the store ([`OpenSearchStore`]): templates, retention, `_bulk` writes.

pub mod bulk;
pub mod checkpoint;
pub mod config;
pub mod mget;

pub use self::config::{OpenSearchAuth, OpenSearchConfig, SigV4Service, Timeouts};

use lfm_opensearch::retry::{decide_status, Decision};
use lfm_opensearch::{templates, Client};
use reqwest::Method;

use super::{FailedDocument, IndexedDocument, StoreReport};

/// An OpenSearch call that failed; its message names the call, the endpoint, what OpenSearch
/// said and the setting to change.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(#[from] pub lfm_opensearch::Error);

pub struct OpenSearchStore {
    client: Client,
    config: OpenSearchConfig,
}

impl OpenSearchStore {
    pub fn new(config: &OpenSearchConfig) -> Result<Self, StoreError> {
        Ok(Self { client: Client::new(config.client())?, config: config.clone() })
    }

    /// The client, for the store's other files.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Installs every template of `lfm-schema` (idempotent) and upgrades the mappings of the
    /// existing indices ([`lfm_opensearch::templates::install`]).
    pub async fn install_templates(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let installed = templates::install(&self.client, prefix).await?;
        // Not fatal: an index whose mapping clashes (made by hand, or by an incompatible
        // version) is reported here, and its documents fail one by one with the reason.
        for e in &installed.mapping_upgrades_failed {
            tracing::warn!("{e} Documents for those indices may be rejected");
        }
        Ok(installed.names)
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
        // The report says what to do; the client's own fix would say it twice.
        let reason = |e: lfm_opensearch::Error| format!("{} {}: {}", e.method, e.url, e.what_happened());
        let listed: Result<Vec<serde_json::Value>, String> = async {
            let response = self.client.request(Method::GET, &path).action(format!("listing {pattern}")).send().await.map_err(reason)?;
            if response.status == 404 {
                return Ok(Vec::new());
            }
            let response = response.success().map_err(reason)?;
            serde_json::from_str(&response.text).map_err(|e| reason(response.unexpected(format!("unreadable answer: {e}"))))
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
            let outcome = match self.client.request(Method::DELETE, index).action(format!("deleting index {index}")).send().await {
                Err(e) => Err(reason(e)),
                // 404: already gone (another run, or by hand).
                Ok(response) if response.is_success() || response.status == 404 => Ok(()),
                Ok(response) => Err(reason(response.error())),
            };
            report.deletion(index, outcome);
        }
        report
    }

    /// Writes `documents` in `_bulk` requests of at most `bulk_max_docs`. Every document ends up
    /// in the report, written or failed with a reason.
    pub async fn write(&self, documents: &[IndexedDocument]) -> StoreReport {
        self.write_to(documents, "_bulk").await
    }

    /// [`Self::write`] that returns once the documents are searchable (`refresh=wait_for`):
    /// the alert stage's states, which the next run searches for.
    pub async fn write_refreshed(&self, documents: &[IndexedDocument]) -> StoreReport {
        self.write_to(documents, "_bulk?refresh=wait_for").await
    }

    async fn write_to(&self, documents: &[IndexedDocument], path: &str) -> StoreReport {
        let mut report = StoreReport::default();
        for chunk in documents.chunks(self.config.bulk_max_docs) {
            self.write_chunk(chunk, path, &mut report).await;
        }
        report
    }

    /// One `_bulk` request, then again for the items OpenSearch called transient (429 and the
    /// other statuses of [`lfm_opensearch::retry`]), up to the client's attempts. The request
    /// itself is tried again by the client; a request that still fails fails all its documents.
    async fn write_chunk(&self, chunk: &[IndexedDocument], path: &str, report: &mut StoreReport) {
        let policy = self.client.config().retry;
        let mut pending: Vec<&IndexedDocument> = chunk.iter().collect();
        let mut attempt = 1;
        loop {
            report.bulk_requests += 1;
            let started = std::time::Instant::now();
            let sent = self.send_bulk(&pending, path).await;
            report.bulk_ms += started.elapsed().as_millis() as u64;
            let response = match sent {
                Ok(response) => response,
                Err((status, reason)) => {
                    fail_all(report, &pending, status, &reason);
                    return;
                }
            };
            if response.items.len() != pending.len() {
                let reason = format!("_bulk answered {} items for {} documents", response.items.len(), pending.len());
                fail_all(report, &pending, 0, &reason);
                return;
            }
            let mut retry: Vec<(&IndexedDocument, u16, String)> = Vec::new();
            for (doc, item) in pending.iter().zip(&response.items) {
                let item = &item.index;
                match decide_status(item.status) {
                    Decision::Done => *report.written_by_index.entry(doc.index.clone()).or_default() += 1,
                    Decision::Retry => retry.push((doc, item.status, item.reason())),
                    Decision::Fail => report.failed.push(failed(doc, item.status, item.reason())),
                }
            }
            if retry.is_empty() {
                return;
            }
            if attempt >= policy.max_attempts {
                for (doc, status, reason) in retry {
                    report.failed.push(failed(doc, status, format!("{reason} (gave up after {attempt} attempts)")));
                }
                return;
            }
            tracing::warn!(documents = retry.len(), attempt, "OpenSearch asked to retry; backing off");
            tokio::time::sleep(policy.backoff(attempt)).await;
            attempt += 1;
            pending = retry.into_iter().map(|(doc, _, _)| doc).collect();
        }
    }

    /// The parsed answer, or the HTTP status (0: no answer) and the reason for every document.
    async fn send_bulk(&self, documents: &[&IndexedDocument], path: &str) -> Result<bulk::BulkResponse, (u16, String)> {
        let response = self
            .client
            .request(Method::POST, path)
            .action(format!("writing {} documents with _bulk", documents.len()))
            .body("application/x-ndjson", bulk::encode(documents).into_bytes())
            .send()
            .await
            .map_err(|e| (0, e.to_string()))?
            .success()
            .map_err(|e| (e.status().unwrap_or(0), e.to_string()))?;
        bulk::parse_response(&response.text).map_err(|reason| (response.status, reason))
    }
}

fn failed(doc: &IndexedDocument, status: u16, reason: String) -> FailedDocument {
    FailedDocument { index: doc.index.clone(), id: doc.id.clone(), status, reason }
}

fn fail_all(report: &mut StoreReport, documents: &[&IndexedDocument], status: u16, reason: &str) {
    report.failed.extend(documents.iter().map(|doc| failed(doc, status, reason.to_string())));
}
