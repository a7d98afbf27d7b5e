//! Grouping (pure): one message per rule and run (sent to each of the rule's destinations),
//! listing every function of the rule that fired, was re-notified or resolved, like
//! Alertmanager's grouping: 300 functions bad in the same period are one message. States
//! whose notification is still pending from an earlier run (killed between the write and
//! the delivery) are sent again with the key they were written with. Part of [`crate::alert`].

use std::collections::BTreeMap;

use lfm_schema::alerts::{notification_status, transition, AlertStateDocument, NotificationBody, NotificationItem};

use super::message;
use super::rules::RuleSet;
use super::state::Kind;
use super::transitions::Change;

/// Lines of the text beyond which the text only counts (the JSON body lists more).
pub const TEXT_LINES_MAX: usize = 100;
/// Items of the JSON body beyond which it only counts (SNS messages are at most 256 KB).
pub const BODY_ITEMS_MAX: usize = 500;

/// One message of a rule, for its destinations.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub rule: String,
    pub destinations: Vec<String>,
    pub idempotency_key: String,
    pub severity: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub body: NotificationBody,
    /// Indices into the run's changes this message reports.
    pub changes: Vec<usize>,
    /// Dedup keys of earlier states sent again.
    pub redelivered: Vec<String>,
}

/// Groups the notifying `changes` per rule (setting their notification key) and adds one
/// message per pending key of `pending_states` not superseded by this run.
pub fn group(rules: &RuleSet, changes: &mut [Change], pending_states: &[AlertStateDocument], run_id: &str, now: &str) -> Vec<Message> {
    let mut by_rule: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate() {
        if change.kind.notifies() && change.transition.notification_status == notification_status::PENDING {
            by_rule.entry(change.transition.rule.as_str()).or_default().push(i);
        }
    }
    let by_rule: Vec<(String, Vec<usize>)> = by_rule.into_iter().map(|(r, v)| (r.to_string(), v)).collect();
    let mut messages = Vec::new();
    for (rule_name, indices) in by_rule {
        let Some((_, rule)) = rules.by_name(&rule_name) else { continue };
        let keyed: Vec<(String, Kind, String)> = indices
            .iter()
            .map(|i| (changes[*i].transition.dedup_key.clone(), changes[*i].kind, changes[*i].transition.period_end.clone()))
            .collect();
        let key = message::idempotency_key(&rule_name, &keyed);
        let mut items = Vec::new();
        let mut lines = Vec::new();
        for i in &indices {
            let change = &mut changes[*i];
            change.transition.notification_key = Some(key.clone());
            change.state.notification_key = Some(key.clone());
            let t = &change.transition;
            lines.push(message::line(change.kind, &t.reason, &change.label));
            items.push(NotificationItem {
                dedup_key: t.dedup_key.clone(),
                transition: t.transition.clone(),
                account_id: t.account_id.clone(),
                region: t.region.clone(),
                function_name: t.function_name.clone(),
                function_arn: t.function_arn.clone(),
                value: t.value,
                reason: t.reason.clone(),
                periods: t.periods.clone(),
                deployment_id: t.deployment_id.clone(),
            });
        }
        let what = what_of(rules, &rule_name);
        messages.push(assemble(rule, &key, what, items, lines, run_id, now, indices, Vec::new()));
    }
    // Earlier pending notifications: by (rule, key), unless this run has a newer transition.
    let fresh: std::collections::HashSet<&str> = changes.iter().map(|c| c.state.dedup_key.as_str()).collect();
    let mut earlier: BTreeMap<(String, String), Vec<&AlertStateDocument>> = BTreeMap::new();
    for state in pending_states {
        let awaits = [notification_status::PENDING, notification_status::FAILED].contains(&state.notification_status.as_str());
        if !awaits || fresh.contains(state.dedup_key.as_str()) {
            continue;
        }
        if let Some(key) = &state.notification_key {
            earlier.entry((state.rule.clone(), key.clone())).or_default().push(state);
        }
    }
    for ((rule_name, key), states) in earlier {
        let Some((_, rule)) = rules.by_name(&rule_name) else { continue };
        let mut items = Vec::new();
        let mut lines = Vec::new();
        for state in &states {
            let kind = if state.status == lfm_schema::alerts::status::RESOLVED { Kind::Resolved } else { Kind::Firing };
            let reason = format!(
                "{} {}, evaluated up to {} (sent again: {})",
                rule.threshold().map_or("regression".to_string(), |t| t.metric.clone()),
                state.value.map_or("no value".into(), |v| rule.threshold().map_or(format!("{v}"), |t| message::format_value(&t.metric, v))),
                state.last_period_end,
                if state.notification_status == notification_status::FAILED {
                    "its delivery failed in an earlier run"
                } else {
                    "the run that found it stopped before delivering"
                }
            );
            lines.push(message::line(kind, &reason, &message::function_label(&state.function_name, &state.account_id, &state.region)));
            items.push(NotificationItem {
                dedup_key: state.dedup_key.clone(),
                transition: kind.as_str().into(),
                account_id: state.account_id.clone(),
                region: state.region.clone(),
                function_name: state.function_name.clone(),
                function_arn: state.function_arn.clone(),
                value: state.value,
                reason,
                periods: Vec::new(),
                deployment_id: state.deployment_id.clone(),
            });
        }
        let what = what_of(rules, &rule_name);
        let redelivered = states.iter().map(|s| s.dedup_key.clone()).collect();
        messages.push(assemble(rule, &key, what, items, lines, run_id, now, Vec::new(), redelivered));
    }
    messages
}

/// What the rule watches, for the subject: `error_rate > 5%` or `deploy regressions`.
fn what_of(rules: &RuleSet, rule: &str) -> String {
    match rules.by_name(rule).and_then(|(_, r)| r.threshold()) {
        Some(t) => message::condition(&t.metric, t.comparison.symbol(), t.threshold),
        None => "deploy regressions".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    rule: &super::rules::Rule,
    key: &str,
    what: String,
    mut items: Vec<NotificationItem>,
    mut lines: Vec<String>,
    run_id: &str,
    now: &str,
    changes: Vec<usize>,
    redelivered: Vec<String>,
) -> Message {
    let count = |t: &str| items.iter().filter(|i| i.transition == t).count();
    let (firing, renotify, resolved) = (count(transition::FIRING), count(transition::RENOTIFY), count(transition::RESOLVED));
    let subject = message::subject(&rule.severity, &rule.name, firing, renotify, resolved, &what);
    if lines.len() > TEXT_LINES_MAX {
        let more = lines.len() - TEXT_LINES_MAX;
        lines.truncate(TEXT_LINES_MAX);
        lines.push(format!("... and {more} more functions (listed in the JSON body and in the alerts index)"));
    }
    let mut text = subject.clone();
    if let Some(description) = rule.description.as_deref().filter(|d| !d.is_empty()) {
        text.push('\n');
        text.push_str(description);
    }
    for line in &lines {
        text.push('\n');
        text.push_str(line);
    }
    items.truncate(BODY_ITEMS_MAX);
    let body = NotificationBody {
        idempotency_key: key.to_string(),
        rule: rule.name.clone(),
        kind: rule.kind_name().into(),
        severity: rule.severity.clone(),
        description: rule.description.clone(),
        run_id: run_id.to_string(),
        sent_at: now.to_string(),
        firing: (firing + renotify) as u32,
        resolved: resolved as u32,
        items,
    };
    Message {
        rule: rule.name.clone(),
        destinations: rule.destinations.clone(),
        idempotency_key: key.to_string(),
        severity: rule.severity.clone(),
        kind: rule.kind_name().into(),
        subject,
        text,
        body,
        changes,
        redelivered,
    }
}
