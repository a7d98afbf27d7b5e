//! Threshold rules over the candidates (pure): for each (rule, function) pair marked in this
//! run or with an open state, evaluate M of N ([`super::evaluate`]), run the state machine
//! ([`super::state`]) and produce the transition and state documents of what changed. Pairs
//! without a transition write nothing. Part of [`crate::alert`].

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use lfm_schema::alerts::{
    notification_status, threshold_dedup_key, AlertStateDocument, AlertTransitionDocument,
};

use super::candidates::Candidates;
use super::evaluate::{evaluate, Evaluation, Slot};
use super::message;
use super::rules::{Rule, RuleSet};
use super::scope::FunctionKey;
use super::series::SeriesSet;
use super::state::{next, Kind, Prior, Status};

pub fn rfc(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_time(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp())
}

/// A transition and the state it leaves, written together.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub transition: AlertTransitionDocument,
    pub state: AlertStateDocument,
    pub kind: Kind,
    /// The function as messages show it: `fn-a (123456789012 eu-west-1)`.
    pub label: String,
}

/// Threshold results of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changes: Vec<Change>,
    /// (rule, function) pairs evaluated.
    pub evaluated: u64,
}

/// What the stage knows at evaluation time.
pub struct Context<'a> {
    pub rules: &'a RuleSet,
    /// Open threshold and regression states by dedup key.
    pub open: &'a HashMap<String, AlertStateDocument>,
    pub candidates: &'a Candidates,
    pub series: &'a SeriesSet,
    pub now: i64,
    pub run_id: &'a str,
}

impl Context<'_> {
    pub fn prior(&self, key: &str) -> Option<(Prior, &AlertStateDocument)> {
        let state = self.open.get(key)?;
        let status = Status::parse(&state.status)?;
        let last = state.last_notified_at.as_deref().and_then(parse_time).or_else(|| parse_time(&state.since));
        Some((Prior { status, last_notified_at: last }, state))
    }
}

/// Evaluates every threshold pair: marked in this run, or open.
pub fn threshold_changes(ctx: &Context<'_>) -> Outcome {
    let mut pairs: BTreeSet<(usize, &str)> = BTreeSet::new();
    for (arn, rules) in &ctx.candidates.marked {
        pairs.extend(rules.iter().map(|r| (*r as usize, arn.as_str())));
    }
    for state in ctx.open.values().filter(|s| s.deployment_id.is_none()) {
        if let Some((index, rule)) = ctx.rules.by_name(&state.rule) {
            if rule.threshold().is_some() {
                pairs.insert((index, state.function_arn.as_str()));
            }
        }
    }
    let mut outcome = Outcome::default();
    for (index, arn) in pairs {
        let rule = &ctx.rules.rules[index];
        outcome.evaluated += 1;
        if let Some(change) = evaluate_pair(ctx, rule, arn) {
            outcome.changes.push(change);
        }
    }
    outcome
}

fn evaluate_pair(ctx: &Context<'_>, rule: &Rule, arn: &str) -> Option<Change> {
    let threshold = rule.threshold()?;
    let key = threshold_dedup_key(&rule.name, arn);
    let prior = ctx.prior(&key);
    let series = ctx.series.functions.get(arn);
    // Identity: from the history, else from the open state.
    let (account_id, region, function_name) = match (series, &prior) {
        (Some(s), _) => (s.account_id.clone(), s.region.clone(), s.function_name.clone()),
        (None, Some((_, state))) => (state.account_id.clone(), state.region.clone(), state.function_name.clone()),
        (None, None) => return None,
    };
    let runtime = ctx.candidates.runtimes.get(arn).map(|r| r.as_deref());
    let in_scope = rule.scope.matches(&FunctionKey { account_id: &account_id, region: &region, function_name: &function_name, runtime });
    let evaluation = series.and_then(|s| evaluate(threshold, &s.rows, ctx.candidates.newest_end));
    // Out of scope (the rule was narrowed) or no period left in the history: nothing breaches.
    let breaching = match (&evaluation, in_scope) {
        (Some(e), true) => e.breaching,
        _ => 0,
    };
    let kind = next(prior.map(|(p, _)| p), breaching, threshold.datapoints_to_alarm, ctx.now, rule.renotify_minutes.min(u64::from(u32::MAX)) as u32)?;
    let (from, to) = match (&evaluation, &prior) {
        (Some(e), _) => (e.from, e.to),
        (None, Some((_, state))) => {
            let end = parse_time(&state.last_period_end).unwrap_or(ctx.now);
            (end, end)
        }
        (None, None) => (ctx.now, ctx.now),
    };
    let value = evaluation.as_ref().and_then(Evaluation::shown_value);
    let n = threshold.evaluation_periods;
    let mut reason = message::threshold_reason(kind, &threshold.metric, threshold.comparison.symbol(), threshold.threshold, value, breaching, n, from, to);
    if !in_scope {
        reason.push_str(" (no longer in the rule's scope)");
    } else if evaluation.is_none() {
        reason.push_str(" (no period with data in the last evaluation window)");
    }
    let periods: Vec<String> = evaluation
        .as_ref()
        .map(|e| {
            let period = if n > 0 { (e.to - e.from) / i64::from(n) } else { 0 };
            e.slots.iter().enumerate().filter(|(_, s)| matches!(s, Slot::Breaching(_))).map(|(i, _)| rfc(e.from + i as i64 * period)).collect()
        })
        .unwrap_or_default();
    let ok = evaluation.as_ref().map_or(0, |e| e.ok);
    let period_end = rfc(to);
    let from_status = prior.as_ref().map(|(p, _)| p.status);
    let to_status = kind.status_after();
    let now = rfc(ctx.now);
    let notifies = kind.notifies() && !rule.destinations.is_empty();
    let notification = if notifies { notification_status::PENDING } else { notification_status::NOT_REQUIRED };
    let since = match (&prior, from_status == Some(to_status)) {
        (Some((_, state)), true) => state.since.clone(),
        _ => now.clone(),
    };
    let transition = AlertTransitionDocument {
        timestamp: now.clone(),
        run_id: ctx.run_id.to_string(),
        dedup_key: key.clone(),
        rule: rule.name.clone(),
        kind: rule.kind_name().into(),
        severity: rule.severity.clone(),
        transition: kind.as_str().into(),
        from_status: from_status.map(|s| s.as_str().to_string()),
        to_status: to_status.as_str().into(),
        account_id: account_id.clone(),
        region: region.clone(),
        function_name: function_name.clone(),
        function_arn: arn.to_string(),
        metric: Some(threshold.metric.clone()),
        comparison: Some(threshold.comparison.name().into()),
        threshold: Some(threshold.threshold),
        value,
        datapoints_to_alarm: Some(threshold.datapoints_to_alarm),
        evaluation_periods: Some(n),
        breaching_periods: breaching,
        periods,
        period_end: period_end.clone(),
        reason,
        deployment_id: None,
        notification_status: notification.into(),
        notification_key: None,
        notification_destinations: if notifies { rule.destinations.clone() } else { Vec::new() },
        notification_error: None,
    };
    let state = AlertStateDocument {
        timestamp: now.clone(),
        dedup_key: key,
        rule: rule.name.clone(),
        kind: rule.kind_name().into(),
        severity: rule.severity.clone(),
        account_id: account_id.clone(),
        region: region.clone(),
        function_name: function_name.clone(),
        function_arn: arn.to_string(),
        status: to_status.as_str().into(),
        since,
        last_period_end: period_end,
        value,
        breaching_periods: breaching,
        evaluated_periods: breaching + ok,
        notification_status: notification.into(),
        notification_key: None,
        last_notified_at: prior.as_ref().and_then(|(_, s)| s.last_notified_at.clone()),
        deployment_id: None,
        updated_at: now,
    };
    Some(Change { transition, state, kind, label: message::function_label(&function_name, &account_id, &region) })
}


/// Open states whose rule is gone (destroyed, disabled, or no longer valid): closed without a
/// message (the rule no longer names destinations), so "firing now" never shows a rule that
/// does not exist. Firing -> resolved, pending -> cleared.
pub fn orphaned_changes(ctx: &Context<'_>) -> Vec<Change> {
    let mut orphans: Vec<&AlertStateDocument> = ctx.open.values().filter(|s| ctx.rules.by_name(&s.rule).is_none()).collect();
    orphans.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
    let now = rfc(ctx.now);
    orphans
        .into_iter()
        .filter_map(|state| {
            let from = Status::parse(&state.status)?;
            let kind = match from {
                Status::Firing => Kind::Resolved,
                Status::Pending => Kind::Cleared,
                Status::Resolved | Status::Cleared => return None,
            };
            let to_status = kind.status_after();
            let reason = format!("rule {} was removed or disabled: its alerts are closed without a message", state.rule);
            let transition = AlertTransitionDocument {
                timestamp: now.clone(),
                run_id: ctx.run_id.to_string(),
                dedup_key: state.dedup_key.clone(),
                rule: state.rule.clone(),
                kind: state.kind.clone(),
                severity: state.severity.clone(),
                transition: kind.as_str().into(),
                from_status: Some(from.as_str().into()),
                to_status: to_status.as_str().into(),
                account_id: state.account_id.clone(),
                region: state.region.clone(),
                function_name: state.function_name.clone(),
                function_arn: state.function_arn.clone(),
                metric: None,
                comparison: None,
                threshold: None,
                value: state.value,
                datapoints_to_alarm: None,
                evaluation_periods: None,
                breaching_periods: 0,
                periods: Vec::new(),
                period_end: state.last_period_end.clone(),
                reason,
                deployment_id: state.deployment_id.clone(),
                notification_status: notification_status::NOT_REQUIRED.into(),
                notification_key: None,
                notification_destinations: Vec::new(),
                notification_error: None,
            };
            let closed = AlertStateDocument {
                timestamp: now.clone(),
                status: to_status.as_str().into(),
                since: now.clone(),
                breaching_periods: 0,
                notification_status: notification_status::NOT_REQUIRED.into(),
                updated_at: now.clone(),
                ..state.clone()
            };
            let label = message::function_label(&state.function_name, &state.account_id, &state.region);
            Some(Change { transition, state: closed, kind, label })
        })
        .collect()
}
