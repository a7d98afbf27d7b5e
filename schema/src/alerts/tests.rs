use super::*;
use crate::documents::index_templates;
use std::collections::BTreeSet;

fn template(name: &str) -> serde_json::Value {
    index_templates("acme").into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no template {name}")).1
}

fn mapped(template: &serde_json::Value, path: &[&str]) -> BTreeSet<String> {
    let mut node = &template["template"]["mappings"];
    for p in path {
        node = &node["properties"][*p];
    }
    node["properties"].as_object().unwrap().keys().cloned().collect()
}

fn serialized<T: Serialize>(doc: &T) -> BTreeSet<String> {
    serde_json::to_value(doc).unwrap().as_object().unwrap().keys().cloned().collect()
}

pub(crate) fn threshold_rule() -> AlertRuleDocument {
    AlertRuleDocument {
        name: "error-rate".into(),
        kind: kind::THRESHOLD.into(),
        enabled: true,
        description: Some("More than 5% of invocations fail".into()),
        severity: severity::CRITICAL.into(),
        metric: Some("error_rate".into()),
        comparison: Some(comparison::GREATER.into()),
        threshold: Some(0.05),
        datapoints_to_alarm: Some(2),
        evaluation_periods: Some(3),
        min_invocations: DEFAULT_MIN_INVOCATIONS,
        account_ids: vec!["111122223333".into()],
        regions: vec!["eu-west-1".into()],
        function_name_pattern: Some("orders-*".into()),
        runtimes: vec!["python3.12".into()],
        destinations: vec!["oncall".into()],
        renotify_minutes: DEFAULT_RENOTIFY_MINUTES,
        regression_metrics: vec![],
        updated_at: "2026-12-03T10:00:00Z".into(),
    }
}

fn regression_rule() -> AlertRuleDocument {
    AlertRuleDocument {
        name: "deploy-regressions".into(),
        kind: kind::DEPLOY_REGRESSION.into(),
        metric: None,
        comparison: None,
        threshold: None,
        datapoints_to_alarm: None,
        evaluation_periods: None,
        regression_metrics: regression_metric::ALL.iter().map(|m| m.to_string()).collect(),
        ..threshold_rule()
    }
}

fn fields(problems: &[RuleProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.field).collect()
}

#[test]
fn documents_match_their_templates() {
    let rule = threshold_rule();
    assert_eq!(serialized(&rule), mapped(&template("acme-alert-rules"), &[]));
    let destination = AlertDestinationDocument {
        name: "oncall".into(),
        destination_type: destination_type::WEBHOOK.into(),
        topic_arn: None,
        url: Some("https://hooks.example.com/lfm".into()),
        format: format::SLACK.into(),
        secret_parameter: Some("/lfm/acme/alert-destinations/oncall/webhook-secret".into()),
        updated_at: "2026-12-03T10:00:00Z".into(),
    };
    assert_eq!(serialized(&destination), mapped(&template("acme-alert-destinations"), &[]));
    let state = AlertStateDocument {
        timestamp: "t".into(),
        dedup_key: "k".into(),
        rule: "r".into(),
        kind: kind::THRESHOLD.into(),
        severity: "warning".into(),
        account_id: "a".into(),
        region: "r".into(),
        function_name: "f".into(),
        function_arn: "arn".into(),
        status: status::FIRING.into(),
        since: "t".into(),
        last_period_end: "t".into(),
        value: Some(0.1),
        breaching_periods: 3,
        evaluated_periods: 3,
        notification_status: notification_status::SENT.into(),
        notification_key: Some("key".into()),
        last_notified_at: Some("t".into()),
        deployment_id: None,
        updated_at: "t".into(),
    };
    assert_eq!(serialized(&state), mapped(&template("acme-alert-state"), &[]));
    let transition = AlertTransitionDocument {
        timestamp: "t".into(),
        run_id: "run".into(),
        dedup_key: "k".into(),
        rule: "r".into(),
        kind: kind::THRESHOLD.into(),
        severity: "warning".into(),
        transition: transition::FIRING.into(),
        from_status: None,
        to_status: status::FIRING.into(),
        account_id: "a".into(),
        region: "r".into(),
        function_name: "f".into(),
        function_arn: "arn".into(),
        metric: Some("error_rate".into()),
        comparison: Some(comparison::GREATER.into()),
        threshold: Some(0.05),
        value: Some(0.1),
        datapoints_to_alarm: Some(2),
        evaluation_periods: Some(3),
        breaching_periods: 2,
        periods: vec!["t".into()],
        period_end: "t".into(),
        reason: "why".into(),
        deployment_id: None,
        notification_status: notification_status::PENDING.into(),
        notification_key: None,
        notification_destinations: vec![],
        notification_error: None,
    };
    assert_eq!(serialized(&transition), mapped(&template("acme-alerts"), &[]));
    let comparison = DeploymentComparison {
        metric: regression_metric::ERROR_RATE.into(),
        before: Some(0.004),
        after: Some(0.061),
        p_value: Some(1e-9),
        verdict: verdict::REGRESSED.into(),
        test: "two_proportion_z_overdispersed".into(),
        before_samples: 12,
        after_samples: 12,
    };
    let change = DeploymentChange { field: "code_sha256".into(), from: Some("a".into()), to: Some("b".into()) };
    let deployment = DeploymentDocument {
        timestamp: "t".into(),
        first_seen_at: "t".into(),
        account_id: "a".into(),
        region: "r".into(),
        function_name: "f".into(),
        function_arn: "arn".into(),
        code_sha256: Some("b".into()),
        version: Some("$LATEST".into()),
        changes: vec![change.clone()],
        changed_fields: vec!["code_sha256".into()],
        verdict: verdict::REGRESSED.into(),
        comparisons: vec![comparison.clone()],
        summary: Some("error rate 0.4% -> 6.1%".into()),
        evaluated_at: Some("t".into()),
        period_seconds: 300,
    };
    let t = template("acme-deployments");
    assert_eq!(serialized(&deployment), mapped(&t, &[]));
    assert_eq!(serialized(&change), mapped(&t, &["changes"]));
    assert_eq!(serialized(&comparison), mapped(&t, &["comparisons"]));
    for (name, index) in [
        ("acme-alert-rules", alert_rules_index("acme")),
        ("acme-alert-destinations", alert_destinations_index("acme")),
        ("acme-alert-state", alert_state_index("acme")),
        ("acme-alerts", alerts_index("acme")),
        ("acme-deployments", deployments_index("acme")),
    ] {
        assert_eq!(template(name)["index_patterns"][0], index);
        assert_eq!(template(name)["template"]["mappings"]["dynamic"], "strict");
    }
}

#[test]
fn every_rule_metric_is_a_numeric_field_of_the_metrics_documents() {
    let metrics = template("acme-metrics");
    for m in RULE_METRICS {
        let ty = metrics["template"]["mappings"]["properties"][m.name]["type"].as_str();
        assert!(matches!(ty, Some("long" | "double" | "integer" | "float")), "{} is mapped as {ty:?}", m.name);
    }
    for m in regression_metric::ALL.iter().filter(|m| **m != regression_metric::COST_PER_INVOCATION_USD) {
        assert!(rule_metric(m).is_some(), "{m}");
    }
}

#[test]
fn valid_rules_have_no_problem() {
    assert_eq!(validate_rule(&threshold_rule()), vec![]);
    assert_eq!(validate_rule(&regression_rule()), vec![]);
}

#[test]
fn unknown_metric_lists_the_valid_ones() {
    let rule = AlertRuleDocument { metric: Some("error_ratio".into()), ..threshold_rule() };
    let problems = validate_rule(&rule);
    assert_eq!(fields(&problems), ["metric"]);
    assert!(problems[0].message.contains("\"error_ratio\" is not a metric"), "{}", problems[0].message);
    assert!(problems[0].message.contains("error_rate, errors, throttles"), "{}", problems[0].message);
}

#[test]
fn impossible_and_always_true_thresholds_are_refused() {
    let with = |c: &str, t: f64, metric: &str| {
        validate_rule(&AlertRuleDocument { comparison: Some(c.into()), threshold: Some(t), metric: Some(metric.into()), ..threshold_rule() })
    };
    let p = with(comparison::GREATER, 5.0, "error_rate");
    assert_eq!(fields(&p), ["threshold"]);
    assert!(p[0].message.contains("can never be true") && p[0].message.contains("5% is 0.05"), "{}", p[0].message);
    assert_eq!(fields(&with(comparison::GREATER, 1.0, "error_rate")), ["threshold"]);
    assert_eq!(fields(&with(comparison::GREATER_OR_EQUAL, 1.0, "error_rate")), Vec::<&str>::new());
    let p = with(comparison::GREATER_OR_EQUAL, 0.0, "error_rate");
    assert!(p[0].message.contains("always true"), "{}", p[0].message);
    assert_eq!(fields(&with(comparison::LESS, 0.0, "duration_p99_ms")), ["threshold"]);
    assert_eq!(fields(&with(comparison::LESS, 10.0, "duration_p99_ms")), Vec::<&str>::new());
    assert_eq!(fields(&with(comparison::GREATER, -1.0, "throttles")), ["threshold"]);
    assert_eq!(fields(&with(comparison::GREATER, 0.0, "throttles")), Vec::<&str>::new());
    assert_eq!(fields(&with(comparison::LESS_OR_EQUAL, 1.0, "memory_utilization")), ["threshold"]);
    assert_eq!(fields(&with(comparison::GREATER, f64::NAN, "errors")), ["threshold"]);
}

#[test]
fn m_greater_than_n_names_both() {
    let rule = AlertRuleDocument { datapoints_to_alarm: Some(4), evaluation_periods: Some(3), ..threshold_rule() };
    let p = validate_rule(&rule);
    assert_eq!(fields(&p), ["datapoints_to_alarm"]);
    assert!(p[0].message.contains("(4) cannot exceed evaluation_periods (3)"), "{}", p[0].message);
    let rule = AlertRuleDocument { datapoints_to_alarm: Some(1), evaluation_periods: Some(61), ..threshold_rule() };
    assert_eq!(fields(&validate_rule(&rule)), ["evaluation_periods"]);
}

#[test]
fn threshold_fields_on_a_regression_rule_are_refused_and_vice_versa() {
    let rule = AlertRuleDocument { threshold: Some(1.0), regression_metrics: vec!["p99".into()], ..regression_rule() };
    assert_eq!(fields(&validate_rule(&rule)), ["threshold", "regression_metrics"]);
    let rule = AlertRuleDocument { regression_metrics: vec!["error_rate".into()], ..threshold_rule() };
    assert_eq!(fields(&validate_rule(&rule)), ["regression_metrics"]);
    let rule = AlertRuleDocument { kind: "anomaly".into(), ..threshold_rule() };
    assert_eq!(fields(&validate_rule(&rule)), ["kind"]);
}

#[test]
fn names() {
    assert!(valid_name("error-rate_1"));
    assert!(!valid_name("Error"));
    assert!(!valid_name("-x"));
    assert!(!valid_name(""));
    assert!(!valid_name(&"a".repeat(65)));
    let rule = AlertRuleDocument { name: "Bad Name".into(), destinations: vec!["ok".into(), "no way".into()], ..threshold_rule() };
    assert_eq!(fields(&validate_rule(&rule)), ["name", "destinations"]);
}

#[test]
fn globs() {
    assert!(glob_matches("orders-*", "orders-api"));
    assert!(glob_matches("orders-*", "orders-"));
    assert!(!glob_matches("orders-*", "order-api"));
    assert!(glob_matches("*-api", "orders-api"));
    assert!(glob_matches("*", ""));
    assert!(glob_matches("o?ders*api", "orders-v2-api"));
    assert!(!glob_matches("orders", "orders-api"));
    assert!(glob_matches("*a*b*", "xxaxxbxx"));
    assert!(!glob_matches("*a*b", "xxaxxbxxc"));
}

#[test]
fn comparisons() {
    assert!(compare(comparison::GREATER, 0.06, 0.05));
    assert!(!compare(comparison::GREATER, 0.05, 0.05));
    assert!(compare(comparison::GREATER_OR_EQUAL, 0.05, 0.05));
    assert!(compare(comparison::LESS, 1.0, 2.0));
    assert!(compare(comparison::LESS_OR_EQUAL, 2.0, 2.0));
    assert!(!compare("Bigger", 3.0, 2.0));
}

#[test]
fn webhook_urls() {
    assert_eq!(webhook_url_problem("https://hooks.slack.com/services/T/B/x"), None);
    assert_eq!(webhook_url_problem("http://127.0.0.1:8443/hook"), None);
    assert_eq!(webhook_url_problem("http://localhost/hook"), None);
    assert_eq!(webhook_url_problem("http://[::1]:9000/hook"), None);
    assert!(webhook_url_problem("http://hooks.example.com/x").unwrap().contains("plain http"));
    assert!(webhook_url_problem("http://127.example.com/x").is_some());
    assert!(webhook_url_problem("http://localhost.evil.com/x").is_some());
    assert!(webhook_url_problem("ftp://x/y").unwrap().contains("scheme"));
    assert!(webhook_url_problem("hooks.example.com").unwrap().contains("not a URL"));
    assert!(webhook_url_problem("https:///x").unwrap().contains("no host"));
    assert!(webhook_url_problem("http://user@10.0.0.1/x").is_some());
}

#[test]
fn metric_values_read_numbers_only() {
    let doc = serde_json::json!({"error_rate": 0.25, "duration_p99_ms": null, "errors": 3});
    assert_eq!(metric_value(&doc, "error_rate"), Some(0.25));
    assert_eq!(metric_value(&doc, "errors"), Some(3.0));
    assert_eq!(metric_value(&doc, "duration_p99_ms"), None);
    assert_eq!(metric_value(&doc, "cost_usd"), None);
}

#[test]
fn ids() {
    assert_eq!(threshold_dedup_key("r", "arn:f"), "r|arn:f");
    assert_eq!(regression_dedup_key("r", "arn:f", "arn:f|2026"), "r|arn:f|arn:f|2026");
    assert_eq!(transition_document_id("r|arn:f", "firing", "2026-12-03T10:15:00Z"), "r|arn:f|firing|2026-12-03T10:15:00Z");
    assert_eq!(deployment_document_id("arn:f", "2026-12-03T10:05:00Z"), "arn:f|2026-12-03T10:05:00Z");
    assert!(transition::notifies(transition::RESOLVED) && !transition::notifies(transition::PENDING));
}
