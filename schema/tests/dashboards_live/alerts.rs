//! The alerts and regressions dashboard against the real node: alert states, transitions,
//! deployments and rules built with `lfm_schema::alerts`' own types, some outside the
//! dashboards' 24 hours, and every panel's numbers recomputed from those documents.

use std::collections::BTreeMap;

use lfm_schema::alerts::{
    alert_rules_index, alert_state_index, alerts_index, deployments_index, deployment_document_id, regression_dedup_key,
    threshold_dedup_key, transition_document_id, AlertRuleDocument, AlertStateDocument, AlertTransitionDocument, DeploymentChange,
    DeploymentComparison, DeploymentDocument,
};
use lfm_schema::dashboards::implied::ImpliedSearch;
use serde_json::{json, Value};

use super::{epoch_of, rfc3339, run, Node};

const DAY: i64 = 86_400;

fn arn(function: &str) -> String {
    format!("arn:aws:lambda:us-east-1:111122223333:function:{function}")
}

fn rule(name: &str, threshold: Option<(&str, &str, f64, u32, u32)>, severity: &str, enabled: bool, now: i64) -> AlertRuleDocument {
    AlertRuleDocument {
        name: name.into(),
        kind: if threshold.is_some() { "threshold" } else { "deploy_regression" }.into(),
        enabled,
        description: Some(format!("{name} (dashboards live test)")),
        severity: severity.into(),
        metric: threshold.map(|t| t.0.into()),
        comparison: threshold.map(|t| t.1.into()),
        threshold: threshold.map(|t| t.2),
        datapoints_to_alarm: threshold.map(|t| t.3),
        evaluation_periods: threshold.map(|t| t.4),
        min_invocations: 10,
        account_ids: Vec::new(),
        regions: Vec::new(),
        function_name_pattern: None,
        runtimes: Vec::new(),
        destinations: vec!["ops".into()],
        renotify_minutes: 240,
        regression_metrics: if threshold.is_some() { Vec::new() } else { vec!["error_rate".into(), "duration_p99_ms".into()] },
        // Declared long before the dashboards' 24 hours: still listed.
        updated_at: rfc3339(now - 10 * DAY),
    }
}

fn state(rule: &str, severity: &str, function: &str, status: &str, since: i64, value: f64, now: i64) -> AlertStateDocument {
    let dedup_key = threshold_dedup_key(rule, &arn(function));
    AlertStateDocument {
        timestamp: rfc3339(since),
        dedup_key,
        rule: rule.into(),
        kind: "threshold".into(),
        severity: severity.into(),
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        function_name: function.into(),
        function_arn: arn(function),
        status: status.into(),
        since: rfc3339(since),
        last_period_end: rfc3339(now / 300 * 300),
        value: Some(value),
        breaching_periods: 3,
        evaluated_periods: 5,
        notification_status: "sent".into(),
        notification_key: Some("k".into()),
        last_notified_at: Some(rfc3339(since)),
        deployment_id: None,
        updated_at: rfc3339(now - 60),
    }
}

fn transition(rule: &str, function: &str, kind: &str, at: i64, notification: &str, reason: &str) -> AlertTransitionDocument {
    AlertTransitionDocument {
        timestamp: rfc3339(at),
        run_id: format!("run-{at}"),
        dedup_key: threshold_dedup_key(rule, &arn(function)),
        rule: rule.into(),
        kind: "threshold".into(),
        severity: "critical".into(),
        transition: kind.into(),
        from_status: None,
        to_status: kind.into(),
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        function_name: function.into(),
        function_arn: arn(function),
        metric: Some("error_rate".into()),
        comparison: Some("GreaterThanThreshold".into()),
        threshold: Some(0.05),
        value: Some(0.07),
        datapoints_to_alarm: Some(3),
        evaluation_periods: Some(5),
        breaching_periods: 3,
        periods: vec![rfc3339(at / 300 * 300 - 300)],
        period_end: rfc3339(at / 300 * 300),
        reason: reason.into(),
        deployment_id: None,
        notification_status: notification.into(),
        notification_key: None,
        notification_destinations: vec!["ops".into()],
        notification_error: (notification == "failed").then(|| "HTTP 500 from the receiver".into()),
    }
}

fn deployment(function: &str, at: i64, changed: &[&str], verdict: &str, summary: Option<&str>) -> DeploymentDocument {
    DeploymentDocument {
        timestamp: rfc3339(at),
        first_seen_at: rfc3339(at + 120),
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        function_name: function.into(),
        function_arn: arn(function),
        code_sha256: Some(format!("sha-{at}")),
        version: Some("$LATEST".into()),
        changes: changed.iter().map(|f| DeploymentChange { field: (*f).into(), from: Some("a".into()), to: Some("b".into()) }).collect(),
        changed_fields: changed.iter().map(|f| (*f).into()).collect(),
        verdict: verdict.into(),
        comparisons: vec![DeploymentComparison {
            metric: "error_rate".into(),
            before: Some(0.004),
            after: Some(0.061),
            p_value: Some(0.0001),
            verdict: verdict.into(),
            test: "two_proportion_z_overdispersed".into(),
            before_samples: 12,
            after_samples: 12,
        }],
        summary: summary.map(Into::into),
        evaluated_at: summary.map(|_| rfc3339(at + 3600)),
        period_seconds: 300,
    }
}

/// `(index, id, document)` of the alert indices; some states and events predate the 24 hours.
pub fn seed_documents(prefix: &str, now: i64) -> Vec<(String, String, Value)> {
    let mut docs = Vec::new();
    let rules = [
        rule("high-error-rate", Some(("error_rate", "GreaterThanThreshold", 0.05, 3, 5)), "critical", true, now),
        rule("throttling", Some(("throttles", "GreaterThanOrEqualToThreshold", 1.0, 2, 3)), "warning", false, now),
        rule("deploy-regressions", None, "warning", true, now),
    ];
    for r in rules {
        docs.push((alert_rules_index(prefix), r.name.clone(), serde_json::to_value(&r).unwrap()));
    }
    let mut regression = state("deploy-regressions", "warning", "search", "firing", now - 20 * 60, 0.061, now);
    regression.kind = "deploy_regression".into();
    regression.deployment_id = Some(deployment_document_id(&arn("search"), &rfc3339(now - 2 * 3600)));
    regression.dedup_key = regression_dedup_key("deploy-regressions", &arn("search"), regression.deployment_id.as_deref().unwrap());
    let states = [
        // Firing for three days: shown whatever the time range.
        state("high-error-rate", "critical", "orders", "firing", now - 3 * DAY, 0.12, now),
        state("high-error-rate", "critical", "payments", "firing", now - 40 * 60, 0.07, now),
        regression,
        state("high-error-rate", "critical", "thumbnails", "pending", now - 10 * 60, 0.06, now),
        state("throttling", "warning", "payments", "resolved", now - 2 * 3600, 0.0, now),
    ];
    for s in states {
        docs.push((alert_state_index(prefix), s.dedup_key.clone(), serde_json::to_value(&s).unwrap()));
    }
    let transitions = [
        transition("high-error-rate", "payments", "pending", now - 55 * 60, "not_required", "error_rate 7% > 5% in 1 of the last 5 periods"),
        transition("high-error-rate", "payments", "firing", now - 40 * 60, "sent", "error_rate 7% > 5% in 3 of the last 5 periods"),
        transition("deploy-regressions", "search", "firing", now - 20 * 60, "failed", "error rate 0.4% -> 6.1% since code 3f2a1b9c deployed at 14:05 UTC"),
        transition("throttling", "payments", "firing", now - 3 * 3600, "sent", "throttles 2 >= 1 in 2 of the last 3 periods"),
        transition("throttling", "payments", "resolved", now - 2 * 3600, "sent", "throttles 0 in the last 3 periods"),
        transition("high-error-rate", "thumbnails", "pending", now - 10 * 60, "not_required", "error_rate 6% > 5% in 1 of the last 5 periods"),
        // Outside the 24 hours: not counted.
        transition("high-error-rate", "orders", "firing", now - 3 * DAY, "sent", "error_rate 12% > 5% in 5 of the last 5 periods"),
        // Two renotifies: one row, two transitions, the newest reason.
        transition("high-error-rate", "orders", "renotify", now - 5 * 3600, "sent", "still firing: error_rate 11%"),
        transition("high-error-rate", "orders", "renotify", now - 30 * 60, "sent", "still firing: error_rate 12%"),
    ];
    for t in transitions {
        let id = transition_document_id(&t.dedup_key, &t.transition, &t.period_end);
        docs.push((alerts_index(prefix), id, serde_json::to_value(&t).unwrap()));
    }
    let deployments = [
        deployment("search", now - 2 * 3600, &["code_sha256"], "regressed", Some("error rate 0.4% -> 6.1%")),
        deployment("orders", now - 6 * 3600, &["memory_mb"], "improved", Some("p99 duration 480 ms -> 120 ms")),
        deployment("payments", now - 4 * 3600, &["code_sha256", "timeout_s"], "unchanged", Some("error rate 0.5% -> 0.5%")),
        deployment("payments", now - 3600, &["code_sha256"], "unchanged", Some("error rate 0.5% -> 0.4%")),
        deployment("thumbnails", now - 15 * 60, &["runtime"], "pending", None),
        // Outside the 24 hours: not shown.
        deployment("reports", now - 3 * DAY, &["code_sha256"], "regressed", Some("p99 duration 1 s -> 3 s")),
    ];
    for d in deployments {
        let id = deployment_document_id(&d.function_arn, &d.timestamp);
        docs.push((deployments_index(prefix), id, serde_json::to_value(&d).unwrap()));
    }
    docs
}

/// Every row of a (possibly nested) bucket answer: the bucket keys, outermost first, and the
/// innermost bucket (its `doc_count` and metric values).
fn rows(level: &Value, aggs: &Value, keys: Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    let bucket = aggs.as_object().into_iter().flatten().find(|(_, d)| d.get("terms").is_some() || d.get("date_histogram").is_some());
    match bucket {
        None => out.push((keys, level.clone())),
        Some((name, definition)) => {
            for b in level[name.as_str()]["buckets"].as_array().into_iter().flatten() {
                let key = b["key"].as_str().map(str::to_owned).unwrap_or_else(|| b["key"].to_string());
                let mut keys = keys.clone();
                keys.push(key);
                rows(b, &definition["aggs"], keys, out);
            }
        }
    }
}

fn table(search: &ImpliedSearch, answer: &Value) -> BTreeMap<Vec<String>, Value> {
    let mut out = Vec::new();
    rows(&answer["aggregations"], &search.body["aggs"], Vec::new(), &mut out);
    let count = out.len();
    let map: BTreeMap<Vec<String>, Value> = out.into_iter().collect();
    assert_eq!(map.len(), count, "duplicate rows in {answer}");
    map
}

/// A top hit's `_source` field (null when the document has none).
fn top(row: &Value, id: &str, field: &str) -> Value {
    row[id]["hits"]["hits"][0]["_source"].get(field).cloned().unwrap_or(Value::Null)
}

fn of<'a>(docs: &'a [(String, String, Value)], index: &str) -> Vec<&'a Value> {
    docs.iter().filter(|(i, ..)| i == index).map(|(.., d)| d).collect()
}

fn ms(text: &Value) -> f64 {
    epoch_of(text.as_str().unwrap()) as f64 * 1000.0
}

/// The numbers of the alerts and regressions dashboard, against the seed documents.
pub async fn check_numbers(node: &Node, prefix: &str, docs: &[(String, String, Value)], now: i64) -> Vec<String> {
    let mut failures = Vec::new();
    let in_range = |d: &&Value| epoch_of(d["@timestamp"].as_str().unwrap()) >= now - DAY;
    let mut compare = |slug: &str, shown: BTreeMap<Vec<String>, Value>, expected: BTreeMap<Vec<String>, Value>| {
        if shown != expected {
            failures.push(format!("{slug}: shows {}, expected {}", json!(format!("{shown:?}")), json!(format!("{expected:?}"))));
        }
    };

    // Firing now: every firing state (also one firing for three days), no pending or resolved one.
    let (search, answer) = run(node, prefix, "alerts-firing-now").await;
    let shown = table(&search, &answer).into_iter().map(|(k, row)| (k, json!([row["1"]["value"], row["2"]["value"]]))).collect();
    let expected = of(docs, &alert_state_index(prefix))
        .into_iter()
        .filter(|s| s["status"] == "firing")
        .map(|s| (vec![s["rule"].as_str().unwrap().to_owned(), s["severity"].as_str().unwrap().to_owned(), s["function_name"].as_str().unwrap().to_owned()], json!([ms(&s["since"]), s["value"]])))
        .collect();
    compare("alerts-firing-now", shown, expected);

    let transitions: Vec<&Value> = of(docs, &alerts_index(prefix)).into_iter().filter(in_range).collect();
    // Transitions per hour and kind.
    let (search, answer) = run(node, prefix, "alerts-transitions-over-time").await;
    let shown = table(&search, &answer).into_iter().map(|(k, row)| (k, row["doc_count"].clone())).collect();
    let mut expected: BTreeMap<Vec<String>, Value> = BTreeMap::new();
    for t in &transitions {
        let hour = epoch_of(t["@timestamp"].as_str().unwrap()) / 3600 * 3600 * 1000;
        let count = expected.entry(vec![hour.to_string(), t["transition"].as_str().unwrap().to_owned()]).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap() + 1);
    }
    compare("alerts-transitions-over-time", shown, expected);

    // Transitions table: newest time, count and newest reason per rule, function, transition, notification.
    let (search, answer) = run(node, prefix, "alerts-transitions").await;
    let shown = table(&search, &answer).into_iter().map(|(k, row)| (k, json!([row["1"]["value"], row["doc_count"], top(&row, "3", "reason")]))).collect();
    let key = |t: &Value| ["rule", "function_name", "transition", "notification_status"].map(|f| t[f].as_str().unwrap().to_owned()).to_vec();
    compare("alerts-transitions", shown, newest_per(&transitions, key, &["reason"]));

    // Deployments per function and verdict: newest time, count, newest changed fields and summary.
    let deployments: Vec<&Value> = of(docs, &deployments_index(prefix)).into_iter().filter(in_range).collect();
    let (search, answer) = run(node, prefix, "deployments").await;
    let shown = table(&search, &answer)
        .into_iter()
        .map(|(k, row)| (k, json!([row["1"]["value"], row["doc_count"], top(&row, "3", "changed_fields"), top(&row, "4", "summary")])))
        .collect();
    let key = |d: &Value| ["function_name", "verdict"].map(|f| d[f].as_str().unwrap().to_owned()).to_vec();
    compare("deployments", shown, newest_per(&deployments, key, &["changed_fields", "summary"]));

    let (search, answer) = run(node, prefix, "deployments-by-verdict").await;
    let shown = table(&search, &answer).into_iter().map(|(k, row)| (k, row["doc_count"].clone())).collect();
    let mut expected: BTreeMap<Vec<String>, Value> = BTreeMap::new();
    for d in &deployments {
        let count = expected.entry(vec![d["verdict"].as_str().unwrap().to_owned()]).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap() + 1);
    }
    compare("deployments-by-verdict", shown, expected);

    // Declared rules, declared ten days ago: all of them, with their settings.
    let (search, answer) = run(node, prefix, "alert-rules").await;
    let shown = table(&search, &answer)
        .into_iter()
        .map(|(k, row)| {
            let columns = json!([
                top(&row, "1", "kind"), top(&row, "2", "metric"), top(&row, "3", "comparison"), row["4"]["value"], row["5"]["value"],
                row["6"]["value"], top(&row, "7", "severity"), top(&row, "8", "enabled"),
            ]);
            (k, columns)
        })
        .collect();
    let as_f64 = |v: &Value| v.as_f64().map_or(Value::Null, |v| json!(v));
    let expected = of(docs, &alert_rules_index(prefix))
        .into_iter()
        .map(|r| {
            let columns = json!([
                r["kind"], r["metric"], r["comparison"], as_f64(&r["threshold"]), as_f64(&r["datapoints_to_alarm"]),
                as_f64(&r["evaluation_periods"]), r["severity"], r["enabled"],
            ]);
            (vec![r["name"].as_str().unwrap().to_owned()], columns)
        })
        .collect();
    compare("alert-rules", shown, expected);
    failures
}

/// Per key: `[newest @timestamp (ms), document count, the newest document's fields...]`.
fn newest_per(docs: &[&Value], key: impl Fn(&Value) -> Vec<String>, fields: &[&str]) -> BTreeMap<Vec<String>, Value> {
    let mut groups: BTreeMap<Vec<String>, Vec<&Value>> = BTreeMap::new();
    for d in docs {
        groups.entry(key(d)).or_default().push(d);
    }
    groups
        .into_iter()
        .map(|(k, group)| {
            let newest = group.iter().max_by_key(|d| epoch_of(d["@timestamp"].as_str().unwrap())).unwrap();
            let mut row = vec![json!(ms(&newest["@timestamp"])), json!(group.len())];
            row.extend(fields.iter().map(|f| newest[*f].clone()));
            (k, Value::Array(row))
        })
        .collect()
}
