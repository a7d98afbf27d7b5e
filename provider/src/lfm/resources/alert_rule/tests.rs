//! Unit tests of the pure part of `lfm_alert_rule`: plan-time refusals naming the attribute
//! with `validate_rule`'s own message, destination IDs of another target, unknown values
//! deferred, the document built from a plan, and the state read back from a document (the I/O
//! runs against the test bed in `provider/tests/terraform_alerts.rs`).

use super::model::*;
use super::AlertRule;
use crate::framework::{AttrPath, Diagnostics, Resource, Value};
use crate::lfm::opensearch_target::{Target, BLOCKS};
use crate::protocol::validate::validate_config;
use lfm_schema::alerts::{regression_metric, validate_rule, RULE_METRICS};

const OS: &str = "http://127.0.0.1:9200";

fn config(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object(attributes().iter().chain(BLOCKS).map(|a| (*a, Value::Null)));
    for (k, val) in [
        ("name", Value::string("high-errors")),
        ("opensearch_url", Value::string(OS)),
        ("metric", Value::string("error_rate")),
        ("comparison", Value::string("GreaterThanThreshold")),
        ("threshold", Value::Number(0.05)),
        ("datapoints_to_alarm", Value::Number(3.0)),
        ("evaluation_periods", Value::Number(5.0)),
    ] {
        v.set(k, val);
    }
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

fn diagnostics(config: &Value) -> Diagnostics {
    let r = AlertRule;
    let mut diags = validate_config(&r.schema().block, config);
    diags.extend(r.validate(config));
    diags
}

/// The one error of `config`: (attribute path, summary, detail).
fn only_error(config: &Value) -> (AttrPath, String, String) {
    let diags = diagnostics(config);
    assert_eq!(diags.0.len(), 1, "{diags:?}");
    let d = &diags.0[0];
    (d.attribute.clone().unwrap_or_default(), d.summary.clone(), d.detail.clone())
}

/// What the collector says about the same rule (the first problem of `field`).
fn collectors_message(config: &Value, field: &str) -> String {
    let doc = document(config, String::new()).unwrap();
    validate_rule(&doc).into_iter().find(|p| p.field == field).map(|p| p.message).unwrap_or_else(|| panic!("no problem of {field}"))
}

#[test]
fn a_valid_rule_has_no_errors() {
    assert_eq!(diagnostics(&config(&[])), Diagnostics::default());
    let regression = config(&[
        ("kind", Value::string("deploy_regression")),
        ("metric", Value::Null),
        ("comparison", Value::Null),
        ("threshold", Value::Null),
        ("datapoints_to_alarm", Value::Null),
        ("evaluation_periods", Value::Null),
    ]);
    assert_eq!(diagnostics(&regression), Diagnostics::default());
}

#[test]
fn plan_time_refusals_name_the_attribute_with_the_collectors_message() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (config(&[("metric", Value::string("error_ratio"))]), "metric", "is not a metric"),
        (config(&[("threshold", Value::Number(1.5))]), "threshold", "can never be true"),
        (config(&[("comparison", Value::string("GreaterThanOrEqualToThreshold")), ("threshold", Value::Number(0.0))]), "threshold", "is always true"),
        (config(&[("datapoints_to_alarm", Value::Number(6.0))]), "datapoints_to_alarm", "cannot exceed evaluation_periods"),
        (config(&[("evaluation_periods", Value::Number(61.0)), ("datapoints_to_alarm", Value::Number(1.0))]), "evaluation_periods", "1 to 60"),
        (config(&[("comparison", Value::string(">"))]), "comparison", "is not a comparison"),
        (config(&[("severity", Value::string("page"))]), "severity", "is not a severity"),
        (config(&[("kind", Value::string("deploy_regression")), ("metric", Value::Null), ("comparison", Value::Null), ("datapoints_to_alarm", Value::Null), ("evaluation_periods", Value::Null)]), "threshold", "belongs to threshold rules"),
        (config(&[("regression_metrics", Value::string_list(["error_rate"]))]), "regression_metrics", "belongs to deploy_regression rules"),
        (config(&[("name", Value::string("High Errors"))]), "name", "is not a valid rule name"),
    ];
    for (c, attribute, says) in cases {
        let (path, summary, detail) = only_error(&c);
        assert_eq!(path, AttrPath::attr(attribute), "{summary}: {detail}");
        assert_eq!(summary, format!("Invalid alert rule: {attribute}"));
        assert!(detail.contains(says), "{attribute}: {detail}");
        assert_eq!(detail, collectors_message(&c, attribute), "the collector's own words");
    }
    // An unknown metric lists the valid ones.
    let (_, _, detail) = only_error(&config(&[("metric", Value::string("error_ratio"))]));
    for m in RULE_METRICS {
        assert!(detail.contains(m.name), "{} missing from {detail}", m.name);
    }
}

#[test]
fn destinations_of_another_target_are_refused_naming_the_element() {
    let ok = format!("{OS}|lfm|oncall");
    let c = config(&[("destination_ids", Value::string_list([ok.as_str(), "http://other:9200|lfm|chat"]))]);
    let (path, summary, detail) = only_error(&c);
    assert_eq!(path, AttrPath::attr("destination_ids").then_index(1));
    assert_eq!(summary, "destination_ids[1] belongs to another OpenSearch target");
    assert!(detail.contains("http://other:9200|lfm") && detail.contains(&format!("{OS}|lfm")), "{detail}");
    let c = config(&[("index_prefix", Value::string("team")), ("destination_ids", Value::string_list([ok.as_str()]))]);
    assert_eq!(only_error(&c).0, AttrPath::attr("destination_ids").then_index(0));
    let c = config(&[("destination_ids", Value::string_list(["oncall"]))]);
    let (path, summary, _) = only_error(&c);
    assert_eq!((path, summary.as_str()), (AttrPath::attr("destination_ids").then_index(0), "destination_ids[0] is not an lfm_alert_destination ID"));
    assert_eq!(diagnostics(&config(&[("destination_ids", Value::string_list([format!("{OS}/|lfm|oncall")]))])), Diagnostics::default());
}

#[test]
fn unknown_values_are_deferred() {
    for (attr, v) in [
        ("threshold", Value::Unknown),
        ("metric", Value::Unknown),
        ("destination_ids", Value::List(vec![Value::Unknown])),
    ] {
        let mut c = config(&[(attr, v)]);
        c.set("datapoints_to_alarm", Value::Number(9.0)); // M > N, but the rule is not complete yet
        let diags = diagnostics(&c);
        assert!(diags.is_empty(), "{attr}: {diags:?}");
    }
    // A known destination of another target is refused even while another element is unknown.
    let c = config(&[("destination_ids", Value::List(vec![Value::Unknown, Value::string("http://other:9200|lfm|x")]))]);
    assert_eq!(diagnostics(&c).0.len(), 1);
}

#[test]
fn document_holds_the_declared_fields_and_the_defaults() {
    let c = config(&[
        ("destination_ids", Value::string_list([format!("{OS}|lfm|oncall")])),
        ("regions", Value::string_list(["eu-west-1"])),
        ("function_name_pattern", Value::string("prod-*")),
    ]);
    let doc = document(&c, "2026-01-01T00:00:00Z".into()).unwrap();
    assert_eq!(doc.kind, "threshold");
    assert_eq!(doc.destinations, ["oncall"]);
    assert_eq!(doc.regions, ["eu-west-1"]);
    assert_eq!(doc.function_name_pattern.as_deref(), Some("prod-*"));
    assert_eq!((doc.min_invocations, doc.renotify_minutes, doc.enabled), (10, 240, true));
    assert_eq!((doc.datapoints_to_alarm, doc.evaluation_periods, doc.threshold), (Some(3), Some(5), Some(0.05)));
    assert!(doc.regression_metrics.is_empty() && doc.account_ids.is_empty() && doc.description.is_none());
    let r = config(&[("kind", Value::string("deploy_regression"))]);
    assert_eq!(document(&r, String::new()).unwrap().regression_metrics, regression_metric::ALL, "unset: all four");
    assert_eq!(document(&config(&[("threshold", Value::Unknown)]), String::new()), None);
}

#[test]
fn state_reads_back_as_planned_and_shows_drift() {
    let target = |v: &Value| Target::from_value_with_env(v, RESOURCE, |_| None).unwrap();
    let mut planned = plan(config(&[
        ("kind", Value::string("threshold")),
        ("enabled", Value::Bool(true)),
        ("min_invocations", Value::Number(10.0)),
        ("renotify_minutes", Value::Number(240.0)),
        ("severity", Value::string("warning")),
        ("index_prefix", Value::string("lfm")),
        ("request_timeout_seconds", Value::Number(30.0)),
        ("destination_ids", Value::string_list([format!("{OS}|lfm|oncall")])),
    ]));
    assert_eq!(planned.get("id"), &Value::string(format!("{OS}|lfm|high-errors")));
    let found = serde_json::to_value(document(&planned, "2026-01-01T00:00:00Z".into()).unwrap()).unwrap();
    assert_eq!(state_from_document(&planned, &target(&planned), &found), planned, "unset lists and strings stay unset");

    // Changed outside Terraform: the attributes show it.
    let mut edited = found.clone();
    edited["threshold"] = serde_json::json!(0.2);
    edited["destinations"] = serde_json::json!(["chat"]);
    edited["regions"] = serde_json::json!(["us-east-1"]);
    let state = state_from_document(&planned, &target(&planned), &edited);
    assert_eq!(state.get("threshold"), &Value::Number(0.2));
    assert_eq!(state.get("destination_ids"), &Value::string_list([format!("{OS}|lfm|chat")]));
    assert_eq!(state.get("regions"), &Value::string_list(["us-east-1"]));

    // A deploy_regression rule with regression_metrics unset reads back unset.
    planned.set("kind", Value::string("deploy_regression"));
    for a in ["metric", "comparison", "threshold", "datapoints_to_alarm", "evaluation_periods"] {
        planned.set(a, Value::Null);
    }
    let found = serde_json::to_value(document(&planned, String::new()).unwrap()).unwrap();
    assert_eq!(state_from_document(&planned, &target(&planned), &found).get("regression_metrics"), &Value::Null);
}

#[test]
fn fields_map_to_attributes() {
    assert_eq!(attribute_path("threshold"), AttrPath::attr("threshold"));
    assert_eq!(attribute_path("destinations"), AttrPath::attr("destination_ids"));
    assert_eq!(attribute_path("destinations[2]"), AttrPath::attr("destination_ids").then_index(2));
}
