//! Checkpoints: per account and region, the end of the last window collected and written in
//! full. This module plans which windows a run collects from them and decides where they move
//! afterwards (pure functions); [`crate::store::opensearch::checkpoint`] reads and writes them.
//!
//! - No checkpoint: `Config.window` (one hour up to the last settled period boundary).
//! - A checkpoint: from it up to that end. When that is more than the backfill horizon, the
//!   older part is a [`PairPlan::gap`]: reported in the summary and the run record, then
//!   passed over (a checkpoint that never moved would re-collect the whole horizon every run).
//! - A checkpoint at or after the end (fresh, or ahead because of clock skew): nothing to do.
//! - `--start/--end`: exactly that window for every pair.
//!
//! Windows are cut into chunks a full GetMetricData batch can answer in one page
//! ([`crate::harvest::cloudwatch::limits::MAX_PERIODS_PER_CHUNK`]) and clipped to what CloudWatch still retains at the period.
//! After the run a pair's checkpoint moves to the end of its windows only when every window
//! was harvested and every document written ([`advance`]); it never moves backwards, and an
//! explicit window that starts after the checkpoint does not move it (that would hide a gap).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;

use crate::config::{Config, Window};
use crate::harvest::cloudwatch::limits::{chunks, retention};
use crate::store::opensearch::checkpoint::checkpoint_document;
use crate::store::opensearch::OpenSearchStore;

/// `[start, end)` of one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairWindow {
    pub account_id: String,
    pub region: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What a run collects for one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairPlan {
    pub account_id: String,
    pub region: String,
    pub checkpoint: Option<DateTime<Utc>>,
    /// Contiguous, ascending chunks; empty when the pair is up to date.
    pub windows: Vec<Window>,
    /// Missed periods older than the horizon (or the retention): reported, not collected.
    pub gap: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whether collecting `windows` in full may move the checkpoint to their end.
    pub may_advance: bool,
    /// Something the operator should know (clock skew ...).
    pub note: Option<String>,
}

impl PairPlan {
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.windows.last().map(|w| w.end)
    }
}

/// Plans one pair from its checkpoint (see the module doc). `now` only tells clock skew apart.
pub fn plan_pair(
    account_id: &str,
    region: &str,
    checkpoint: Option<DateTime<Utc>>,
    config: &Config,
    now: DateTime<Utc>,
) -> PairPlan {
    let window = config.window;
    let mut plan = PairPlan {
        account_id: account_id.to_string(),
        region: region.to_string(),
        checkpoint,
        windows: Vec::new(),
        gap: None,
        may_advance: true,
        note: None,
    };
    if config.schedule.explicit_window {
        plan.windows = chunks(&window);
        // Moving a checkpoint to the end of a window that starts after it would skip [checkpoint, start).
        plan.may_advance = !checkpoint.is_some_and(|c| window.start > c);
        return plan;
    }
    let Some(checkpoint) = checkpoint else {
        plan.windows = chunks(&window);
        return plan;
    };
    let step = TimeDelta::seconds(i64::from(window.period_seconds));
    let from = checkpoint.duration_trunc(step).unwrap_or(checkpoint);
    if from >= window.end {
        if checkpoint > now {
            plan.note = Some(format!(
                "account {account_id} region {region}: checkpoint {} is after the clock ({}): collected nothing and kept it; check the clocks",
                checkpoint.to_rfc3339(),
                now.to_rfc3339()
            ));
        }
        return plan;
    }
    let horizon = window.end - config.schedule.backfill_horizon.max(step);
    let retained = now - retention(window.period_seconds) + step;
    let earliest = horizon.max(retained).duration_trunc(step).unwrap_or(horizon);
    let start = if from < earliest {
        plan.gap = Some((from, earliest));
        earliest
    } else {
        from
    };
    plan.windows = chunks(&Window { start, end: window.end, period_seconds: window.period_seconds });
    plan
}

/// What a run did with one pair's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOutcome {
    /// Every window harvested and every document written.
    Complete,
    /// A harvest or a document failed: the checkpoint stays.
    Failed,
    /// The run's time limit ([`crate::time_limit`]) came first; the windows up to this end (if
    /// any) were harvested in full and their documents written.
    CutShort(Option<DateTime<Utc>>),
}

/// The checkpoint after the run: the end of the pair's windows when they were all collected
/// and written, or of those collected before the time limit, when the plan allows it; never
/// earlier than the old checkpoint. `None`: unchanged.
pub fn advance(plan: &PairPlan, outcome: PairOutcome) -> Option<DateTime<Utc>> {
    let end = match outcome {
        PairOutcome::Complete => plan.end()?,
        PairOutcome::CutShort(Some(until)) => until.min(plan.end()?),
        PairOutcome::CutShort(None) | PairOutcome::Failed => return None,
    };
    if !plan.may_advance || plan.checkpoint.is_some_and(|old| old >= end) {
        return None;
    }
    Some(end)
}

/// The plan of a run, pair by pair (accounts x regions, in configuration order).
#[derive(Debug, Clone, Default)]
pub struct RunPlan {
    pub pairs: Vec<PairPlan>,
    /// Why the checkpoints could not be read (the run then falls back to `Config.window`).
    pub error: Option<String>,
}

impl RunPlan {
    /// From the earliest start to the latest end of every pair's windows (`None`: nothing to do).
    pub fn span(&self) -> Option<Window> {
        let start = self.pairs.iter().filter_map(|p| p.windows.first()).map(|w| w.start).min()?;
        let last = self.pairs.iter().filter_map(|p| p.windows.last()).max_by_key(|w| w.end)?;
        Some(Window { start, end: last.end, period_seconds: last.period_seconds })
    }

    pub fn windows(&self, account_id: &str, region: &str) -> &[Window] {
        self.pairs
            .iter()
            .find(|p| p.account_id == account_id && p.region == region)
            .map(|p| p.windows.as_slice())
            .unwrap_or(&[])
    }
}

/// What the summary and the run record say about windows and checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScheduleReport {
    /// `true` when `--start/--end` chose the window.
    pub explicit_window: bool,
    /// Windows collected per pair (chunks merged back into one span per pair).
    pub windows: Vec<PairWindow>,
    /// GetMetricData chunks harvested per pair, summed.
    pub chunks: u64,
    /// Missed windows older than the backfill horizon: not collected.
    pub gaps: Vec<PairWindow>,
    /// Checkpoints moved forward (written, or in a dry run: that would be written).
    pub checkpoints_advanced: Vec<PairWindow>,
    /// Pairs whose checkpoint stayed because something failed.
    pub checkpoints_kept: Vec<String>,
    pub notes: Vec<String>,
    /// Reading or writing checkpoints failed.
    pub error: Option<String>,
}

impl ScheduleReport {
    pub fn from_plan(plan: &RunPlan, explicit_window: bool) -> Self {
        let pair_window = |p: &PairPlan, start, end| PairWindow {
            account_id: p.account_id.clone(),
            region: p.region.clone(),
            start,
            end,
        };
        Self {
            explicit_window,
            windows: plan
                .pairs
                .iter()
                .filter_map(|p| Some(pair_window(p, p.windows.first()?.start, p.end()?)))
                .collect(),
            chunks: plan.pairs.iter().map(|p| p.windows.len() as u64).sum(),
            gaps: plan.pairs.iter().filter_map(|p| p.gap.map(|(s, e)| pair_window(p, s, e))).collect(),
            checkpoints_advanced: Vec::new(),
            checkpoints_kept: Vec::new(),
            notes: plan.pairs.iter().filter_map(|p| p.note.clone()).collect(),
            error: plan.error.clone(),
        }
    }
}

// ---- I/O glue, called by `run`: read checkpoints before, write the advanced ones after. ----

/// Reads the checkpoints of every account and region and plans the run. In a dry run the
/// checkpoints are read when an OpenSearch URL is configured (nothing is written). When they
/// cannot be read the run falls back to `Config.window` and the error is reported.
pub async fn plan_run(config: &Config, store: Option<&OpenSearchStore>, now: DateTime<Utc>) -> RunPlan {
    let pairs: Vec<(String, String)> = config
        .accounts
        .iter()
        .flat_map(|a| config.regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    let read_only;
    let store = match store {
        Some(store) => Some(store),
        None if !config.opensearch.url.is_empty() => {
            read_only = OpenSearchStore::new(&config.opensearch).ok();
            read_only.as_ref()
        }
        None => None,
    };
    let (checkpoints, error) = match store {
        Some(store) => match store.load_checkpoints(&config.index_prefix, &pairs).await {
            Ok(found) => (found, None),
            Err(e) => (HashMap::new(), Some(e.to_string())),
        },
        None => (HashMap::new(), None),
    };
    let pairs = pairs
        .iter()
        .map(|pair| plan_pair(&pair.0, &pair.1, checkpoints.get(pair).copied(), config, now))
        .collect();
    RunPlan { pairs, error }
}

/// Moves the checkpoints by the pairs' `outcomes` ([`advance`]; a pair without one was not
/// collected: the run stopped before it) and fills `report`.
/// A dry run reports what would move and writes nothing. So does a run whose checkpoints could
/// not be read: writing blind could move a checkpoint backwards.
pub async fn commit(
    config: &Config,
    store: Option<&OpenSearchStore>,
    plan: &RunPlan,
    outcomes: &BTreeMap<(String, String), PairOutcome>,
    run_id: &str,
    report: &mut ScheduleReport,
) {
    if plan.error.is_some() {
        return; // already reported; the run fails and every checkpoint stays
    }
    let now = Utc::now();
    let mut documents = Vec::new();
    for pair in &plan.pairs {
        let key = (pair.account_id.clone(), pair.region.clone());
        let outcome = outcomes.get(&key).copied().unwrap_or(PairOutcome::CutShort(None));
        let until = advance(pair, outcome);
        let at = || pair.checkpoint.map_or("none".to_string(), |c| c.to_rfc3339());
        match outcome {
            PairOutcome::Complete => {}
            PairOutcome::Failed => report.checkpoints_kept.push(format!(
                "{} {} at {}: not every window was collected and written; the next run retries",
                pair.account_id,
                pair.region,
                at()
            )),
            PairOutcome::CutShort(_) if until.is_none() && !pair.windows.is_empty() => {
                report.checkpoints_kept.push(format!(
                    "{} {} at {}: the run's time limit came first; the next run collects its windows",
                    pair.account_id,
                    pair.region,
                    at()
                ))
            }
            PairOutcome::CutShort(_) => {}
        }
        let Some(until) = until else { continue };
        let from = pair.checkpoint.unwrap_or_else(|| pair.windows[0].start);
        report.checkpoints_advanced.push(PairWindow { account_id: key.0, region: key.1, start: from, end: until });
        documents.push(checkpoint_document(
            &config.index_prefix,
            &pair.account_id,
            &pair.region,
            until,
            config.window.period_seconds,
            run_id,
            now,
        ));
    }
    let Some(store) = store else { return };
    let written = store.write(&documents).await;
    if let Some(first) = written.failed.first() {
        report.error = Some(format!(
            "{} of {} checkpoints not written (the next run re-collects their windows): {} {}: {}",
            written.failed.len(),
            documents.len(),
            first.id,
            first.status,
            first.reason
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::cloudwatch::limits::MAX_PERIODS_PER_CHUNK;
    use crate::config::Schedule;
    use crate::store::opensearch::{OpenSearchAuth, OpenSearchConfig};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A default-window config as the CLI builds it at 16:20 (settle 5 min, horizon 3 h).
    fn config(explicit: Option<(&str, &str)>) -> Config {
        let now = t("2026-11-26T16:20:00Z");
        let schedule = Schedule { explicit_window: explicit.is_some(), ..Schedule::default() };
        let window = match explicit {
            Some((s, e)) => Window::new(t(s), t(e), 300).unwrap(),
            None => crate::config::schedule::default_window(now, 300, schedule.settle_delay).unwrap(),
        };
        Config {
            accounts: vec!["111122223333".into()],
            role_name: "R".into(),
            external_id: None,
            regions: vec!["us-east-1".into()],
            partition: "aws".into(),
            window,
            schedule,
            index_prefix: "lfm".into(),
            opensearch: OpenSearchConfig { url: String::new(), auth: OpenSearchAuth::None, bulk_max_docs: 10, timeouts: Default::default() },
            dry_run: true,
            account_concurrency: 1,
            progress: false,
            prices: lfm_schema::reference::PriceTable::shipped(),
            runtimes: lfm_schema::reference::RuntimeTable::shipped(),
            deprecation_warning_days: crate::config::DEFAULT_DEPRECATION_WARNING_DAYS,
            retention_days: None,
            lambda_insights: true,
            alert_delivery_timeout: std::time::Duration::from_secs(30),
            alert_webhook_ca_file: None,
            aws_timeouts: lfm_aws::Timeouts::DEFAULT,
        }
    }

    fn plan(checkpoint: Option<&str>, config: &Config) -> PairPlan {
        plan_pair("111122223333", "us-east-1", checkpoint.map(t), config, t("2026-11-26T16:20:00Z"))
    }

    fn span(plan: &PairPlan) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((plan.windows.first()?.start, plan.end()?))
    }

    #[test]
    fn no_checkpoint_collects_the_last_settled_hour() {
        let p = plan(None, &config(None));
        assert_eq!(span(&p), Some((t("2026-11-26T15:15:00Z"), t("2026-11-26T16:15:00Z"))));
        assert_eq!(p.windows.len(), 1);
        assert_eq!((p.gap, p.note.as_deref()), (None, None));
        assert_eq!(advance(&p, PairOutcome::Complete), Some(t("2026-11-26T16:15:00Z")));
        assert_eq!(advance(&p, PairOutcome::Failed), None, "a failed pair keeps its (missing) checkpoint");
    }

    #[test]
    fn fresh_checkpoint_collects_only_the_new_periods_or_nothing() {
        let c = config(None);
        let p = plan(Some("2026-11-26T16:05:00Z"), &c);
        assert_eq!(span(&p), Some((t("2026-11-26T16:05:00Z"), t("2026-11-26T16:15:00Z"))));
        let p = plan(Some("2026-11-26T16:15:00Z"), &c);
        assert!(p.windows.is_empty() && p.note.is_none());
        assert_eq!(advance(&p, PairOutcome::Complete), None);
    }

    #[test]
    fn after_an_outage_within_the_horizon_everything_is_backfilled() {
        let p = plan(Some("2026-11-26T14:00:00Z"), &config(None));
        assert_eq!(span(&p), Some((t("2026-11-26T14:00:00Z"), t("2026-11-26T16:15:00Z"))));
        assert_eq!(p.gap, None);
        // Chunks are contiguous and none exceeds the per-call datapoint budget.
        for pair in p.windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(p.windows.iter().all(|w| w.period_count() <= MAX_PERIODS_PER_CHUNK));
        assert_eq!(advance(&p, PairOutcome::Complete), Some(t("2026-11-26T16:15:00Z")));
    }

    #[test]
    fn beyond_the_horizon_the_older_gap_is_reported_and_passed_over() {
        let p = plan(Some("2026-11-25T10:00:00Z"), &config(None));
        assert_eq!(span(&p), Some((t("2026-11-26T13:15:00Z"), t("2026-11-26T16:15:00Z"))));
        assert_eq!(p.gap, Some((t("2026-11-25T10:00:00Z"), t("2026-11-26T13:15:00Z"))));
        assert_eq!(advance(&p, PairOutcome::Complete), Some(t("2026-11-26T16:15:00Z")));
        let report = ScheduleReport::from_plan(&RunPlan { pairs: vec![p], error: None }, false);
        assert_eq!(report.gaps.len(), 1);

        let mut wide = config(None);
        wide.schedule.backfill_horizon = TimeDelta::days(2);
        let p = plan(Some("2026-11-25T10:00:00Z"), &wide);
        assert_eq!(p.gap, None);
        assert_eq!(p.windows.len(), 2, "30h15m at 300 s = 363 periods > {MAX_PERIODS_PER_CHUNK}");
    }

    #[test]
    fn a_run_cut_short_moves_the_checkpoint_to_the_end_of_what_it_collected() {
        let mut wide = config(None);
        wide.schedule.backfill_horizon = TimeDelta::days(2);
        let p = plan(Some("2026-11-25T10:00:00Z"), &wide);
        assert_eq!(p.windows.len(), 2);
        let first = p.windows[0].end;
        assert_eq!(advance(&p, PairOutcome::CutShort(Some(first))), Some(first));
        assert_eq!(advance(&p, PairOutcome::CutShort(None)), None, "nothing collected: unchanged");
        assert_eq!(advance(&p, PairOutcome::CutShort(Some(t("2026-11-25T09:00:00Z")))), None, "never backwards");
        let explicit = config(Some(("2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z")));
        let p = plan(Some("2026-11-26T09:00:00Z"), &explicit);
        assert_eq!(advance(&p, PairOutcome::CutShort(Some(t("2026-11-26T10:30:00Z")))), None, "not over a gap");
    }

    #[test]
    fn retention_limits_the_backfill() {
        let mut c = config(None);
        c.schedule.backfill_horizon = TimeDelta::days(100);
        let p = plan(Some("2026-06-01T00:00:00Z"), &c);
        let (start, _) = span(&p).unwrap();
        assert!(start >= t("2026-11-26T16:20:00Z") - TimeDelta::days(63), "{start}");
        assert_eq!(p.gap.unwrap().0, t("2026-06-01T00:00:00Z"));
    }

    #[test]
    fn a_checkpoint_in_the_future_is_kept_and_reported() {
        let p = plan(Some("2026-11-26T18:00:00Z"), &config(None));
        assert!(p.windows.is_empty());
        assert!(p.note.as_deref().unwrap().contains("after the clock"), "{:?}", p.note);
        assert_eq!(advance(&p, PairOutcome::Complete), None);
    }

    #[test]
    fn explicit_windows_never_move_a_checkpoint_backwards_or_over_a_gap() {
        let c = config(Some(("2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z")));
        let p = plan(Some("2026-11-26T16:00:00Z"), &c);
        assert_eq!(span(&p), Some((t("2026-11-26T10:00:00Z"), t("2026-11-26T11:00:00Z"))));
        assert_eq!(advance(&p, PairOutcome::Complete), None, "re-collecting the past keeps the later checkpoint");
        let p = plan(Some("2026-11-26T09:00:00Z"), &c);
        assert_eq!(advance(&p, PairOutcome::Complete), None, "10:00 is after 09:00: moving to 11:00 would hide 09:00-10:00");
        let p = plan(Some("2026-11-26T10:30:00Z"), &c);
        assert_eq!(advance(&p, PairOutcome::Complete), Some(t("2026-11-26T11:00:00Z")));
        let p = plan(None, &c);
        assert_eq!(advance(&p, PairOutcome::Complete), Some(t("2026-11-26T11:00:00Z")));
    }
}
