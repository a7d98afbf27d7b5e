//! What a run did, for people (`Display`) and machines (`serde`): accounts, functions, API
//! calls by IAM action, documents by index, bulk requests, failures with their reasons.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use chrono::{DateTime, Utc};

use crate::checkpoint::ScheduleReport;
use crate::config::Window;
use crate::metering::CostEstimate;
use crate::store::retention::RetentionReport;
use crate::store::FailedDocument;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Every region collected.
    Ok,
    /// Some regions collected, some failed (their data is missing; see `errors`).
    Partial,
    /// Nothing collected (AssumeRole failed, or every region failed).
    Failed,
    /// The run's time limit came before every region was collected; nothing failed, the
    /// checkpoints of what is missing stay (see [`RunSummary::cut_short`]).
    CutShort,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Ok => "ok",
            AccountStatus::Partial => "partial",
            AccountStatus::Failed => "failed",
            AccountStatus::CutShort => "cut_short",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountOutcome {
    pub account_id: String,
    pub status: AccountStatus,
    pub functions: usize,
    /// Each names the region (if any), the failing call, AWS's reason and what to check.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// From the earliest start to the latest end collected for any account and region
    /// (`schedule.windows` has them pair by pair).
    pub window: Window,
    pub dry_run: bool,
    /// Accounts collected in full.
    pub accounts_ok: usize,
    /// Accounts with status `failed` or `partial`: something is missing for them (accounts
    /// `cut_short` are counted in neither: see `cut_short`).
    pub accounts_failed: usize,
    pub accounts: Vec<AccountOutcome>,
    /// Functions discovered across all accounts and regions.
    pub functions: usize,
    /// Functions with CloudWatch activity in the window (the others cost no metric query).
    pub functions_active: usize,
    /// GetMetricData queries sent: the unit CloudWatch bills ($0.01 per 1,000 metrics).
    pub metric_queries: u64,
    pub api_calls: BTreeMap<String, u64>,
    /// Parts of AWS answers skipped, by reason ([`crate::metering::skipped`]): datapoints outside the window ...
    pub answers_skipped: BTreeMap<String, u64>,
    /// Documents prepared by derive, by index (written or not).
    pub documents_prepared: BTreeMap<String, u64>,
    /// Documents OpenSearch acknowledged, in total and by index.
    pub documents_written: u64,
    pub documents_written_by_index: BTreeMap<String, u64>,
    pub documents_failed_count: u64,
    /// The first failed documents with OpenSearch's reason (capped; the count above is exact).
    pub documents_failed: Vec<FailedDocument>,
    pub bulk_requests: u64,
    /// Milliseconds spent in `_bulk` requests (the write rate into OpenSearch is
    /// documents_written / this).
    pub bulk_ms: u64,
    /// A failure that stopped the whole run (e.g. templates could not be installed).
    pub fatal_error: Option<String>,
    /// Why the run stopped before collecting everything: its time limit (the Lambda
    /// invocation's deadline, [`crate::time_limit`]). What it collected is written and its
    /// checkpoints moved; the next run continues from them.
    pub cut_short: Option<String>,
    pub duration_ms: u64,

    // Run bookkeeping: checkpoints, backfill, cost, the run record (checkpoint.rs, runrecord.rs).
    /// `_id` of this run's document in `{prefix}-runs`.
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    /// Windows per account and region, backfill chunks, gaps, checkpoints moved or kept.
    pub schedule: ScheduleReport,
    /// Bytes Logs Insights scanned (billed $0.005 per GB).
    pub logs_insights_bytes_scanned: u64,
    /// Metric documents (function periods) whose REPORT-derived fields were withheld because the
    /// period's REPORT records disagree with CloudWatch's metrics (forged records).
    pub log_periods_withheld: u64,
    /// What this run cost in AWS API charges, at list prices.
    pub estimated_cost: CostEstimate,
    /// Why the run record could not be written (`None` when written, or in a dry run).
    pub run_record_error: Option<String>,
    /// Daily metrics indices deleted by `--retention-days`, and deletions that failed (they
    /// do not fail the run). `None` without retention, in a dry run, or after a fatal error.
    pub retention: Option<RetentionReport>,
    /// What the alert stage did (`crate::alert`); `None` in a dry run or after a fatal error.
    pub alerts: Option<lfm_schema::documents::RunAlerts>,
}

impl RunSummary {
    /// The summary of a run that has not done anything yet: every count zero, every list empty.
    pub fn new(window: Window, dry_run: bool, run_id: String, started_at: DateTime<Utc>) -> Self {
        RunSummary {
            window,
            dry_run,
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
            cut_short: None,
            duration_ms: 0,
            run_id,
            started_at,
            schedule: ScheduleReport::default(),
            logs_insights_bytes_scanned: 0,
            log_periods_withheld: 0,
            estimated_cost: CostEstimate::default(),
            run_record_error: None,
            retention: None,
            alerts: None,
        }
    }

    /// True when every account was collected in full and every document was written.
    pub fn succeeded(&self) -> bool {
        self.fatal_error.is_none()
            && self.cut_short.is_none()
            && self.schedule.error.is_none()
            && self.documents_failed_count == 0
            && self.accounts.iter().all(|a| a.status == AccountStatus::Ok)
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match (self.succeeded(), &self.cut_short) {
            (true, _) => "succeeded",
            (false, Some(_)) => "CUT SHORT",
            (false, None) => "FAILED",
        };
        writeln!(
            f,
            "LFM collection {outcome}{} in {:.1}s",
            if self.dry_run { " (dry run: nothing written)" } else { "" },
            self.duration_ms as f64 / 1000.0
        )?;
        writeln!(
            f,
            "window      {} .. {} (period {}s)",
            self.window.start.to_rfc3339(),
            self.window.end.to_rfc3339(),
            self.window.period_seconds
        )?;
        if let Some(error) = &self.fatal_error {
            writeln!(f, "error       {error}")?;
        }
        if let Some(reason) = &self.cut_short {
            writeln!(f, "cut short   {reason}")?;
        }
        let cut = self.accounts.iter().filter(|a| a.status == AccountStatus::CutShort).count();
        let cut = if cut > 0 { format!(", {cut} cut short") } else { String::new() };
        writeln!(f, "accounts    {} ok, {} failed{cut}", self.accounts_ok, self.accounts_failed)?;
        for account in &self.accounts {
            let status = account.status.as_str();
            writeln!(f, "  {} {status:<9} {} functions", account.account_id, account.functions)?;
            for error in &account.errors {
                writeln!(f, "    - {error}")?;
            }
        }
        writeln!(f, "functions   {} ({} active in the window)", self.functions, self.functions_active)?;
        writeln!(f, "metric queries {}", self.metric_queries)?;
        writeln!(f, "api calls   {}", self.api_calls.values().sum::<u64>())?;
        for (action, count) in &self.api_calls {
            writeln!(f, "  {action:<26} {count}")?;
        }
        for (reason, count) in &self.answers_skipped {
            writeln!(f, "  skipped {reason} {count}")?;
        }
        let prepared: u64 = self.documents_prepared.values().sum();
        let written = self.documents_written;
        writeln!(
            f,
            "documents   {written} written of {prepared} prepared, {} failed, in {} bulk requests ({} ms)",
            self.documents_failed_count, self.bulk_requests, self.bulk_ms
        )?;
        for (index, count) in &self.documents_prepared {
            let done = self.documents_written_by_index.get(index).copied().unwrap_or(0);
            writeln!(f, "  {index:<26} {done}/{count}")?;
        }
        for failed in &self.documents_failed {
            writeln!(f, "  failed {} {}: {} {}", failed.index, failed.id, failed.status, failed.reason)?;
        }
        if self.documents_failed_count > self.documents_failed.len() as u64 {
            writeln!(f, "  ... {} more", self.documents_failed_count - self.documents_failed.len() as u64)?;
        }
        self.fmt_bookkeeping(f)
    }
}

/// `alerts      3 rules, 12 evaluated: 2 firing, 1 resolved; 1 notification sent, 0 failed; 4 OpenSearch requests`.
pub fn alerts_line(a: &lfm_schema::documents::RunAlerts) -> String {
    let t = &a.transitions;
    let kinds = [("pending", t.pending), ("firing", t.firing), ("renotify", t.renotify), ("resolved", t.resolved), ("cleared", t.cleared)];
    let moved: Vec<String> = kinds.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    let moved = if moved.is_empty() { "no transition".to_string() } else { moved.join(", ") };
    let invalid = if a.rules_invalid > 0 { format!(" ({} invalid, skipped)", a.rules_invalid) } else { String::new() };
    let errors = if a.errors.is_empty() { String::new() } else { format!("; {} errors: {}", a.errors.len(), a.errors.join(" | ")) };
    format!(
        "alerts      {} rules{invalid}, {} evaluated: {moved}; {} notifications sent, {} failed; {} OpenSearch requests{errors}",
        a.rules, a.evaluated, a.notifications_sent, a.notifications_failed, a.opensearch_requests
    )
}

impl RunSummary {
    /// Windows, checkpoints, cost and the run record.
    fn fmt_bookkeeping(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schedule = &self.schedule;
        let rfc = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let source = if schedule.explicit_window { "--start/--end" } else { "from checkpoints" };
        writeln!(f, "windows     {} pairs ({source}), {} chunks", schedule.windows.len(), schedule.chunks)?;
        for w in &schedule.windows {
            writeln!(f, "  {} {:<14} {} .. {}", w.account_id, w.region, rfc(&w.start), rfc(&w.end))?;
        }
        for gap in &schedule.gaps {
            writeln!(
                f,
                "  GAP {} {} {} .. {} is older than the backfill horizon: not collected (--backfill)",
                gap.account_id,
                gap.region,
                rfc(&gap.start),
                rfc(&gap.end)
            )?;
        }
        for note in &schedule.notes {
            writeln!(f, "  note: {note}")?;
        }
        let verb = if self.dry_run { "would advance" } else { "advanced" };
        writeln!(f, "checkpoints {} {verb}, {} kept", schedule.checkpoints_advanced.len(), schedule.checkpoints_kept.len())?;
        for c in &schedule.checkpoints_advanced {
            writeln!(f, "  {} {:<14} -> {}", c.account_id, c.region, rfc(&c.end))?;
        }
        for kept in &schedule.checkpoints_kept {
            writeln!(f, "  kept {kept}")?;
        }
        if let Some(error) = &schedule.error {
            writeln!(f, "  error: {error}")?;
        }
        writeln!(f, "logs insights {} bytes scanned", self.logs_insights_bytes_scanned)?;
        if self.log_periods_withheld > 0 {
            writeln!(
                f,
                "log fields withheld in {} function periods: their REPORT records disagree with CloudWatch \
                 (more records than invocations, or a duration above its maximum; see logs_withheld_reason)",
                self.log_periods_withheld
            )?;
        }
        writeln!(f, "aws cost    ${:.6} (list prices)", self.estimated_cost.total_usd)?;
        for line in &self.estimated_cost.lines {
            writeln!(f, "  {:<44} {:>12} ${:.6}", line.item, line.quantity, line.usd)?;
        }
        if let Some(retention) = &self.retention {
            writeln!(
                f,
                "retention   {} days: {} indices deleted, {} errors",
                retention.retention_days,
                retention.deleted.len(),
                retention.errors.len()
            )?;
            for index in &retention.deleted {
                writeln!(f, "  deleted {index}")?;
            }
            for error in &retention.errors {
                writeln!(f, "  error: {error}")?;
            }
        }
        if let Some(alerts) = &self.alerts {
            writeln!(f, "{}", alerts_line(alerts))?;
        }
        match (&self.run_record_error, self.dry_run) {
            (_, true) => writeln!(f, "run         {} (dry run: no run record)", self.run_id),
            (None, false) => writeln!(f, "run         {} (recorded)", self.run_id),
            (Some(error), false) => writeln!(f, "run         {} NOT recorded: {error}", self.run_id),
        }?;
        Ok(())
    }
}
