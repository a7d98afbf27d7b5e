//! Deploy-aware regressions (pure): each pending deployment (a change recorded in
//! `{p}-deployments`) is judged on the periods before and after it ([`super::judge`], the
//! statistics of `crate::derive::regression`); the verdict is written back, and a regression
//! in the scope of a `deploy_regression` rule fires an alert that names the change. A
//! regression alert resolves when a later change of the function is recorded. Part of
//! [`crate::alert`].

use std::collections::HashMap;

use lfm_schema::alerts::{
    notification_status, regression_dedup_key, verdict, AlertStateDocument, AlertTransitionDocument, DeploymentDocument,
};

use super::judge::{Sample, Verdict, WINDOW_PERIODS};
use super::message;
use super::rules::{Rule, RuleKind};
use super::scope::FunctionKey;
use super::series::{FunctionSeries, MetricTable};
use super::state::{next, Kind, Status};
use super::transitions::{parse_time, rfc, Change, Context};

/// What the regression half of a run did.
#[derive(Debug, Default)]
pub struct RegressionOutcome {
    /// Deployments judged this run, with their verdict, to write back (`_id`, document).
    pub judged: Vec<(String, DeploymentDocument)>,
    pub changes: Vec<Change>,
    pub regressions: u64,
}

/// The periods of `series` before (ending at or before the change) and after (starting at
/// or after it) `change_at`, within the window.
pub fn samples(series: &FunctionSeries, table: &MetricTable, change_at: i64, period_seconds: u32) -> (Vec<Sample>, Vec<Sample>) {
    let span = WINDOW_PERIODS as i64 * i64::from(period_seconds.max(1));
    let value = |row: &super::series::PeriodRow, field: &str| table.index(field).and_then(|i| row.values.get(i).copied().flatten());
    let sample = |row: &super::series::PeriodRow| Sample {
        start: row.start,
        invocations: row.invocations,
        errors: value(row, "errors").map_or(0, |v| v.max(0.0) as u64),
        cold_starts: value(row, "cold_starts").map(|v| v.max(0.0) as u64),
        duration_p99_ms: value(row, "duration_p99_ms"),
        cost_usd: value(row, "cost_usd"),
    };
    let rows = series.rows.iter().filter(|r| r.period_seconds == period_seconds || period_seconds == 0);
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for row in rows {
        if row.end() <= change_at && row.start >= change_at - span {
            before.push(sample(row));
        } else if row.start >= change_at && row.start < change_at + span {
            after.push(sample(row));
        }
    }
    (before, after)
}

/// "code 3f2a1b9c deployed at 14:05 UTC" or "memory_mb 512 -> 1024 changed at 14:05 UTC".
pub fn describe_change(deployment: &DeploymentDocument) -> String {
    let at = parse_time(&deployment.timestamp).map_or(deployment.timestamp.clone(), |t| {
        chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d %H:%M UTC").to_string()
    });
    let code = deployment.changes.iter().find(|c| c.field == "code_sha256");
    match code {
        Some(c) => format!("code {} deployed at {at}", c.to.as_deref().map_or("?", |s| &s[..s.len().min(8)])),
        None => {
            let what: Vec<String> = deployment
                .changes
                .iter()
                .map(|c| format!("{} {} -> {}", c.field, c.from.as_deref().unwrap_or("none"), c.to.as_deref().unwrap_or("none")))
                .collect();
            format!("{} changed at {at}", if what.is_empty() { "configuration".to_string() } else { what.join(", ") })
        }
    }
}

/// The change time of a deployment `_id` (`{function_arn}|{last_modified}`).
fn change_time_of_id(id: &str) -> Option<i64> {
    parse_time(id.rsplit('|').next()?)
}

/// Judges `pending` deployments (`_id`, document) and handles open regression states.
pub fn regression_changes(
    ctx: &Context<'_>,
    pending: &[(String, DeploymentDocument)],
    judge: &dyn Fn(&[Sample], &[Sample], &[String], u32, bool) -> Option<Verdict>,
) -> RegressionOutcome {
    let mut outcome = RegressionOutcome::default();
    let regression_rules: Vec<&Rule> = ctx.rules.rules.iter().filter(|r| matches!(r.kind, RuleKind::Regression { .. })).collect();
    // Metrics any regression rule wants (empty: all four).
    let mut metrics: Vec<String> = Vec::new();
    for rule in &regression_rules {
        if let RuleKind::Regression { metrics: m } = &rule.kind {
            for metric in m {
                if !metrics.contains(metric) {
                    metrics.push(metric.clone());
                }
            }
        }
    }
    for (id, deployment) in pending {
        let Some(change_at) = parse_time(&deployment.timestamp) else { continue };
        let period = if deployment.period_seconds > 0 { deployment.period_seconds } else { 300 };
        let empty = FunctionSeries::default();
        let series = ctx.series.functions.get(&deployment.function_arn).unwrap_or(&empty);
        let (before, after) = samples(series, &ctx.rules.table, change_at, period);
        let over = ctx.now >= change_at + (WINDOW_PERIODS as i64 + 1) * i64::from(period);
        let Some(found) = judge(&before, &after, &metrics, period, over) else { continue };
        let mut judged = deployment.clone();
        judged.verdict = found.verdict.clone();
        judged.comparisons = found.comparisons.clone();
        judged.summary = Some(found.summary.clone()).filter(|s| !s.is_empty());
        judged.evaluated_at = Some(rfc(ctx.now));
        outcome.judged.push((id.clone(), judged));
        if found.verdict != verdict::REGRESSED {
            continue;
        }
        outcome.regressions += 1;
        let runtime = ctx.candidates.runtimes.get(&deployment.function_arn).map(|r| r.as_deref());
        let key = FunctionKey {
            account_id: &deployment.account_id,
            region: &deployment.region,
            function_name: &deployment.function_name,
            runtime,
        };
        for rule in regression_rules.iter().filter(|r| r.scope.matches(&key)) {
            let dedup = regression_dedup_key(&rule.name, &deployment.function_arn, id);
            if ctx.open.contains_key(&dedup) {
                continue;
            }
            let reason = format!("{} since {}", found.summary, describe_change(deployment));
            let end = after.last().map_or(ctx.now, |s| s.start + i64::from(period));
            let value = found.comparisons.iter().find(|c| c.verdict == verdict::REGRESSED).and_then(|c| c.after);
            outcome.changes.push(change(ctx, rule, &dedup, None, Kind::Firing, deployment, id, reason, value, end));
        }
    }
    // Open regression alerts: superseded by a later change of the function, or due a reminder.
    let mut later: HashMap<&str, i64> = HashMap::new();
    for (id, deployment) in pending {
        if let Some(at) = change_time_of_id(id).or_else(|| parse_time(&deployment.timestamp)) {
            let entry = later.entry(deployment.function_arn.as_str()).or_insert(at);
            *entry = (*entry).max(at);
        }
    }
    let mut open: Vec<&AlertStateDocument> = ctx.open.values().filter(|s| s.deployment_id.is_some()).collect();
    open.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
    for state in open {
        let Some((_, rule)) = ctx.rules.by_name(&state.rule) else { continue };
        let Some((prior, _)) = ctx.prior(&state.dedup_key) else { continue };
        if prior.status != Status::Firing {
            continue;
        }
        let deployment_id = state.deployment_id.clone().unwrap_or_default();
        let superseded = match (change_time_of_id(&deployment_id), later.get(state.function_arn.as_str())) {
            (Some(this), Some(newest)) => *newest > this,
            _ => false,
        };
        let kind = if superseded {
            Kind::Resolved
        } else {
            match next(Some(prior), 1, 1, ctx.now, rule.renotify_minutes.min(u64::from(u32::MAX)) as u32) {
                Some(Kind::Renotify) => Kind::Renotify,
                _ => continue,
            }
        };
        let reason = if superseded {
            format!("a later change of the function was recorded ({} regression of {deployment_id})", "superseding the")
        } else {
            format!("still regressed since the change {deployment_id}")
        };
        let end = parse_time(&state.last_period_end).unwrap_or(ctx.now);
        let stub = DeploymentDocument {
            timestamp: state.since.clone(),
            first_seen_at: state.since.clone(),
            account_id: state.account_id.clone(),
            region: state.region.clone(),
            function_name: state.function_name.clone(),
            function_arn: state.function_arn.clone(),
            code_sha256: None,
            version: None,
            changes: Vec::new(),
            changed_fields: Vec::new(),
            verdict: verdict::REGRESSED.into(),
            comparisons: Vec::new(),
            summary: None,
            evaluated_at: None,
            period_seconds: 0,
        };
        outcome.changes.push(change(ctx, rule, &state.dedup_key, Some(state), kind, &stub, &deployment_id, reason, state.value, end));
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
fn change(
    ctx: &Context<'_>,
    rule: &Rule,
    dedup: &str,
    prior: Option<&AlertStateDocument>,
    kind: Kind,
    deployment: &DeploymentDocument,
    deployment_id: &str,
    reason: String,
    value: Option<f64>,
    end: i64,
) -> Change {
    let now = rfc(ctx.now);
    let notifies = kind.notifies() && !rule.destinations.is_empty();
    let notification = if notifies { notification_status::PENDING } else { notification_status::NOT_REQUIRED };
    let to_status = kind.status_after();
    let from_status = prior.map(|p| p.status.clone());
    let since = match prior {
        Some(p) if p.status == to_status.as_str() => p.since.clone(),
        _ => now.clone(),
    };
    let transition = AlertTransitionDocument {
        timestamp: now.clone(),
        run_id: ctx.run_id.to_string(),
        dedup_key: dedup.to_string(),
        rule: rule.name.clone(),
        kind: rule.kind_name().into(),
        severity: rule.severity.clone(),
        transition: kind.as_str().into(),
        from_status,
        to_status: to_status.as_str().into(),
        account_id: deployment.account_id.clone(),
        region: deployment.region.clone(),
        function_name: deployment.function_name.clone(),
        function_arn: deployment.function_arn.clone(),
        metric: None,
        comparison: None,
        threshold: None,
        value,
        datapoints_to_alarm: None,
        evaluation_periods: None,
        breaching_periods: 0,
        periods: Vec::new(),
        period_end: rfc(end),
        reason,
        deployment_id: Some(deployment_id.to_string()),
        notification_status: notification.into(),
        notification_key: None,
        notification_destinations: if notifies { rule.destinations.clone() } else { Vec::new() },
        notification_error: None,
    };
    let state = AlertStateDocument {
        timestamp: now.clone(),
        dedup_key: dedup.to_string(),
        rule: rule.name.clone(),
        kind: rule.kind_name().into(),
        severity: rule.severity.clone(),
        account_id: deployment.account_id.clone(),
        region: deployment.region.clone(),
        function_name: deployment.function_name.clone(),
        function_arn: deployment.function_arn.clone(),
        status: to_status.as_str().into(),
        since,
        last_period_end: rfc(end),
        value,
        breaching_periods: 0,
        evaluated_periods: 0,
        notification_status: notification.into(),
        notification_key: None,
        last_notified_at: prior.and_then(|p| p.last_notified_at.clone()),
        deployment_id: Some(deployment_id.to_string()),
        updated_at: now,
    };
    let label = message::function_label(&deployment.function_name, &deployment.account_id, &deployment.region);
    Change { transition, state, kind, label }
}
