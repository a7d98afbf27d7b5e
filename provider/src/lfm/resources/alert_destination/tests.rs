//! Unit tests of the pure part of `lfm_alert_destination`: attribute checks and their
//! messages, the import ID, the plan, the document and the state read back from it (the I/O
//! runs against the test bed in `provider/tests/terraform_alerts.rs`).

use super::model::*;
use super::AlertDestination;
use crate::framework::{PathStep, Resource, Value};
use crate::lfm::opensearch_target::{Target, BLOCKS};
use crate::protocol::validate::validate_config;

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:lfm-alerts";

fn config(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object(ATTRIBUTES.iter().chain(BLOCKS).map(|a| (*a, Value::Null)));
    v.set("name", Value::string("oncall"));
    v.set("opensearch_url", Value::string("http://127.0.0.1:9200"));
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

/// (attribute, summary + detail) of every plan-time error.
fn errors_on(config: &Value) -> Vec<(String, String)> {
    let r = AlertDestination;
    let mut diags = validate_config(&r.schema().block, config);
    diags.extend(r.validate(config));
    diags
        .0
        .iter()
        .map(|d| {
            let path = d.attribute.as_ref().map(|p| {
                p.0.iter().map(|s| if let PathStep::Attr(a) = s { a.clone() } else { String::new() }).collect::<Vec<_>>().join(".")
            });
            (path.unwrap_or_default(), format!("{} {}", d.summary, d.detail))
        })
        .collect()
}

#[test]
fn sns_topic_arns_follow_aws_rules() {
    for good in [TOPIC, "arn:aws:sns:us-east-1:111122223333:a", "arn:aws-cn:sns:cn-north-1:111122223333:Alerts_1-x", "arn:aws-us-gov:sns:us-gov-west-1:111122223333:t.fifo"] {
        assert_eq!(sns_topic_arn(&Value::string(good)), Ok(()), "{good}");
    }
    let long = format!("arn:aws:sns:eu-west-1:111122223333:{}", "a".repeat(257));
    for (bad, says) in [
        ("lfm-alerts", "must be an SNS topic ARN"),
        ("arn:aws:sqs:eu-west-1:111122223333:q", "not an ARN of service sns"),
        ("arn:aws-mars:sns:eu-west-1:111122223333:t", "partition \"aws-mars\""),
        ("arn:aws:sns:eu-west:111122223333:t", "region \"eu-west\""),
        ("arn:aws:sns:cn-north-1:111122223333:t", "partition aws-cn, not aws"),
        ("arn:aws:sns:eu-west-1:11112222333:t", "12-digit"),
        ("arn:aws:sns:eu-west-1:111122223333:my topic", "topic name \"my topic\""),
        ("arn:aws:sns:eu-west-1:111122223333:a.b", "topic name"),
        ("arn:aws:sns:eu-west-1:111122223333:.fifo", "topic name"),
        (long.as_str(), "1 to 256"),
    ] {
        let err = sns_topic_arn(&Value::string(bad)).unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn webhooks_need_https_unless_loopback() {
    for good in ["https://hooks.example.com/lfm", "http://127.0.0.1:8080/hook", "http://127.1.2.3/", "http://localhost:9000/x", "http://[::1]:80/"] {
        assert_eq!(webhook_url(&Value::string(good)), Ok(()), "{good}");
    }
    // The reason is lfm_schema's, the one the collector gives, after what the value must be.
    let err = webhook_url(&Value::string("http://hooks.example.com/lfm")).unwrap_err();
    let reason = lfm_schema::alerts::webhook_url_problem("http://hooks.example.com/lfm").unwrap();
    assert_eq!(err, format!("must be an https:// URL (http:// only to a loopback host): {reason}"));
    assert!(err.contains("uses plain http"), "{err}");
    assert!(webhook_url(&Value::string("http://10.0.0.1/")).is_err());
    assert!(webhook_url(&Value::string("http://127.0.0.1.example.com/")).is_err());
    assert!(webhook_url(&Value::string("ftp://x/")).unwrap_err().contains("scheme \"ftp\""));
    assert!(webhook_url(&Value::string("hooks.example.com")).unwrap_err().contains("not a URL"));
}

#[test]
fn plan_time_errors_name_the_attribute() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (config(&[]), "sns_topic_arn", "Neither sns_topic_arn nor webhook_url"),
        (config(&[("sns_topic_arn", Value::string(TOPIC)), ("webhook_url", Value::string("https://h.example.com"))]), "webhook_url", "both set"),
        (config(&[("sns_topic_arn", Value::string(TOPIC)), ("webhook_secret", Value::string("s"))]), "webhook_secret", "webhook_secret without webhook_url"),
        (config(&[("sns_topic_arn", Value::string(TOPIC)), ("webhook_format", Value::string("slack"))]), "webhook_format", "webhook_format without webhook_url"),
        (config(&[("webhook_url", Value::string("http://hooks.example.com"))]), "webhook_url", "uses plain http"),
        (config(&[("webhook_url", Value::string("https://h.example.com")), ("webhook_secret", Value::string(""))]), "webhook_secret", "empty"),
        (config(&[("sns_topic_arn", Value::string("arn:aws:sns:eu-west-1:1:t"))]), "sns_topic_arn", "12-digit"),
        (config(&[("sns_topic_arn", Value::string(TOPIC)), ("name", Value::string("On Call"))]), "name", "lowercase"),
        (config(&[("sns_topic_arn", Value::string(TOPIC)), ("username", Value::string("u"))]), "password", "needs password"),
    ];
    for (c, attribute, says) in cases {
        let errors = errors_on(&c);
        assert!(errors.iter().any(|(a, m)| a == attribute && m.contains(says)), "expected {attribute}: {says}, got {errors:?}");
    }
    assert_eq!(errors_on(&config(&[("sns_topic_arn", Value::string(TOPIC))])), vec![]);
    assert_eq!(errors_on(&config(&[("webhook_url", Value::string("https://h.example.com")), ("webhook_secret", Value::string("s"))])), vec![]);
    // Unknown (another resource's output): neither set nor missing until known.
    assert_eq!(errors_on(&config(&[("sns_topic_arn", Value::Unknown)])), vec![]);
    assert_eq!(errors_on(&config(&[("webhook_url", Value::Unknown), ("webhook_secret", Value::string("s"))])), vec![]);
}

fn planned_webhook() -> Value {
    let mut v = config(&[
        ("webhook_url", Value::string("https://hooks.example.com/lfm")),
        ("webhook_secret", Value::string("s3cret")),
        ("webhook_format", Value::string("slack")),
        ("index_prefix", Value::string("lfmtest")),
        ("request_timeout_seconds", Value::Number(30.0)),
    ]);
    v.set("id", Value::Unknown);
    v
}

#[test]
fn plan_fills_the_computed_attributes() {
    let p = plan(planned_webhook(), None);
    assert_eq!(p.get("id"), &Value::string("http://127.0.0.1:9200|lfmtest|oncall"));
    assert_eq!(p.get("secret_parameter_name"), &Value::string("/lfm/lfmtest/alert-destinations/oncall/webhook-secret"));
    assert_eq!(p.get("secret_parameter_arn"), &Value::Unknown, "known after the first apply");
    assert_eq!(p.get("topic_arn"), &Value::Null);
    let mut prior = p.clone();
    prior.set("secret_parameter_arn", Value::string("arn:aws:ssm:us-east-1:123456789012:parameter/lfm/lfmtest/alert-destinations/oncall/webhook-secret"));
    let again = plan(planned_webhook(), Some(&prior));
    assert_eq!(again.get("secret_parameter_arn"), prior.get("secret_parameter_arn"), "an unchanged parameter keeps its ARN: no diff");
    let mut sns = config(&[("sns_topic_arn", Value::string(TOPIC))]);
    sns.set("index_prefix", Value::string("lfm"));
    let p = plan(sns, Some(&prior));
    assert_eq!(p.get("topic_arn"), &Value::string(TOPIC));
    assert_eq!(p.get("secret_parameter_name"), &Value::Null);
    assert_eq!(p.get("secret_parameter_arn"), &Value::Null);
}

#[test]
fn document_holds_no_secret_and_reads_back_as_the_plan() {
    let target = |v: &Value| Target::from_value_with_env(v, RESOURCE, |_| None).unwrap();
    let arn = "arn:aws:ssm:us-east-1:123456789012:parameter/lfm/lfmtest/alert-destinations/oncall/webhook-secret";
    let mut planned = plan(planned_webhook(), None);
    planned.set("secret_parameter_arn", Value::string(arn));
    let name = secret_parameter_name("lfmtest", "oncall");
    let doc = document(&planned, Some(name.clone()), "2026-01-01T00:00:00Z".into());
    let json = serde_json::to_value(&doc).unwrap();
    assert!(!json.to_string().contains("s3cret"), "the secret stays in SSM: {json}");
    assert_eq!(json["type"], "webhook");
    assert_eq!(json["url"], "https://hooks.example.com/lfm");
    assert_eq!(json["format"], "slack");
    assert_eq!(json["secret_parameter"], name.as_str());
    let secret = FoundSecret { name: name.clone(), value_and_arn: Some(("s3cret".into(), arn.into())) };
    assert_eq!(state_from_document(&planned, &target(&planned), &doc, Some(&secret)), planned);

    // SNS: the format keeps its default, no parameter.
    let mut sns = config(&[("sns_topic_arn", Value::string(TOPIC)), ("webhook_format", Value::string("json")), ("index_prefix", Value::string("lfm")), ("request_timeout_seconds", Value::Number(30.0))]);
    sns = plan(sns, None);
    let doc = document(&sns, None, "2026-01-01T00:00:00Z".into());
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!((json["type"].as_str(), json["topic_arn"].as_str(), json["url"].as_str()), (Some("sns"), Some(TOPIC), None));
    assert_eq!(state_from_document(&sns, &target(&sns), &doc, None), sns);

    // Drift: the document changed outside Terraform shows in the attributes.
    let mut changed = doc.clone();
    changed.topic_arn = Some("arn:aws:sns:eu-west-1:111122223333:other".into());
    let state = state_from_document(&sns, &target(&sns), &changed, None);
    assert_eq!(state.get("sns_topic_arn"), &Value::string("arn:aws:sns:eu-west-1:111122223333:other"));
    // The parameter deleted outside Terraform: the secret shows as missing.
    let gone = FoundSecret { name, value_and_arn: None };
    let doc = document(&planned, Some(gone.name.clone()), String::new());
    let state = state_from_document(&planned, &target(&planned), &doc, Some(&gone));
    assert_eq!((state.get("webhook_secret"), state.get("secret_parameter_arn")), (&Value::Null, &Value::Null));
}
