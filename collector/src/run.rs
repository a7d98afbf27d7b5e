//! One collection run: discover -> harvest -> derive -> store, account by account, with a
//! [`RunSummary`] at the end. The CLI and the Lambda entry point (`crate::lambda_entry`) both call [`run`].
//!
//! Accounts are collected concurrently (bounded by `account_concurrency`) and their documents
//! written as each account finishes, so memory holds a few accounts, not the fleet. A failing
//! account (AssumeRole denied, a region's API failing) is reported and never stops the others.
//!
//! Each account and region collects the windows [`checkpoint::plan_run`] planned from its
//! checkpoint; afterwards [`checkpoint::commit`] moves the checkpoints of the pairs that fully
//! succeeded, and the run record goes to `{prefix}-runs` ([`runrecord`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_types::region::Region;
use aws_types::SdkConfig;
use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;
use lfm_schema::documents::MetricDocument;

use crate::checkpoint::{self, RunPlan, ScheduleReport};
use crate::config::{Config, Window};
use crate::derive::enrich::{apply_logs_and_cost, apply_runtime_and_recommendations, window_evidence, PeriodLogs};
use crate::derive::lambda_insights::{apply_lambda_insights, period_lambda_insights};
use crate::derive::{indexed_inventory_document, indexed_metric_document, inventory_struct, metric_rows, rfc3339};
use crate::discover::{assume_role, assume_role::role_arn, list_functions, AccountSession};
use crate::harvest::{cloudwatch, logs_insights};
use crate::progress::Progress;
use crate::metering::CostEstimate;
use crate::runrecord;
use crate::store::opensearch::OpenSearchStore;
use crate::store::{IndexedDocument, StoreReport};
use crate::metering::ApiCallCounter;
use crate::summary::{AccountOutcome, AccountStatus, RunSummary};

/// At most this many failed documents are listed in the summary (all are counted).
const FAILED_DOCUMENTS_LISTED: usize = 50;
/// Attempts per AWS call, the first included; the SDK backs off on throttling between them.
const AWS_MAX_ATTEMPTS: u32 = 5;

/// What one account produced.
struct AccountHarvest {
    outcome: AccountOutcome,
    active: usize,
    metric_queries: usize,
    logs_bytes_scanned: f64,
    /// Metric documents whose REPORT-derived fields were withheld (records disagree with CloudWatch).
    log_periods_withheld: u64,
    documents: Vec<IndexedDocument>,
    /// Regions not collected in full (their checkpoints stay).
    failed_regions: Vec<String>,
}

/// Runs one collection of the windows planned per account and region. Never panics on AWS or OpenSearch failures: they
/// are in the summary ([`RunSummary::succeeded`] tells whether anything went wrong).
pub async fn run(config: &Config) -> RunSummary {
    let started = Instant::now();
    let started_at = Utc::now();
    let collected_at = started_at.trunc_subsecs(0);
    let calls = ApiCallCounter::default();
    let mut summary = RunSummary {
        window: config.window,
        dry_run: config.dry_run,
        accounts_ok: 0,
        accounts_failed: 0,
        accounts: Vec::new(),
        functions: 0,
        functions_active: 0,
        metric_queries: 0,
        api_calls: BTreeMap::new(),
        answers_skipped: BTreeMap::new(),
        documents_prepared: BTreeMap::new(),
        documents_written: 0,
        documents_written_by_index: BTreeMap::new(),
        documents_failed_count: 0,
        documents_failed: Vec::new(),
        bulk_requests: 0,
        bulk_ms: 0,
        fatal_error: None,
        duration_ms: 0,
        run_id: runrecord::new_run_id(started_at),
        started_at,
        schedule: ScheduleReport::default(),
        logs_insights_bytes_scanned: 0,
        log_periods_withheld: 0,
        estimated_cost: CostEstimate::default(),
        run_record_error: None,
        retention: None,
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

    let plan = checkpoint::plan_run(config, store.as_ref(), started_at).await;
    summary.schedule = ScheduleReport::from_plan(&plan, config.schedule.explicit_window);
    summary.window = plan.span().unwrap_or(config.window);
    let progress = Progress::new(config.progress, config.accounts.len());

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<AccountHarvest>(config.account_concurrency);
    let produce = async {
        let mut harvests = futures::stream::iter(&config.accounts)
            .map(|account_id| collect_account(config, &plan, &base, account_id, &calls, &collected_at))
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
        let (mut active, mut metric_queries, mut logs_bytes, mut withheld) = (0, 0, 0.0, 0);
        let mut prepared: BTreeMap<String, u64> = BTreeMap::new();
        let mut report = StoreReport::default();
        let mut failed_pairs = BTreeSet::new();
        // Documents of several accounts pooled so each _bulk request carries bulk_max_docs
        // (a small account alone would send a small request); at most bulk_max_docs - 1 wait
        // here besides the account just received. Checkpoints move after the last flush.
        let bulk_max_docs = config.opensearch.bulk_max_docs.max(1);
        let mut pool: Vec<IndexedDocument> = Vec::new();
        while let Some(harvest) = receiver.recv().await {
            for doc in &harvest.documents {
                *prepared.entry(doc.index.clone()).or_default() += 1;
            }
            let account = &harvest.outcome.account_id;
            failed_pairs.extend(harvest.failed_regions.iter().map(|r| (account.clone(), r.clone())));
            progress.account_done(&harvest.outcome, harvest.documents.len());
            if let Some(store) = &store {
                pool.extend(harvest.documents);
                let full = pool.len() / bulk_max_docs * bulk_max_docs;
                if full > 0 {
                    let batch: Vec<IndexedDocument> = pool.drain(..full).collect();
                    let written = store.write(&batch).await;
                    failed_pairs.extend(pairs_of_failed(&batch, &written));
                    report.merge(written);
                }
            }
            active += harvest.active;
            metric_queries += harvest.metric_queries;
            logs_bytes += harvest.logs_bytes_scanned;
            withheld += harvest.log_periods_withheld;
            outcomes.push(harvest.outcome);
        }
        if let (Some(store), false) = (&store, pool.is_empty()) {
            let written = store.write(&pool).await;
            failed_pairs.extend(pairs_of_failed(&pool, &written));
            report.merge(written);
        }
        (outcomes, active, metric_queries, logs_bytes, withheld, prepared, report, failed_pairs)
    };
    let ((), (mut outcomes, active, metric_queries, logs_bytes, withheld, prepared, report, failed_pairs)) =
        tokio::join!(produce, consume);
    summary.logs_insights_bytes_scanned = logs_bytes.round().max(0.0) as u64;
    summary.log_periods_withheld = withheld;

    outcomes.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    summary.accounts_ok = outcomes.iter().filter(|a| a.status == AccountStatus::Ok).count();
    summary.accounts_failed = outcomes.len() - summary.accounts_ok;
    summary.functions = outcomes.iter().map(|a| a.functions).sum();
    summary.functions_active = active;
    summary.metric_queries = metric_queries as u64;
    summary.accounts = outcomes;
    summary.api_calls = calls.snapshot();
    summary.answers_skipped = calls.skipped_snapshot();
    summary.documents_prepared = prepared;
    summary.documents_written = report.written_by_index.values().sum();
    summary.documents_written_by_index = report.written_by_index;
    summary.documents_failed_count = report.failed.len() as u64;
    summary.documents_failed = report.failed.into_iter().take(FAILED_DOCUMENTS_LISTED).collect();
    summary.bulk_requests = report.bulk_requests;
    summary.bulk_ms = report.bulk_ms;
    checkpoint::commit(config, store.as_ref(), &plan, &failed_pairs, &summary.run_id, &mut summary.schedule).await;
    if let (Some(store), Some(days)) = (&store, config.retention_days) {
        // Reported in the summary and run record; a failed deletion does not fail the run.
        let retention = store.apply_retention(&config.index_prefix, started_at.date_naive(), days).await;
        if !retention.deleted.is_empty() {
            tracing::info!("retention {days} days: deleted {}", retention.deleted.join(", "));
        }
        for error in &retention.errors {
            tracing::warn!("{error}");
        }
        summary.retention = Some(retention);
    }
    summary.estimated_cost =
        CostEstimate::of(summary.metric_queries, &summary.api_calls, summary.logs_insights_bytes_scanned);
    summary.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(store) = &store {
        let record = runrecord::run_document(&config.index_prefix, &summary, Utc::now());
        let written = store.write(&[record]).await;
        summary.run_record_error = written.failed.first().map(|f| format!("{} {}: {}", f.index, f.status, f.reason));
    }
    summary
}

/// Account and region of the documents `written` reports as failed (documents carry both).
fn pairs_of_failed<'a>(documents: &'a [IndexedDocument], written: &'a StoreReport) -> impl Iterator<Item = (String, String)> + 'a {
    use lfm_schema::documents::fields::{ACCOUNT_ID, REGION};
    let failed: BTreeSet<(&str, &str)> = written.failed.iter().map(|f| (f.index.as_str(), f.id.as_str())).collect();
    documents
        .iter()
        .filter(move |d| failed.contains(&(d.index.as_str(), d.id.as_str())))
        .filter_map(|d| Some((d.body[ACCOUNT_ID].as_str()?.to_string(), d.body[REGION].as_str()?.to_string())))
}

async fn collect_account(
    config: &Config,
    plan: &RunPlan,
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
                active: 0,
                metric_queries: 0,
                logs_bytes_scanned: 0.0,
                log_periods_withheld: 0,
                documents: Vec::new(),
                failed_regions: config.regions.clone(),
            };
        }
    };

    let mut functions = 0;
    let mut active = 0;
    let mut metric_queries = 0;
    let mut logs_bytes_scanned = 0.0;
    let mut log_periods_withheld = 0;
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut failed_regions = Vec::new();
    for region in &config.regions {
        let windows = plan.windows(account_id, region);
        let region_harvest = collect_region(config, &session, region, windows, calls, collected_at).await;
        functions += region_harvest.functions;
        active += region_harvest.active;
        metric_queries += region_harvest.metric_queries;
        logs_bytes_scanned += region_harvest.logs_bytes_scanned;
        log_periods_withheld += region_harvest.log_periods_withheld;
        documents.extend(region_harvest.documents);
        if let Some(error) = region_harvest.error {
            tracing::warn!("{error}");
            errors.push(error);
            failed_regions.push(region.clone());
        }
    }
    let status = match failed_regions.len() {
        0 => AccountStatus::Ok,
        n if n == config.regions.len() => AccountStatus::Failed,
        _ => AccountStatus::Partial,
    };
    AccountHarvest {
        outcome: AccountOutcome { account_id: account_id.to_string(), status, functions, errors },
        active,
        metric_queries,
        logs_bytes_scanned,
        log_periods_withheld,
        documents,
        failed_regions,
    }
}

struct RegionHarvest {
    functions: usize,
    /// Functions with CloudWatch activity in the window, and the metric queries they took.
    active: usize,
    metric_queries: usize,
    /// Logs Insights bytes scanned (billed per GB).
    logs_bytes_scanned: f64,
    log_periods_withheld: u64,
    documents: Vec<IndexedDocument>,
    error: Option<String>,
}

/// Inventory documents are kept even when the metrics of the region cannot be fetched.
/// `windows` (ascending chunks) are harvested in order; the first failure stops the region.
/// After CloudWatch, the log groups of the functions active in a chunk are read with Logs
/// Insights; when that fails the metrics are still written (log-derived fields null, cost
/// estimated), the error is reported and the region's checkpoint stays, so the next run
/// collects the window again with its logs.
async fn collect_region(
    config: &Config,
    session: &AccountSession,
    region: &str,
    windows: &[Window],
    calls: &ApiCallCounter,
    collected_at: &DateTime<Utc>,
) -> RegionHarvest {
    let functions = match list_functions(session, region, calls).await {
        Ok(functions) => functions,
        Err(e) => {
            return RegionHarvest {
                functions: 0,
                active: 0,
                metric_queries: 0,
                logs_bytes_scanned: 0.0,
                log_periods_withheld: 0,
                documents: Vec::new(),
                error: Some(e.to_string()),
            }
        }
    };
    let prefix = &config.index_prefix;
    let mut metrics: Vec<Vec<MetricDocument>> = vec![Vec::new(); functions.len()];
    let mut documents = Vec::new();
    let mut active = 0;
    let mut metric_queries = 0;
    let mut logs_bytes_scanned = 0.0;
    let mut log_periods_withheld = 0;
    let mut error = None;
    for window in windows {
        let region_series = match cloudwatch::harvest(session, region, &functions, window, *collected_at, config.lambda_insights, calls).await {
            Ok(region_series) => region_series,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        };
        // Active in any chunk; every chunk's queries are billed.
        active = active.max(region_series.active_functions);
        metric_queries += region_series.metric_queries;
        let rows: Vec<Vec<(DateTime<Utc>, MetricDocument)>> = functions
            .iter()
            .zip(&region_series.series)
            .map(|(function, series)| metric_rows(function, series, window.period_seconds, collected_at))
            .collect();
        // Idle functions (no CloudWatch row in the chunk) cost no Logs Insights query.
        let is_active: Vec<bool> = rows.iter().map(|r| !r.is_empty()).collect();
        let logs = if is_active.iter().any(|a| *a) {
            match logs_insights::harvest(session, region, &functions, &is_active, window, calls).await {
                Ok(logs) => {
                    logs_bytes_scanned += logs.bytes_scanned;
                    // A failed query or an unreadable row: those periods read as not read.
                    if let Some(report) = logs.error_report() {
                        error.get_or_insert(report);
                    }
                    Some(logs)
                }
                Err(e) => {
                    error.get_or_insert_with(|| e.to_string());
                    None
                }
            }
        } else {
            None
        };
        for (i, (function, rows)) in functions.iter().zip(rows).enumerate() {
            for (start, mut doc) in rows {
                let period_logs = match logs.as_ref().and_then(|l| l.period(i, &start)) {
                    Some(stats) => PeriodLogs::Read(stats),
                    None => PeriodLogs::NotRead,
                };
                apply_logs_and_cost(&mut doc, function, &start, period_logs, &config.prices);
                log_periods_withheld += u64::from(doc.logs_withheld_reason.is_some());
                apply_lambda_insights(&mut doc, period_lambda_insights(&region_series.series[i], &start).as_ref());
                documents.push(indexed_metric_document(prefix, function, &start, window.period_seconds, &doc));
                metrics[i].push(doc);
            }
        }
    }
    let (window_start, window_end) = match (windows.first(), windows.last()) {
        (Some(first), Some(last)) => (rfc3339(&first.start), rfc3339(&last.end)),
        // Nothing to collect for this pair in this run: an empty window at collection time.
        _ => (rfc3339(collected_at), rfc3339(collected_at)),
    };
    let today = collected_at.date_naive();
    for (function, docs) in functions.iter().zip(&metrics) {
        let refs: Vec<&MetricDocument> = docs.iter().collect();
        let evidence = window_evidence(function, &window_start, &window_end, &refs);
        let mut inventory = inventory_struct(function, collected_at);
        apply_runtime_and_recommendations(
            &mut inventory,
            function,
            &config.runtimes,
            today,
            config.deprecation_warning_days,
            &evidence,
        );
        documents.push(indexed_inventory_document(prefix, function, &inventory));
    }
    RegionHarvest { functions: functions.len(), active, metric_queries, logs_bytes_scanned, log_periods_withheld, documents, error }
}
