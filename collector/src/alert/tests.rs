//! The stage's pure parts together: candidates -> evaluation -> grouping, on synthetic fleets.

use std::collections::HashMap;

use lfm_schema::alerts::{verdict, AlertStateDocument, DeploymentComparison, DeploymentDocument};
use serde_json::{json, Value};

use super::candidates::Candidates;
use super::judge::{Sample, Verdict};
use super::rules::tests::{regression_rule, threshold_rule};
use super::rules::RuleSet;
use super::series::SeriesSet;
use super::state::Kind;
use super::*;
use crate::store::IndexedDocument;

const T0: i64 = 1_795_700_000 - 1_795_700_000 % 300;

fn arn(i: usize) -> String {
    format!("arn:aws:lambda:eu-west-1:123456789012:function:fn-{i}")
}

fn metric_doc(i: usize, start: i64, invocations: u64, error_rate: f64) -> Value {
    json!({
        "@timestamp": transitions::rfc(start), "period_seconds": 300, "account_id": "123456789012", "region": "eu-west-1",
        "function_name": format!("fn-{i}"), "function_arn": arn(i), "invocations": invocations,
        "errors": (invocations as f64 * error_rate).round() as u64, "error_rate": error_rate,
        "throttles": 0, "duration_p99_ms": 100.0, "cold_starts": 1, "cost_usd": 0.001
    })
}

fn indexed(body: Value) -> IndexedDocument {
    IndexedDocument { index: "t-metrics-2026.11.26".into(), id: body["@timestamp"].as_str().unwrap().into(), body }
}

fn inventory(i: usize, runtime: &str) -> IndexedDocument {
    IndexedDocument { index: "t-inventory".into(), id: arn(i), body: json!({"function_arn": arn(i), "runtime": runtime}) }
}

fn no_judge(_: &[Sample], _: &[Sample], _: &[String], _: u32, _: bool) -> Option<Verdict> {
    None
}

/// One run: `docs` are this run's documents; the history is `history` plus them.
struct Bed {
    rules: RuleSet,
    open: HashMap<String, AlertStateDocument>,
    history: Vec<Value>,
}

impl Bed {
    fn new(rules: Vec<lfm_schema::alerts::AlertRuleDocument>) -> Self {
        Bed { rules: RuleSet::compile(&rules), open: HashMap::new(), history: Vec::new() }
    }

    /// Runs the pure stage on `docs` at `now`; applies the states as the writes would (with
    /// the notification delivered when `delivered`).
    fn run(&mut self, docs: Vec<Value>, now: i64, delivered: bool) -> Evaluated {
        let mut candidates = Candidates::default();
        let batch: Vec<IndexedDocument> = docs.iter().cloned().map(indexed).collect();
        let watched = self.open.values().map(|s| s.function_arn.clone()).collect();
        candidates.observe(&self.rules, "t", &batch, &watched);
        self.history.extend(docs);
        let mut series = SeriesSet::default();
        for doc in &self.history {
            series.add(doc, &self.rules.table);
        }
        series.finish();
        let out = evaluate_run(&self.rules, &self.open, &[], &candidates, &series, now, "run", &no_judge);
        for change in &out.changes {
            let mut state = change.state.clone();
            if delivered && state.notification_status == "pending" {
                state.notification_status = "sent".into();
                state.last_notified_at = Some(transitions::rfc(now));
            }
            if state.status == "resolved" && state.notification_status != "pending" {
                self.open.remove(&state.dedup_key);
            } else {
                self.open.insert(state.dedup_key.clone(), state);
            }
        }
        for message in &out.messages {
            for key in &message.redelivered {
                if delivered {
                    if let Some(s) = self.open.get_mut(key) {
                        s.notification_status = "sent".into();
                    }
                }
            }
        }
        out
    }
}

#[test]
fn three_hundred_functions_bad_in_one_period_make_one_message_per_rule() {
    let mut bed = Bed::new(vec![
        threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 1, 1),
        threshold_rule("some-errors", "errors", "GreaterThanOrEqualToThreshold", 5.0, 1, 3),
    ]);
    let docs: Vec<Value> = (0..300).map(|i| metric_doc(i, T0, 100, 0.2)).collect();
    let out = bed.run(docs, T0 + 360, true);
    assert_eq!(out.changes.len(), 600);
    assert_eq!(out.messages.len(), 2, "one message per rule");
    let m = &out.messages[0];
    assert_eq!(m.rule, "high-errors");
    assert_eq!(m.body.firing, 300);
    assert_eq!(m.body.items.len(), 300);
    assert!(m.subject.starts_with("[LFM critical] high-errors: 300 firing (error_rate > 5%)"), "{}", m.subject);
    assert!(m.subject.len() <= 100);
    assert_eq!(m.text.lines().count(), 1 + group::TEXT_LINES_MAX + 1, "subject, 100 lines, '... and 200 more'");
    assert!(m.text.contains("FIRING error_rate 20% > 5% in 1 of 1 periods"), "{}", &m.text[..300]);
    assert!(out.changes.iter().all(|c| c.transition.notification_key.as_deref() == Some(m.idempotency_key.as_str()) || c.transition.rule != "high-errors"));
}

#[test]
fn alerts_of_a_removed_or_disabled_rule_are_closed_without_a_message() {
    let mut bed = Bed::new(vec![threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 1, 1)]);
    let first = bed.run(vec![metric_doc(1, T0, 100, 0.2)], T0 + 360, true);
    assert_eq!(count_transitions(&first.changes).firing, 1);
    // terraform destroy of the rule (or enabled = false): the next run no longer reads it.
    bed.rules = RuleSet::compile(&[]);
    let after = bed.run(vec![metric_doc(1, T0 + 300, 100, 0.2)], T0 + 660, true);
    assert_eq!(after.changes.len(), 1, "{:?}", after.changes);
    let change = &after.changes[0];
    assert_eq!((change.transition.transition.as_str(), change.state.status.as_str()), ("resolved", "resolved"));
    assert_eq!(change.transition.notification_status, "not_required");
    assert!(change.transition.reason.contains("rule high-errors was removed or disabled"), "{}", change.transition.reason);
    assert!(after.messages.is_empty());
    assert!(bed.open.is_empty(), "nothing left open");
}

#[test]
fn a_rerun_of_the_same_window_makes_no_transition_and_no_message() {
    let mut bed = Bed::new(vec![threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 2, 3)]);
    let docs: Vec<Value> = (0..3).map(|k| metric_doc(1, T0 + k * 300, 100, 0.2)).collect();
    let first = bed.run(docs.clone(), T0 + 960, true);
    assert_eq!(count_transitions(&first.changes).firing, 1);
    assert_eq!(first.messages.len(), 1);
    let again = bed.run(docs, T0 + 1000, true);
    assert!(again.changes.is_empty() && again.messages.is_empty(), "{:?}", again.changes);
}

#[test]
fn a_notification_left_pending_is_sent_by_the_next_run_with_the_same_key() {
    let mut bed = Bed::new(vec![threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 1, 1)]);
    let first = bed.run(vec![metric_doc(1, T0, 100, 0.2), metric_doc(2, T0, 100, 0.3)], T0 + 360, false);
    let key = first.messages[0].idempotency_key.clone();
    // Killed before delivery: the states say pending. The next run, same data:
    let second = bed.run(vec![], T0 + 420, true);
    assert!(second.changes.is_empty());
    assert_eq!(second.messages.len(), 1);
    assert_eq!(second.messages[0].idempotency_key, key);
    assert_eq!(second.messages[0].redelivered.len(), 2);
    let third = bed.run(vec![], T0 + 480, true);
    assert!(third.messages.is_empty(), "delivered once the result is written");
}

#[test]
fn a_failed_delivery_is_retried_by_the_next_runs_for_a_day() {
    let mut bed = Bed::new(vec![threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 1, 1)]);
    let first = bed.run(vec![metric_doc(1, T0, 100, 0.2)], T0 + 360, false);
    let key = first.messages[0].idempotency_key.clone();
    // The destination was down: every attempt within the budget failed.
    for state in bed.open.values_mut() {
        state.notification_status = "failed".into();
    }
    let second = bed.run(vec![], T0 + 660, false);
    assert_eq!(second.messages.len(), 1, "retried by the next run");
    assert_eq!(second.messages[0].idempotency_key, key, "with the same key");
    assert!(second.messages[0].text.contains("its delivery failed in an earlier run"), "{}", second.messages[0].text);
    // Still failing a day after the alert began: no more retries.
    let since = transitions::parse_time(&bed.open.values().next().unwrap().since).unwrap();
    let later = bed.run(vec![], since + state::RETRY_FAILED_FOR_SECONDS + 1, false);
    assert!(later.messages.iter().all(|m| m.redelivered.is_empty()), "{:?}", later.messages.iter().map(|m| &m.subject).collect::<Vec<_>>());
}

#[test]
fn resolves_only_after_n_clean_periods_and_says_so() {
    let mut bed = Bed::new(vec![threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 2, 3)]);
    let mut kinds = Vec::new();
    let rates = [0.2, 0.2, 0.0, 0.0, 0.0, 0.0];
    for (k, rate) in rates.iter().enumerate() {
        let start = T0 + k as i64 * 300;
        let out = bed.run(vec![metric_doc(1, start, 100, *rate)], start + 360, true);
        kinds.extend(out.changes.iter().map(|c| (k, c.kind)));
        if let Some(c) = out.changes.iter().find(|c| c.kind == Kind::Resolved) {
            assert!(c.transition.reason.starts_with("error_rate 0%, 0 of 3 periods > 5%"), "{}", c.transition.reason);
            assert_eq!(out.messages.len(), 1);
            assert!(out.messages[0].subject.contains("1 resolved"));
        }
    }
    assert_eq!(kinds, vec![(0, Kind::Pending), (1, Kind::Firing), (4, Kind::Resolved)]);
}

#[test]
fn a_flapping_function_fires_once_over_50_runs() {
    let mut bed = Bed::new(vec![threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 3, 5)]);
    let (mut messages, mut firing, mut resolved) = (0, 0, 0);
    for k in 0..50i64 {
        let start = T0 + k * 300;
        let rate = if k % 2 == 0 { 0.5 } else { 0.0 };
        let out = bed.run(vec![metric_doc(1, start, 100, rate)], start + 360, true);
        messages += out.messages.len();
        firing += count_transitions(&out.changes).firing;
        resolved += count_transitions(&out.changes).resolved;
    }
    // 250 minutes: firing once, never resolved (the 240-minute reminder is not due yet).
    assert_eq!((firing, resolved, messages), (1, 0, 1));
}

#[test]
fn min_invocations_scope_and_runtimes_decide_the_candidates() {
    let mut rule = threshold_rule("py-errors", "error_rate", "GreaterThanThreshold", 0.05, 1, 1);
    rule.runtimes = vec!["python3.12".into()];
    rule.function_name_pattern = Some("fn-?".into());
    let rules = RuleSet::compile(&[rule]);
    let docs = vec![
        indexed(metric_doc(1, T0, 100, 0.2)),  // python, matches
        indexed(metric_doc(2, T0, 100, 0.2)),  // nodejs: out of scope
        indexed(metric_doc(3, T0, 5, 0.6)),    // too few invocations
        indexed(metric_doc(10, T0, 100, 0.2)), // name fn-10 does not match fn-?
        indexed(metric_doc(4, T0, 100, 0.01)), // ok
        inventory(1, "python3.12"),
        inventory(2, "nodejs20.x"),
    ];
    let mut candidates = Candidates::default();
    candidates.observe(&rules, "t", &docs, &Default::default());
    let marked: Vec<&String> = candidates.marked.keys().collect();
    assert_eq!(marked, vec![&arn(1)]);
    assert_eq!(candidates.runtimes.get(&arn(1)), Some(&Some("python3.12".to_string())));
    assert_eq!(candidates.documents_checked, 5);
    assert_eq!(candidates.newest_end, Some(T0 + 300));
    assert!(candidates.metrics_indices.contains("t-metrics-2026.11.26"));
}

fn deployment(i: usize, at: i64) -> (String, DeploymentDocument) {
    let ts = transitions::rfc(at);
    let doc = DeploymentDocument {
        timestamp: ts.clone(),
        first_seen_at: ts.clone(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
        function_name: format!("fn-{i}"),
        function_arn: arn(i),
        code_sha256: Some("3f2a1b9c77".into()),
        version: None,
        changes: vec![lfm_schema::alerts::DeploymentChange { field: "code_sha256".into(), from: Some("aaaa".into()), to: Some("3f2a1b9c77".into()) }],
        changed_fields: vec!["code_sha256".into()],
        verdict: verdict::PENDING.into(),
        comparisons: vec![],
        summary: None,
        evaluated_at: None,
        period_seconds: 300,
    };
    (format!("{}|{ts}", arn(i)), doc)
}

fn regressed(before: &[Sample], after: &[Sample], _: &[String], _: u32, _: bool) -> Option<Verdict> {
    (before.len() >= 6 && after.len() >= 6).then(|| Verdict {
        verdict: verdict::REGRESSED.into(),
        comparisons: vec![DeploymentComparison {
            metric: "error_rate".into(),
            before: Some(0.004),
            after: Some(0.061),
            p_value: Some(1e-6),
            verdict: verdict::REGRESSED.into(),
            test: "two_proportion_z_overdispersed".into(),
            before_samples: before.len() as u64,
            after_samples: after.len() as u64,
        }],
        summary: "error rate 0.4% -> 6.1%".into(),
    })
}

#[test]
fn a_regression_fires_naming_the_change_and_resolves_with_the_next_change() {
    let rules = RuleSet::compile(&[regression_rule("regressions")]);
    let change_at = T0 + 12 * 300 + 65;
    let mut series = SeriesSet::default();
    for k in 0..26 {
        series.add(&metric_doc(7, T0 + k * 300, 1000, if k < 13 { 0.004 } else { 0.06 }), &rules.table);
    }
    series.finish();
    let candidates = Candidates::default();
    let pending = vec![deployment(7, change_at)];
    let now = T0 + 26 * 300 + 60;
    let out = evaluate_run(&rules, &HashMap::new(), &pending, &candidates, &series, now, "run", &regressed);
    assert_eq!(out.judged.len(), 1);
    assert_eq!(out.judged[0].1.verdict, "regressed");
    assert_eq!(out.regressions, 1);
    assert_eq!(out.changes.len(), 1);
    let t = &out.changes[0].transition;
    assert!(t.reason.starts_with("error rate 0.4% -> 6.1% since code 3f2a1b9c deployed at "), "{}", t.reason);
    assert_eq!(t.deployment_id.as_deref(), Some(pending[0].0.as_str()));
    assert_eq!(t.dedup_key, format!("regressions|{}|{}", arn(7), pending[0].0));
    assert_eq!(out.messages.len(), 1);
    assert!(out.messages[0].subject.contains("1 firing (deploy regressions)"), "{}", out.messages[0].subject);

    // Open now; a later change of the function resolves it.
    let mut open = HashMap::new();
    let mut state = out.changes[0].state.clone();
    state.notification_status = "sent".into();
    state.last_notified_at = Some(transitions::rfc(now));
    open.insert(state.dedup_key.clone(), state);
    let again = evaluate_run(&rules, &open, &[], &candidates, &series, now + 60, "run2", &regressed);
    assert!(again.changes.is_empty(), "nothing new while it is the latest change");
    let later = vec![deployment(7, now + 600)];
    let after = evaluate_run(&rules, &open, &later, &candidates, &series, now + 900, "run3", &no_judge);
    assert_eq!(after.changes.len(), 1);
    assert_eq!(after.changes[0].kind, Kind::Resolved);
    assert_eq!(after.messages.len(), 1);
}

#[test]
fn evaluation_of_a_large_fleet_is_cheap() {
    // 10,000 functions, 1,000 of them breaching, 12 periods of history, 3 rules.
    let rules = RuleSet::compile(&[
        threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 3, 5),
        threshold_rule("slow", "duration_p99_ms", "GreaterThanThreshold", 5000.0, 2, 3),
        threshold_rule("throttled", "throttles", "GreaterThanThreshold", 0.0, 1, 1),
    ]);
    let started = std::time::Instant::now();
    let mut candidates = Candidates::default();
    for account in 0..10 {
        let docs: Vec<IndexedDocument> =
            (account * 1000..(account + 1) * 1000).map(|i| indexed(metric_doc(i, T0 + 11 * 300, 100, if i % 10 == 0 { 0.2 } else { 0.0 }))).collect();
        candidates.observe(&rules, "t", &docs, &Default::default());
    }
    let marking = started.elapsed();
    assert_eq!(candidates.marked.len(), 1000);
    let mut series = SeriesSet::default();
    for i in candidates.marked.keys().map(|a| a.rsplit('-').next().unwrap().parse::<usize>().unwrap()) {
        for k in 0..12 {
            series.add(&metric_doc(i, T0 + k * 300, 100, 0.2), &rules.table);
        }
    }
    series.finish();
    let started = std::time::Instant::now();
    let out = evaluate_run(&rules, &HashMap::new(), &[], &candidates, &series, T0 + 12 * 300 + 60, "run", &no_judge);
    let evaluation = started.elapsed();
    assert_eq!(out.evaluated, 1000);
    assert_eq!(out.messages.len(), 1);
    eprintln!(
        "fleet 10,000 functions: marking {} ms, candidates {} KB; evaluation of 1,000 functions x 12 periods {} ms",
        marking.as_millis(),
        candidates.heap_bytes() / 1024,
        evaluation.as_millis()
    );
}
