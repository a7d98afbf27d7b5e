//! One collection run: discover -> harvest -> derive -> store, account by account, with a
//! [`RunSummary`] at the end. The CLI and a future Lambda handler both call [`run`].
//!
//! Accounts are collected concurrently (bounded by `account_concurrency`) and their documents
//! written as each account finishes, so memory holds a few accounts, not the fleet. A failing
//! account (AssumeRole denied, a region's API failing) is reported and never stops the others.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_types::region::Region;
use aws_types::SdkConfig;
use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;

use crate::config::Config;
use crate::derive::{inventory_document, metric_documents};
use crate::discover::{assume_role, assume_role::role_arn, list_functions, AccountSession};
use crate::harvest::cloudwatch;
use crate::store::opensearch::OpenSearchStore;
use crate::store::{IndexedDocument, StoreReport};
use crate::summary::{AccountOutcome, AccountStatus, ApiCallCounter, RunSummary};

/// At most this many failed documents are listed in the summary (all are counted).
const FAILED_DOCUMENTS_LISTED: usize = 50;
/// Attempts per AWS call, the first included; the SDK backs off on throttling between them.
const AWS_MAX_ATTEMPTS: u32 = 5;

/// What one account produced.
struct AccountHarvest {
    outcome: AccountOutcome,
    documents: Vec<IndexedDocument>,
}

/// Runs one collection of `config.window`. Never panics on AWS or OpenSearch failures: they
/// are in the summary ([`RunSummary::succeeded`] tells whether anything went wrong).
pub async fn run(config: &Config) -> RunSummary {
    let started = Instant::now();
    let collected_at = Utc::now().trunc_subsecs(0);
    let calls = ApiCallCounter::default();
    let mut summary = RunSummary {
        window: config.window,
        dry_run: config.dry_run,
        accounts_ok: 0,
        accounts_failed: 0,
        accounts: Vec::new(),
        functions: 0,
        api_calls: BTreeMap::new(),
        documents_prepared: BTreeMap::new(),
        documents_written: 0,
        documents_written_by_index: BTreeMap::new(),
        documents_failed_count: 0,
        documents_failed: Vec::new(),
        bulk_requests: 0,
        fatal_error: None,
        duration_ms: 0,
    };

    // Templates first: a document written before its template would get a dynamic mapping.
    let store = if config.dry_run {
        None
    } else {
        let installed = match OpenSearchStore::new(&config.opensearch) {
            Ok(store) => store.install_templates(&config.index_prefix).await.map(|_| store),
            Err(e) => Err(e),
        };
        match installed {
            Ok(store) => Some(store),
            Err(e) => {
                summary.fatal_error = Some(e.to_string());
                summary.duration_ms = started.elapsed().as_millis() as u64;
                return summary;
            }
        }
    };

    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.regions[0].clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(AWS_MAX_ATTEMPTS))
        .load()
        .await;

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<AccountHarvest>(config.account_concurrency);
    let produce = async {
        let mut harvests = futures::stream::iter(&config.accounts)
            .map(|account_id| collect_account(config, &base, account_id, &calls, &collected_at))
            .buffer_unordered(config.account_concurrency);
        while let Some(harvest) = harvests.next().await {
            if sender.send(harvest).await.is_err() {
                break;
            }
        }
        drop(sender);
    };
    let consume = async {
        let mut outcomes = Vec::new();
        let mut prepared: BTreeMap<String, u64> = BTreeMap::new();
        let mut report = StoreReport::default();
        while let Some(harvest) = receiver.recv().await {
            for doc in &harvest.documents {
                *prepared.entry(doc.index.clone()).or_default() += 1;
            }
            if let Some(store) = &store {
                report.merge(store.write(&harvest.documents).await);
            }
            outcomes.push(harvest.outcome);
        }
        (outcomes, prepared, report)
    };
    let ((), (mut outcomes, prepared, report)) = tokio::join!(produce, consume);

    outcomes.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    summary.accounts_ok = outcomes.iter().filter(|a| a.status == AccountStatus::Ok).count();
    summary.accounts_failed = outcomes.len() - summary.accounts_ok;
    summary.functions = outcomes.iter().map(|a| a.functions).sum();
    summary.accounts = outcomes;
    summary.api_calls = calls.snapshot();
    summary.documents_prepared = prepared;
    summary.documents_written = report.written_by_index.values().sum();
    summary.documents_written_by_index = report.written_by_index;
    summary.documents_failed_count = report.failed.len() as u64;
    summary.documents_failed = report.failed.into_iter().take(FAILED_DOCUMENTS_LISTED).collect();
    summary.bulk_requests = report.bulk_requests;
    summary.duration_ms = started.elapsed().as_millis() as u64;
    summary
}

async fn collect_account(
    config: &Config,
    base: &SdkConfig,
    account_id: &str,
    calls: &ApiCallCounter,
    collected_at: &DateTime<Utc>,
) -> AccountHarvest {
    let role = role_arn(&config.partition, account_id, &config.role_name);
    let session = match assume_role(base, account_id, &role, config.external_id.as_deref(), calls).await {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!("{e}");
            return AccountHarvest {
                outcome: AccountOutcome {
                    account_id: account_id.to_string(),
                    status: AccountStatus::Failed,
                    functions: 0,
                    errors: vec![e.to_string()],
                },
                documents: Vec::new(),
            };
        }
    };

    let mut functions = 0;
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut regions_failed = 0;
    for region in &config.regions {
        let region_harvest = collect_region(config, &session, region, calls, collected_at).await;
        functions += region_harvest.functions;
        documents.extend(region_harvest.documents);
        if let Some(error) = region_harvest.error {
            tracing::warn!("{error}");
            errors.push(error);
            regions_failed += 1;
        }
    }
    let status = match regions_failed {
        0 => AccountStatus::Ok,
        n if n == config.regions.len() => AccountStatus::Failed,
        _ => AccountStatus::Partial,
    };
    AccountHarvest {
        outcome: AccountOutcome { account_id: account_id.to_string(), status, functions, errors },
        documents,
    }
}

struct RegionHarvest {
    functions: usize,
    documents: Vec<IndexedDocument>,
    error: Option<String>,
}

/// Inventory documents are kept even when the metrics of the region cannot be fetched.
async fn collect_region(
    config: &Config,
    session: &AccountSession,
    region: &str,
    calls: &ApiCallCounter,
    collected_at: &DateTime<Utc>,
) -> RegionHarvest {
    let functions = match list_functions(session, region, calls).await {
        Ok(functions) => functions,
        Err(e) => return RegionHarvest { functions: 0, documents: Vec::new(), error: Some(e.to_string()) },
    };
    let prefix = &config.index_prefix;
    let mut documents: Vec<IndexedDocument> =
        functions.iter().map(|f| inventory_document(prefix, f, collected_at)).collect();
    let error = match cloudwatch::harvest(session, region, &functions, &config.window, calls).await {
        Ok(series) => {
            for (function, series) in functions.iter().zip(&series) {
                documents.extend(metric_documents(prefix, function, series, config.window.period_seconds, collected_at));
            }
            None
        }
        Err(e) => Some(e.to_string()),
    };
    RegionHarvest { functions: functions.len(), documents, error }
}
