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
//!
//! With a [`TimeLimit`] (the Lambda entry's deadline) no account, region or window chunk starts
//! after its stop, work in flight is dropped at its abort, and the run still writes what it
//! harvested, moves the checkpoints of what it collected (a pair cut between two chunks moves
//! to the end of the last one) and reports itself as cut short ([`RunSummary::cut_short`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use aws_types::SdkConfig;
use chrono::{DateTime, SubsecRound, Utc};
use futures::StreamExt;
use lfm_schema::documents::MetricDocument;

use crate::alert::AlertStage;
use crate::checkpoint::{self, PairOutcome, RunPlan, ScheduleReport};
use crate::config::{Config, Window};
use crate::derive::enrich::{apply_logs_and_cost, apply_runtime_and_recommendations, window_evidence, PeriodLogs};
use crate::derive::lambda_insights::{apply_lambda_insights, period_lambda_insights};
use crate::derive::{indexed_inventory_document, indexed_metric_document, inventory_struct, metric_rows, rfc3339};
use crate::discover::{assume_role, assume_role::role_arn, list_functions, AccountSession};
use crate::harvest::{cloudwatch, logs_insights};
use crate::progress::Progress;
use crate::metering::CostEstimate;
use crate::runrecord;
use crate::store::deployments;
use crate::store::opensearch::OpenSearchStore;
use crate::store::{IndexedDocument, StoreReport};
use crate::metering::ApiCallCounter;
use crate::summary::{AccountOutcome, AccountStatus, RunSummary};
use crate::time_limit::TimeLimit;

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
    /// What became of each region's windows (checkpoints move by it).
    regions: Vec<(String, PairOutcome)>,
}

/// Runs one collection of the windows planned per account and region. Never panics on AWS or OpenSearch failures: they
/// are in the summary ([`RunSummary::succeeded`] tells whether anything went wrong).
pub async fn run(config: &Config) -> RunSummary {
    run_with_limit(config, TimeLimit::NONE).await
}

/// [`run`] that stops before `limit` (see the module doc).
pub async fn run_with_limit(config: &Config, limit: TimeLimit) -> RunSummary {
    let started = Instant::now();
    let started_at = Utc::now();
    let collected_at = started_at.trunc_subsecs(0);
    let calls = ApiCallCounter::default();
    let mut summary = RunSummary::new(config.window, config.dry_run, runrecord::new_run_id(started_at), started_at);

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

    let base = lfm_aws::load(&lfm_aws::AwsSettings {
        region: Some(config.regions[0].clone()),
        timeouts: config.aws_timeouts,
        max_attempts: AWS_MAX_ATTEMPTS,
    })
    .await;

    let plan = checkpoint::plan_run(config, store.as_ref(), started_at).await;
    summary.schedule = ScheduleReport::from_plan(&plan, config.schedule.explicit_window);
    summary.window = plan.span().unwrap_or(config.window);
    let progress = Progress::new(config.progress, config.accounts.len());
    // The alert stage reads its rules first (one _msearch) to mark candidates as documents pass.
    let mut alerts = match &store {
        Some(store) => AlertStage::start(store, &config.index_prefix).await,
        None => AlertStage::off(),
    };

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<AccountHarvest>(config.account_concurrency);
    // Returns whether the time limit dropped accounts in flight.
    let produce = async {
        let mut harvests = futures::stream::iter(&config.accounts)
            .map(|account_id| collect_account(config, &plan, &base, account_id, &calls, &collected_at, &limit))
            .buffer_unordered(config.account_concurrency);
        let aborted = loop {
            let harvest = tokio::select! {
                harvest = harvests.next() => harvest,
                () = limit.abort_reached() => break true,
            };
            let Some(harvest) = harvest else { break false };
            if sender.send(harvest).await.is_err() {
                break false;
            }
        };
        drop(sender);
        aborted
    };
    let consume = async {
        let mut outcomes = Vec::new();
        let (mut active, mut metric_queries, mut logs_bytes, mut withheld) = (0, 0, 0.0, 0);
        let mut prepared: BTreeMap<String, u64> = BTreeMap::new();
        let mut report = StoreReport::default();
        let mut pairs: BTreeMap<(String, String), PairOutcome> = BTreeMap::new();
        // Documents of several accounts pooled so each _bulk request carries bulk_max_docs
        // (a small account alone would send a small request); at most bulk_max_docs - 1 wait
        // here besides the account just received. Checkpoints move after the last flush.
        let bulk_max_docs = config.opensearch.bulk_max_docs.max(1);
        let mut pool: Vec<IndexedDocument> = Vec::new();
        while let Some(mut harvest) = receiver.recv().await {
            if let Some(store) = &store {
                record_deployments(store, &config.index_prefix, &plan, &mut harvest).await;
            }
            for doc in &harvest.documents {
                *prepared.entry(doc.index.clone()).or_default() += 1;
            }
            let account = &harvest.outcome.account_id;
            pairs.extend(harvest.regions.iter().map(|(region, outcome)| ((account.clone(), region.clone()), *outcome)));
            progress.account_done(&harvest.outcome, harvest.documents.len());
            alerts.observe(&harvest.documents);
            if let Some(store) = &store {
                pool.extend(harvest.documents);
                let full = pool.len() / bulk_max_docs * bulk_max_docs;
                if full > 0 {
                    let batch: Vec<IndexedDocument> = pool.drain(..full).collect();
                    let written = store.write(&batch).await;
                    fail_pairs_of(&mut pairs, &batch, &written);
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
            fail_pairs_of(&mut pairs, &pool, &written);
            report.merge(written);
        }
        (outcomes, active, metric_queries, logs_bytes, withheld, prepared, report, pairs)
    };
    let (aborted, (mut outcomes, active, metric_queries, logs_bytes, withheld, prepared, report, pairs)) =
        tokio::join!(produce, consume);
    summary.logs_insights_bytes_scanned = logs_bytes.round().max(0.0) as u64;
    summary.log_periods_withheld = withheld;
    // Accounts dropped in flight: nothing of them was written, their checkpoints stay.
    for account_id in &config.accounts {
        if !outcomes.iter().any(|o| &o.account_id == account_id) {
            outcomes.push(cut_short_outcome(account_id));
        }
    }

    outcomes.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    summary.accounts_ok = outcomes.iter().filter(|a| a.status == AccountStatus::Ok).count();
    summary.accounts_failed = outcomes.iter().filter(|a| matches!(a.status, AccountStatus::Failed | AccountStatus::Partial)).count();
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
    let cut = summary.accounts.iter().filter(|a| a.status == AccountStatus::CutShort).count();
    if aborted || cut > 0 {
        summary.cut_short = Some(cut_short_message(&limit, aborted, summary.accounts.len() - cut, summary.accounts.len()));
    }
    checkpoint::commit(config, store.as_ref(), &plan, &pairs, &summary.run_id, &mut summary.schedule).await;
    // Retention waits for a run with time to spare (it only deletes old indices).
    if let (Some(store), Some(days), None) = (&store, config.retention_days, &summary.cut_short) {
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
    // Alerts after documents and checkpoints; delivery never fails the collection.
    if let Some(store) = &store {
        let delivery = crate::alert::deliver::DeliverySettings {
            sdk: base.clone(),
            budget: config.alert_delivery_timeout,
            limit,
            webhook_ca_file: config.alert_webhook_ca_file.clone(),
        };
        let mut report = alerts.finish(store, &summary.run_id, Utc::now(), config.window.period_seconds, &delivery).await;
        // The changes the store stage recorded (written with the account's documents).
        let deployments = lfm_schema::alerts::deployments_index(&config.index_prefix);
        report.deployments_recorded = summary.documents_written_by_index.get(&deployments).copied().unwrap_or(0);
        summary.alerts = Some(report);
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

/// Adds the account's deployment documents ([`deployments::record`]) to its documents, before
/// they overwrite the previous inventory; a failed read is a warning of the account.
async fn record_deployments(store: &OpenSearchStore, prefix: &str, plan: &RunPlan, harvest: &mut AccountHarvest) {
    match deployments::record(store, prefix, plan, &harvest.documents).await {
        Ok(found) => harvest.documents.extend(found),
        Err(warning) => {
            tracing::warn!("account {}: {warning}", harvest.outcome.account_id);
            harvest.outcome.errors.push(format!("warning: {warning}"));
        }
    }
}

/// Marks failed the account and region of the documents `written` reports as failed
/// (documents carry both): their checkpoints stay.
fn fail_pairs_of(pairs: &mut BTreeMap<(String, String), PairOutcome>, documents: &[IndexedDocument], written: &StoreReport) {
    use lfm_schema::documents::fields::{ACCOUNT_ID, REGION};
    let failed: BTreeSet<(&str, &str)> = written.failed.iter().map(|f| (f.index.as_str(), f.id.as_str())).collect();
    let failed_pairs = documents
        .iter()
        .filter(|d| failed.contains(&(d.index.as_str(), d.id.as_str())))
        .filter_map(|d| Some((d.body[ACCOUNT_ID].as_str()?.to_string(), d.body[REGION].as_str()?.to_string())));
    for pair in failed_pairs {
        pairs.insert(pair, PairOutcome::Failed);
    }
}

fn cut_short_outcome(account_id: &str) -> AccountOutcome {
    AccountOutcome { account_id: account_id.to_string(), status: AccountStatus::CutShort, functions: 0, errors: Vec::new() }
}

/// What the summary says of a run its time limit cut short.
fn cut_short_message(limit: &TimeLimit, aborted: bool, collected: usize, accounts: usize) -> String {
    let deadline = limit.deadline().map_or("the time limit".to_string(), |d| {
        format!("the invocation's deadline {}", d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    });
    let how = if aborted { "stopped, dropping work in flight," } else { "started no new work" };
    format!(
        "{how} {:.0} s before {deadline}: {collected} of {accounts} accounts collected in full. The checkpoints of the rest \
         stay where they were collected up to, so the next run continues there; if this happens every run, raise the \
         function's timeout or LFM_ACCOUNT_CONCURRENCY",
        limit.deadline().map_or(0.0, |d| (d - Utc::now()).num_milliseconds().max(0) as f64 / 1000.0)
    )
}

async fn collect_account(
    config: &Config,
    plan: &RunPlan,
    base: &SdkConfig,
    account_id: &str,
    calls: &ApiCallCounter,
    collected_at: &DateTime<Utc>,
    limit: &TimeLimit,
) -> AccountHarvest {
    let not_started = |outcome: AccountOutcome, pair: PairOutcome| AccountHarvest {
        outcome,
        active: 0,
        metric_queries: 0,
        logs_bytes_scanned: 0.0,
        log_periods_withheld: 0,
        documents: Vec::new(),
        regions: config.regions.iter().map(|r| (r.clone(), pair)).collect(),
    };
    if limit.should_stop() {
        return not_started(cut_short_outcome(account_id), PairOutcome::CutShort(None));
    }
    let role = role_arn(&config.partition, account_id, &config.role_name);
    let session = match assume_role(base, account_id, &role, config.external_id.as_deref(), calls).await {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!("{e}");
            let outcome = AccountOutcome {
                account_id: account_id.to_string(),
                status: AccountStatus::Failed,
                functions: 0,
                errors: vec![e.to_string()],
            };
            return not_started(outcome, PairOutcome::Failed);
        }
    };

    let mut functions = 0;
    let mut active = 0;
    let mut metric_queries = 0;
    let mut logs_bytes_scanned = 0.0;
    let mut log_periods_withheld = 0;
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut regions = Vec::new();
    for region in &config.regions {
        if limit.should_stop() {
            regions.push((region.clone(), PairOutcome::CutShort(None)));
            continue;
        }
        let windows = plan.windows(account_id, region);
        let region_harvest = collect_region(config, &session, region, windows, calls, collected_at, limit).await;
        functions += region_harvest.functions;
        active += region_harvest.active;
        metric_queries += region_harvest.metric_queries;
        logs_bytes_scanned += region_harvest.logs_bytes_scanned;
        log_periods_withheld += region_harvest.log_periods_withheld;
        documents.extend(region_harvest.documents);
        let outcome = match region_harvest.error {
            Some(error) => {
                tracing::warn!("{error}");
                errors.push(error);
                PairOutcome::Failed
            }
            None => region_harvest.outcome,
        };
        regions.push((region.clone(), outcome));
    }
    let failed = regions.iter().filter(|(_, o)| *o == PairOutcome::Failed).count();
    let status = match failed {
        n if n == config.regions.len() => AccountStatus::Failed,
        n if n > 0 => AccountStatus::Partial,
        _ if regions.iter().any(|(_, o)| matches!(o, PairOutcome::CutShort(_))) => AccountStatus::CutShort,
        _ => AccountStatus::Ok,
    };
    AccountHarvest {
        outcome: AccountOutcome { account_id: account_id.to_string(), status, functions, errors },
        active,
        metric_queries,
        logs_bytes_scanned,
        log_periods_withheld,
        documents,
        regions,
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
    /// Without an error: complete, or cut short by the time limit after some chunks.
    outcome: PairOutcome,
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
    limit: &TimeLimit,
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
                outcome: PairOutcome::Failed,
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
    let mut outcome = PairOutcome::Complete;
    for window in windows {
        if limit.should_stop() {
            // The chunks before this one are complete; the next run starts here.
            outcome = PairOutcome::CutShort(windows.first().filter(|w| w.start < window.start).map(|_| window.start));
            break;
        }
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
    RegionHarvest { functions: functions.len(), active, metric_queries, logs_bytes_scanned, log_periods_withheld, documents, error, outcome }
}
