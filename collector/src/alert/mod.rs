//! The alert stage: after a run has written its documents and moved its checkpoints, evaluate
//! the alert rules on what it collected, keep the state of each alert, record every
//! transition and tell people (ALERTS.md, "Evaluation"). Costs per run: one `_msearch`
//! ([`config`]) read before the harvest; when something is to evaluate, one `_refresh` and
//! one history search ([`history`]); when something changed, one `_bulk` of transitions and
//! states before delivery and one `_bulk` of delivery results after it.
//!
//! Flow: [`AlertStage::start`] (msearch) -> [`AlertStage::observe`] on each account's documents
//! in the run's consume loop ([`candidates`]) -> [`AlertStage::finish`]: history, then
//! [`evaluate_run`] (pure: [`transitions`] for threshold rules with [`evaluate`] and
//! [`state`], [`regression`] for deployments, [`group`] + [`message`] for the messages), then
//! the writes and [`deliver`]. Nothing here fails the collection: problems are counted and
//! listed in the run record's `alerts` object.

pub mod candidates;
pub mod config;
pub mod deliver;
pub mod evaluate;
pub mod group;
pub mod history;
pub mod judge;
pub mod message;
pub mod regression;
pub mod rules;
pub mod scope;
pub mod series;
pub mod state;
pub mod transitions;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use lfm_schema::alerts::{
    alert_state_index, alerts_index, deployments_index, notification_status, transition_document_id, AlertStateDocument,
    DeploymentDocument,
};
use lfm_schema::documents::{RunAlertTransitions, RunAlerts};

use crate::store::opensearch::OpenSearchStore;
use crate::store::IndexedDocument;

use candidates::Candidates;
use config::AlertConfig;
use group::Message;
use rules::RuleSet;
use series::SeriesSet;
use state::Kind;
use transitions::{rfc, Change, Context};

/// What [`evaluate_run`] decided.
#[derive(Debug, Default)]
pub struct Evaluated {
    pub changes: Vec<Change>,
    pub judged: Vec<(String, DeploymentDocument)>,
    pub messages: Vec<Message>,
    pub evaluated: u64,
    pub regressions: u64,
}

/// The pure heart of the stage: threshold pairs, deployments, then messages.
pub fn evaluate_run(
    rules: &RuleSet,
    open: &HashMap<String, AlertStateDocument>,
    pending_deployments: &[(String, DeploymentDocument)],
    candidates: &Candidates,
    series: &SeriesSet,
    now: i64,
    run_id: &str,
    judge: &dyn Fn(&[judge::Sample], &[judge::Sample], &[String], u32, bool) -> Option<judge::Verdict>,
) -> Evaluated {
    let ctx = Context { rules, open, candidates, series, now, run_id };
    let threshold = transitions::threshold_changes(&ctx);
    let regression = regression::regression_changes(&ctx, pending_deployments, judge);
    let mut changes = threshold.changes;
    changes.extend(regression.changes);
    changes.extend(transitions::orphaned_changes(&ctx));
    // States with a notification still pending from an earlier run.
    let mut pending: Vec<AlertStateDocument> = open
        .values()
        .filter(|s| state::awaits_delivery(s, now) && rules.by_name(&s.rule).is_some())
        .cloned()
        .collect();
    pending.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
    let messages = group::group(rules, &mut changes, &pending, run_id, &rfc(now));
    Evaluated {
        changes,
        judged: regression.judged,
        messages,
        evaluated: threshold.evaluated + pending_deployments.len() as u64,
        regressions: regression.regressions,
    }
}

/// Counts transitions by kind.
pub fn count_transitions(changes: &[Change]) -> RunAlertTransitions {
    let mut counts = RunAlertTransitions::default();
    for change in changes {
        *match change.kind {
            Kind::Pending => &mut counts.pending,
            Kind::Firing => &mut counts.firing,
            Kind::Renotify => &mut counts.renotify,
            Kind::Resolved => &mut counts.resolved,
            Kind::Cleared => &mut counts.cleared,
        } += 1;
    }
    counts
}

struct Loaded {
    config: AlertConfig,
    rules: RuleSet,
    open: HashMap<String, AlertStateDocument>,
    /// Functions of open states and pending deployments (their runtimes are kept).
    watched: HashSet<String>,
    candidates: Candidates,
}

/// The alert stage of one run.
pub struct AlertStage {
    prefix: String,
    loaded: Option<Loaded>,
    report: RunAlerts,
}

impl AlertStage {
    /// No alert stage (dry run, or no OpenSearch).
    pub fn off() -> Self {
        AlertStage { prefix: String::new(), loaded: None, report: RunAlerts::default() }
    }

    /// Reads rules, destinations, open states and pending deployments (one `_msearch`).
    pub async fn start(store: &OpenSearchStore, prefix: &str) -> Self {
        let mut report = RunAlerts { opensearch_requests: 1, ..RunAlerts::default() };
        let config = match config::load(store, prefix).await {
            Ok(config) => config,
            Err(e) => {
                report.errors.push(format!("alert stage skipped: {e}"));
                return AlertStage { prefix: prefix.into(), loaded: None, report };
            }
        };
        Self::from_config(prefix, config, report)
    }

    /// The stage on an already read configuration (also for tests).
    pub fn from_config(prefix: &str, config: AlertConfig, mut report: RunAlerts) -> Self {
        let rules = RuleSet::compile(&config.rules);
        report.rules = rules.rules.len() as u64;
        report.rules_invalid = rules.invalid.len() as u64;
        report.errors.extend(config.errors.iter().cloned());
        report.errors.extend(rules.invalid.iter().cloned());
        let open: HashMap<String, AlertStateDocument> = config.states.iter().map(|s| (s.dedup_key.clone(), s.clone())).collect();
        let watched: HashSet<String> = config
            .states
            .iter()
            .map(|s| s.function_arn.clone())
            .chain(config.deployments.iter().map(|(_, d)| d.function_arn.clone()))
            .collect();
        let loaded = Loaded { config, rules, open, watched, candidates: Candidates::default() };
        AlertStage { prefix: prefix.into(), loaded: Some(loaded), report }
    }

    /// Marks candidates among one account's documents (call it for every batch the run writes).
    pub fn observe(&mut self, documents: &[IndexedDocument]) {
        if let Some(l) = &mut self.loaded {
            if !l.rules.rules.is_empty() || !l.watched.is_empty() {
                l.candidates.observe(&l.rules, &self.prefix, documents, &l.watched);
            }
        }
    }

    /// History, evaluation, writes and delivery. `period_seconds`: the run's period.
    pub async fn finish(
        self,
        store: &OpenSearchStore,
        run_id: &str,
        now: DateTime<Utc>,
        period_seconds: u32,
        delivery: &deliver::DeliverySettings,
    ) -> RunAlerts {
        let AlertStage { prefix, loaded, mut report } = self;
        let Some(loaded) = loaded else { return report };
        let started = Instant::now();
        let Loaded { config, rules, open, candidates, .. } = loaded;
        let pending_notifications = open.values().any(|s| state::awaits_delivery(s, now.timestamp()));
        let nothing = candidates.marked.is_empty() && open.is_empty() && config.deployments.is_empty();
        if nothing && !pending_notifications {
            return report;
        }
        // The candidates: marked in this run, open states, pending deployments.
        let mut arns: Vec<&str> = candidates.marked.keys().map(String::as_str).collect();
        arns.extend(open.values().map(|s| s.function_arn.as_str()));
        arns.extend(config.deployments.iter().map(|(_, d)| d.function_arn.as_str()));
        arns.sort_unstable();
        arns.dedup();
        let now_s = now.timestamp();
        let period = i64::from(period_seconds.max(1));
        // N periods back from the newest period this run collected; up to now.
        let data_end = candidates.newest_end.unwrap_or(now_s);
        let end = now_s.max(data_end) + period;
        let lookback = i64::from(rules.max_evaluation_periods()) * period;
        let mut from = data_end - lookback;
        for (_, d) in &config.deployments {
            if let Some(at) = transitions::parse_time(&d.timestamp) {
                let p = i64::from(if d.period_seconds > 0 { d.period_seconds } else { period_seconds });
                from = from.min(at - (judge::WINDOW_PERIODS as i64 + 1) * p);
            }
        }
        // A deployment pending for long is judged on what the last week holds.
        from = from.max(data_end - 7 * 86_400);
        let indices: Vec<String> = candidates.metrics_indices.iter().cloned().collect();
        let history = match history::read(store, &prefix, &indices, &arns, from, end, &rules.table).await {
            Ok(history) => history,
            Err(e) => {
                report.opensearch_requests += 2;
                report.errors.push(format!("alert history could not be read, nothing evaluated: {e}"));
                return report;
            }
        };
        report.opensearch_requests += history.requests;
        report.history_documents = history.hits;
        if history.pages > 1 {
            report.errors.push(format!("note: the alert history took {} pages of {} documents", history.pages, history::PAGE_SIZE));
        }
        let evaluated = evaluate_run(&rules, &open, &config.deployments, &candidates, &history.series, now_s, run_id, &judge::judge);
        report.evaluated = evaluated.evaluated;
        report.transitions = count_transitions(&evaluated.changes);
        report.deployments_judged = evaluated.judged.len() as u64;
        report.regressions = evaluated.regressions;
        report.evaluation_ms = started.elapsed().as_millis() as u64;
        let Evaluated { mut changes, judged, messages, .. } = evaluated;

        // Transitions, states and verdicts before any delivery.
        let mut documents: Vec<IndexedDocument> = changes.iter().flat_map(|c| change_documents(&prefix, c)).collect();
        documents.extend(judged.iter().map(|(id, d)| IndexedDocument::new(deployments_index(&prefix), id.clone(), d)));
        if !documents.is_empty() {
            let written = store.write_refreshed(&documents).await;
            report.opensearch_requests += written.bulk_requests;
            for failed in written.failed.iter().take(10) {
                report.errors.push(format!("alert document {} {} not written: {} {}", failed.index, failed.id, failed.status, failed.reason));
            }
            if !written.failed.is_empty() {
                // Without its state, a delivery could repeat every run: send nothing this time.
                report.errors.push(format!("{} alert documents not written: notifications held back until a run writes them", written.failed.len()));
                return report;
            }
        }
        if messages.is_empty() {
            return report;
        }
        let delivery_started = Instant::now();
        let outcomes = deliver::deliver(&config.destinations, &messages, delivery).await;
        report.delivery_ms = delivery_started.elapsed().as_millis() as u64;
        let mut results: Vec<IndexedDocument> = Vec::new();
        let states_by_key: HashMap<&str, &AlertStateDocument> = open.values().map(|s| (s.dedup_key.as_str(), s)).collect();
        for message in &messages {
            let mine: Vec<&deliver::Outcome> = outcomes.iter().filter(|o| o.idempotency_key == message.idempotency_key).collect();
            report.notifications_sent += mine.iter().filter(|o| o.sent).count() as u64;
            report.notifications_failed += mine.iter().filter(|o| !o.sent).count() as u64;
            let errors: Vec<String> = mine.iter().filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.destination))).collect();
            for e in &errors {
                report.errors.push(format!("notification of rule {} to {e}", message.rule));
            }
            let sent = !mine.is_empty() && errors.is_empty();
            let status = if sent { notification_status::SENT } else { notification_status::FAILED };
            let error = (!errors.is_empty()).then(|| errors.join("; "));
            for i in &message.changes {
                let change = &mut changes[*i];
                change.transition.notification_status = status.into();
                change.transition.notification_error = error.clone();
                change.state.notification_status = status.into();
                change.state.last_notified_at = Some(rfc(now.timestamp()));
                results.extend(change_documents(&prefix, change));
            }
            for key in &message.redelivered {
                if let Some(state) = states_by_key.get(key.as_str()) {
                    let mut state = (*state).clone();
                    state.notification_status = status.into();
                    state.last_notified_at = Some(rfc(now.timestamp()));
                    state.updated_at = rfc(now.timestamp());
                    results.push(IndexedDocument::new(alert_state_index(&prefix), state.dedup_key.clone(), &state));
                }
            }
        }
        if !results.is_empty() {
            let written = store.write_refreshed(&results).await;
            report.opensearch_requests += written.bulk_requests;
            for failed in written.failed.iter().take(10) {
                report.errors.push(format!("notification result {} {} not written: {} {}", failed.index, failed.id, failed.status, failed.reason));
            }
        }
        report
    }
}

/// The transition and state documents of a change.
pub fn change_documents(prefix: &str, change: &Change) -> [IndexedDocument; 2] {
    let t = &change.transition;
    [
        IndexedDocument::new(alerts_index(prefix), transition_document_id(&t.dedup_key, &t.transition, &t.period_end), t),
        IndexedDocument::new(alert_state_index(prefix), change.state.dedup_key.clone(), &change.state),
    ]
}

#[cfg(test)]
mod tests;
