//! Unit tests of the pure part of `lfm_collector` (the AWS part runs against moto in
//! `provider/tests/aws_collector.rs`, Terraform 1.0.3 in `provider/tests/terraform_collector.rs`).

use super::environment::*;
use super::model::*;
use super::package::*;
use super::policy::*;
use super::state::*;
use super::validators::*;
use super::Collector;
use crate::framework::{Resource, Value};
use crate::lfm::aws::iam::url_decode;
use lfm_schema::iam::policies_equivalent;

fn home() -> Home {
    Home {
        partition: "aws".into(),
        account_id: "123456789012".into(),
        region: "eu-west-1".into(),
    }
}

fn config() -> Value {
    let mut v = Value::object(ATTRIBUTES.iter().map(|a| (*a, Value::Null)));
    for (k, val) in [
        ("name", Value::string("lfm-collector")),
        ("package_path", Value::string("/tmp/p.zip")),
        ("architecture", Value::string("arm64")),
        ("memory_mb", Value::Number(256.0)),
        ("timeout_s", Value::Number(300.0)),
        ("schedule_expression", Value::string("rate(5 minutes)")),
        ("enabled", Value::Bool(true)),
        (
            "monitored_account_ids",
            Value::string_list(["111122223333", "444455556666"]),
        ),
        ("role_name", Value::string("LambdaMonitoringRole")),
        ("regions", Value::string_list(["eu-west-1", "us-east-1"])),
        (
            "opensearch_url",
            Value::string("https://search.example.com"),
        ),
        ("opensearch_username", Value::string("lfm")),
        ("opensearch_password", Value::string("s3cret")),
        ("index_prefix", Value::string("lfm")),
        ("log_retention_days", Value::Number(30.0)),
        ("role_propagation_timeout_s", Value::Number(120.0)),
    ] {
        v.set(k, val);
    }
    v
}

#[test]
fn reserved_lambda_keys_are_rejected_naming_the_key_and_the_fix() {
    for key in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_ANYTHING",
        "_HANDLER",
        "TZ",
        "LAMBDA_TASK_ROOT",
    ] {
        let v = Value::Map([(key.to_owned(), Value::string("x"))].into_iter().collect());
        let err = valid_extra_environment(&v).unwrap_err();
        assert!(
            err.contains(key) && err.contains("Defined runtime environment variables"),
            "{key}: {err}"
        );
    }
    let managed = Value::Map(
        [("LFM_ACCOUNTS".to_owned(), Value::string("1"))]
            .into_iter()
            .collect(),
    );
    assert!(valid_extra_environment(&managed)
        .unwrap_err()
        .contains("monitored_account_ids"));
    let malformed = Value::Map(
        [("1BAD".to_owned(), Value::string("1"))]
            .into_iter()
            .collect(),
    );
    assert!(valid_extra_environment(&malformed).is_err());
    let fine = Value::Map(
        [
            ("LFM_SETTLE".to_owned(), Value::string("2m")),
            ("RUST_LOG".to_owned(), Value::string("info")),
        ]
        .into_iter()
        .collect(),
    );
    assert!(valid_extra_environment(&fine).is_ok());
}

#[test]
fn reserved_key_through_the_generic_validation_points_at_extra_environment() {
    let mut c = config();
    c.set(
        "extra_environment",
        Value::Map(
            [("AWS_REGION".to_owned(), Value::string("eu-west-1"))]
                .into_iter()
                .collect(),
        ),
    );
    let diags = crate::protocol::validate::validate_config(&Collector.schema().block, &c);
    assert_eq!(diags.0.len(), 1, "{diags:?}");
    let d = &diags.0[0];
    assert_eq!(
        d.attribute,
        Some(crate::framework::AttrPath::attr("extra_environment"))
    );
    assert!(d.detail.contains("AWS_REGION"), "{d:?}");
}

#[test]
fn environment_carries_only_lfm_keys_and_extras() {
    let mut c = config();
    c.set(
        "extra_environment",
        Value::Map(
            [("LFM_SETTLE".to_owned(), Value::string("2m"))]
                .into_iter()
                .collect(),
        ),
    );
    let env = desired_environment(&c).unwrap();
    assert_eq!(env["LFM_ACCOUNTS"], "111122223333,444455556666");
    assert_eq!(env["LFM_REGIONS"], "eu-west-1,us-east-1");
    assert_eq!(env["LFM_ROLE_NAME"], "LambdaMonitoringRole");
    assert_eq!(env["LFM_OPENSEARCH_PASSWORD"], "s3cret");
    assert_eq!(env["LFM_SETTLE"], "2m");
    assert!(
        !env.contains_key("LFM_EXTERNAL_ID"),
        "unset inputs are left out"
    );
    assert!(env.keys().all(|k| !RESERVED_KEYS.contains(&k.as_str())));
    c.set("regions", Value::Unknown);
    assert_eq!(desired_environment(&c), None);
}

#[test]
fn policy_allows_assume_role_on_exactly_the_monitoring_roles_and_its_own_logs() {
    let mut c = config();
    let doc: serde_json::Value =
        serde_json::from_str(&desired_policy(&c, &home()).unwrap()).unwrap();
    let s = doc["Statement"].as_array().unwrap();
    assert_eq!(s.len(), 2, "no OpenSearch statement without a domain");
    assert_eq!(s[0]["Action"], "sts:AssumeRole");
    assert_eq!(
        s[0]["Resource"],
        serde_json::json!([
            "arn:aws:iam::111122223333:role/LambdaMonitoringRole",
            "arn:aws:iam::444455556666:role/LambdaMonitoringRole"
        ])
    );
    assert_eq!(
        s[1]["Resource"][0],
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lfm-collector"
    );
    c.set(
        "opensearch_domain_arn",
        Value::string("arn:aws:es:eu-west-1:123456789012:domain/lfm"),
    );
    let doc: serde_json::Value =
        serde_json::from_str(&desired_policy(&c, &home()).unwrap()).unwrap();
    let os = &doc["Statement"][2];
    assert_eq!(
        os["Resource"],
        serde_json::json!([
            "arn:aws:es:eu-west-1:123456789012:domain/lfm",
            "arn:aws:es:eu-west-1:123456789012:domain/lfm/*"
        ])
    );
    assert!(os["Action"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a.as_str().unwrap().starts_with("es:ESHttp")));
    // Retention deletes old daily indices: DELETE must be allowed along with the rest.
    assert_eq!(
        os["Action"],
        serde_json::json!([
            "es:ESHttpDelete",
            "es:ESHttpGet",
            "es:ESHttpHead",
            "es:ESHttpPost",
            "es:ESHttpPut"
        ])
    );
    assert_eq!(
        domain_from_policy(&doc.to_string()).as_deref(),
        Some("arn:aws:es:eu-west-1:123456789012:domain/lfm")
    );
}

#[test]
fn schedules_follow_eventbridge_syntax() {
    for ok in [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(2 hours)",
        "rate(1 day)",
        "cron(0/5 * * * ? *)",
    ] {
        assert!(valid_schedule(&Value::string(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(five minutes)",
        "every 5 minutes",
        "cron(* * * * *)",
        "rate(5 weeks)",
    ] {
        assert!(
            valid_schedule(&Value::string(bad))
                .unwrap_err()
                .contains("rate("),
            "{bad}"
        );
    }
}

#[test]
fn cron_needs_a_question_mark_in_exactly_one_day_field() {
    for ok in ["cron(0 6 ? * MON-FRI *)", "cron(15 10 1 * ? *)", "cron(0/15 * ? * * *)"] {
        assert!(valid_schedule(&Value::string(ok)).is_ok(), "{ok}");
    }
    let err = valid_schedule(&Value::string("cron(* * * * * *)")).unwrap_err();
    assert_eq!(
        err,
        "must have ? in exactly one of day-of-month (3rd field, here *) and day-of-week (5th field, here *): EventBridge refuses a cron expression that sets both or neither. Put ? in the one you do not use; e.g. \"cron(0/5 * * * ? *)\" (every 5 minutes) or \"cron(0 6 ? * MON-FRI *)\" (weekdays at 06:00 UTC); see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html"
    );
    for bad in ["cron(0 6 ? * ? *)", "cron(0 6 1 * MON *)"] {
        assert!(valid_schedule(&Value::string(bad)).unwrap_err().contains("exactly one of day-of-month"), "{bad}");
    }
    for bad in ["cron(? 6 1 * ? *)", "cron(0 6 1? * ? *)"] {
        assert!(valid_schedule(&Value::string(bad)).unwrap_err().contains("? only as a whole"), "{bad}");
    }
    let err = valid_schedule(&Value::string("cron(0 6 * * ?)")).unwrap_err();
    assert!(err.contains("this cron expression has 5 fields"), "{err}");
}

#[test]
fn account_ids_are_listed_once() {
    assert!(unique_account_ids(&Value::string_list(["111122223333", "444455556666"])).is_ok());
    let err = unique_account_ids(&Value::string_list(["111122223333", "444455556666", "111122223333", "111122223333"])).unwrap_err();
    assert_eq!(
        err,
        "must list each account once; \"111122223333\" appears more than once. Remove the repeated entries (with a computed list, wrap it in distinct(...))."
    );
    let mut c = config();
    c.set("monitored_account_ids", Value::string_list(["111122223333", "111122223333"]));
    let diags = crate::protocol::validate::validate_config(&Collector.schema().block, &c);
    let d = &diags.0[0];
    assert_eq!(d.attribute, Some(crate::framework::AttrPath::attr("monitored_account_ids")));
    assert!(d.summary.starts_with("Invalid value for \"monitored_account_ids\": must list each account once"), "{}", d.summary);
    assert_eq!(d.detail, "Got [\"111122223333\", \"111122223333\"].");
}

#[test]
fn messages_print_values_as_hcl() {
    let err = valid_retention(&Value::Number(2.0)).unwrap_err();
    assert!(err.ends_with("accepts: 1, 3, 5, 6, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"), "{err}");
    let bad_key = Value::Map([("1X".to_owned(), Value::string("v"))].into_iter().collect());
    let err = valid_extra_environment(&bad_key).unwrap_err();
    assert!(err.starts_with("must not use the key \"1X\": Lambda"), "{err}");
}

#[test]
fn names_and_arns_follow_from_the_name() {
    let n = Names::new("lfm-collector");
    assert_eq!(n.rule, "lfm-collector-schedule");
    assert_eq!(
        n.function_arn(&home()),
        "arn:aws:lambda:eu-west-1:123456789012:function:lfm-collector"
    );
    assert_eq!(
        n.rule_arn(&home()),
        "arn:aws:events:eu-west-1:123456789012:rule/lfm-collector-schedule"
    );
    assert!(valid_name(&Value::string("x".repeat(55))).is_ok());
    assert!(valid_name(&Value::string("x".repeat(56))).is_err());
    assert!(valid_name(&Value::string("bad name")).is_err());
}

/// A zip with one stored entry, as `zip -0` writes it.
pub fn stored_zip(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(content);
    let (n, len) = (name.len() as u16, content.len() as u32);
    let mut local = b"PK\x03\x04".to_vec();
    for v in [20u16, 0, 0, 0, 0] {
        local.extend(v.to_le_bytes());
    }
    local.extend(crc.to_le_bytes());
    local.extend(len.to_le_bytes());
    local.extend(len.to_le_bytes());
    local.extend(n.to_le_bytes());
    local.extend(0u16.to_le_bytes());
    local.extend(name.as_bytes());
    local.extend(content);
    let mut central = b"PK\x01\x02".to_vec();
    for v in [20u16, 20, 0, 0, 0, 0] {
        central.extend(v.to_le_bytes());
    }
    central.extend(crc.to_le_bytes());
    central.extend(len.to_le_bytes());
    central.extend(len.to_le_bytes());
    central.extend(n.to_le_bytes());
    for v in [0u16, 0, 0, 0] {
        central.extend(v.to_le_bytes());
    }
    central.extend(0o100755u32.wrapping_shl(16).to_le_bytes());
    central.extend(0u32.to_le_bytes());
    central.extend(name.as_bytes());
    let mut end = b"PK\x05\x06".to_vec();
    for v in [0u16, 0, 1, 1] {
        end.extend(v.to_le_bytes());
    }
    end.extend((central.len() as u32).to_le_bytes());
    end.extend((local.len() as u32).to_le_bytes());
    end.extend(0u16.to_le_bytes());
    [local, central, end].concat()
}

#[test]
fn package_checks_name_package_path_and_hash_matches_lambdas_code_sha256() {
    let dir = std::env::temp_dir().join(format!("lfm-collector-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.zip");
    std::fs::write(&good, stored_zip("bootstrap", b"#!/bin/sh\n")).unwrap();
    let bytes = read_package(good.to_str().unwrap(), Some("arm64")).unwrap();
    // Lambda's CodeSha256: base64 of the SHA-256 of the zip (this value checked against moto).
    assert_eq!(
        package_sha256(b"abc"),
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
    assert_eq!(package_sha256(&bytes).len(), 44);
    let other = dir.join("other.zip");
    std::fs::write(&other, stored_zip("main", b"x")).unwrap();
    let err = read_package(other.to_str().unwrap(), Some("arm64")).unwrap_err();
    assert_eq!(
        err.0[0].attribute,
        Some(crate::framework::AttrPath::attr("package_path"))
    );
    assert!(err.0[0].summary.contains("no `bootstrap` entry"));
    let missing = read_package(dir.join("none.zip").to_str().unwrap(), Some("arm64")).unwrap_err();
    assert!(missing.0[0].detail.contains("scripts/package-collector"));
    std::fs::write(dir.join("text.zip"), "not a zip").unwrap();
    assert!(
        read_package(dir.join("text.zip").to_str().unwrap(), Some("arm64"))
            .unwrap_err()
            .0[0]
            .summary
            .contains("not a zip")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plan_fills_hash_environment_policy_and_arns() {
    let p = plan(config(), None, Some("SHA".into()), Some(&home()));
    assert_eq!(p.get("package_sha256").as_str(), Some("SHA"));
    assert_eq!(
        p.get("function_arn").as_str(),
        Some("arn:aws:lambda:eu-west-1:123456789012:function:lfm-collector")
    );
    assert_eq!(p.get("schedule_target_arn"), p.get("function_arn"));
    assert_eq!(p.get("invoke_permission_source_arn"), p.get("rule_arn"));
    assert_eq!(
        p.get("environment").get("LFM_ACCOUNTS").as_str(),
        Some("111122223333,444455556666")
    );
    assert!(p.get("last_modified").is_unknown());
    assert!(!p.get("policy_json").is_unknown());
    // Without a configured provider, ARNs and the policy wait for apply.
    let p = plan(config(), None, None, None);
    assert!(
        p.get("function_arn").is_unknown()
            && p.get("policy_json").is_unknown()
            && p.get("package_sha256").is_unknown()
    );
}

fn facts_for(state: &Value) -> Facts {
    Facts {
        function: FunctionFacts {
            function_arn: state.get("function_arn").as_str().unwrap().into(),
            role_arn: state.get("role_arn").as_str().unwrap().into(),
            architecture: "arm64".into(),
            memory_mb: 256,
            timeout_s: 300,
            code_sha256: "SHA".into(),
            last_modified: "2026-11-26T20:00:00.000+0000".into(),
            environment: desired_environment(state).unwrap(),
        },
        policy: Some(url_decode(state.get("policy_json").as_str().unwrap())),
        extra_policies: Default::default(),
        rule: Some((
            state.get("rule_arn").as_str().unwrap().into(),
            "rate(5 minutes)".into(),
            true,
        )),
        target_arn: Some(state.get("function_arn").as_str().unwrap().into()),
        permission_source_arn: Some(state.get("rule_arn").as_str().unwrap().into()),
        log_group: Some(("/aws/lambda/lfm-collector".into(), Some(30))),
    }
}

#[test]
fn read_of_an_unchanged_function_plans_nothing_and_drift_plans_an_update() {
    let mut applied = plan(config(), None, Some("SHA".into()), Some(&home()));
    applied.set(
        "last_modified",
        Value::string("2026-11-26T20:00:00.000+0000"),
    );
    let facts = facts_for(&applied);
    let read = refreshed_state(&applied, &facts);
    assert_eq!(read, applied);
    assert_eq!(
        plan(read.clone(), Some(&read), Some("SHA".into()), Some(&home())),
        read,
        "second plan is empty"
    );

    // Target and permission removed, policy edited, memory changed outside Terraform.
    let mut drifted = facts.clone();
    drifted.target_arn = None;
    drifted.permission_source_arn = None;
    drifted.policy = Some(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
            .into(),
    );
    drifted.function.memory_mb = 1024;
    drifted.extra_policies.attached_policy_arns = vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()];
    let read = refreshed_state(&applied, &drifted);
    assert!(read.get("schedule_target_arn").is_null());
    assert_eq!(read.get("extra_attached_policy_arns").strings(), ["arn:aws:iam::aws:policy/AdministratorAccess"]);
    assert_eq!(read.get("memory_mb").as_i64(), Some(1024));
    let mut proposed = read.clone();
    proposed.set("memory_mb", Value::Number(256.0)); // Terraform proposes the configured value
    let p = plan(proposed, Some(&read), Some("SHA".into()), Some(&home()));
    assert_eq!(p.get("schedule_target_arn"), applied.get("function_arn"));
    assert_eq!(p.get("extra_attached_policy_arns"), &Value::List(vec![]), "a policy attached outside Terraform is removed");
    assert!(policies_equivalent(
        p.get("policy_json").as_str().unwrap(),
        applied.get("policy_json").as_str().unwrap()
    ));
    assert!(
        p.get("last_modified").is_unknown(),
        "an update gives a new LastModified"
    );

    // A new package plans only the hash (and last_modified) to change.
    let p = plan(
        applied.clone(),
        Some(&applied),
        Some("NEW".into()),
        Some(&home()),
    );
    assert_eq!(p.get("package_sha256").as_str(), Some("NEW"));
}

#[test]
fn import_recovers_inputs_from_the_environment_and_policy() {
    let mut c = config();
    c.set(
        "opensearch_domain_arn",
        Value::string("arn:aws:es:eu-west-1:123456789012:domain/lfm"),
    );
    c.set(
        "extra_environment",
        Value::Map(
            [("RUST_LOG".to_owned(), Value::string("info"))]
                .into_iter()
                .collect(),
        ),
    );
    let applied = plan(c.clone(), None, Some("SHA".into()), Some(&home()));
    let facts = facts_for(&applied);
    let imported = refreshed_state(&import_state("lfm-collector").unwrap(), &facts);
    for attr in [
        "monitored_account_ids",
        "regions",
        "role_name",
        "opensearch_url",
        "opensearch_username",
        "opensearch_password",
        "index_prefix",
        "extra_environment",
        "opensearch_domain_arn",
        "memory_mb",
        "schedule_expression",
        "enabled",
        "log_retention_days",
    ] {
        assert_eq!(imported.get(attr), applied.get(attr), "{attr}");
    }
    assert!(import_state("bad name").unwrap_err().0[0]
        .detail
        .contains("function name"));
}

#[test]
fn permission_source_arn_is_read_from_lambdas_policy() {
    let policy = r#"{"Version": "2012-10-17", "Id": "default", "Statement": [{"Action": "lambda:InvokeFunction", "Principal": {"Service": "events.amazonaws.com"}, "Effect": "Allow", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:pf", "Sid": "lfm-schedule", "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/pr"}}}]}"#;
    assert_eq!(
        permission_source_arn(policy, PERMISSION_SID).as_deref(),
        Some("arn:aws:events:us-east-1:123456789012:rule/pr")
    );
    assert_eq!(permission_source_arn(policy, "other"), None);
}

#[test]
fn sigv4_passes_auth_and_service_to_the_collector_and_needs_no_password() {
    let mut c = config();
    c.set("opensearch_username", Value::Null);
    c.set("opensearch_password", Value::Null);
    c.set("opensearch_auth", Value::string("sigv4"));
    c.set("opensearch_sigv4_service", Value::string("aoss"));
    c.set(
        "opensearch_domain_arn",
        Value::string("arn:aws:aoss:eu-west-1:123456789012:collection/abc123"),
    );
    assert!(
        validate_opensearch_auth(&c).is_empty(),
        "{:?}",
        validate_opensearch_auth(&c)
    );
    let env = desired_environment(&c).unwrap();
    assert_eq!(env["LFM_OPENSEARCH_AUTH"], "sigv4");
    assert_eq!(env["LFM_OPENSEARCH_SIGV4_SERVICE"], "aoss");
    assert!(
        !env.contains_key("LFM_OPENSEARCH_USER") && !env.contains_key("LFM_OPENSEARCH_PASSWORD")
    );

    // Serverless: aoss:APIAccessAll on the collection, no es:* action.
    let doc: serde_json::Value =
        serde_json::from_str(&desired_policy(&c, &home()).unwrap()).unwrap();
    let os = &doc["Statement"][2];
    assert_eq!(os["Action"], "aoss:APIAccessAll");
    assert_eq!(
        os["Resource"],
        serde_json::json!(["arn:aws:aoss:eu-west-1:123456789012:collection/abc123"])
    );
    assert_eq!(
        domain_from_policy(&doc.to_string()).as_deref(),
        Some("arn:aws:aoss:eu-west-1:123456789012:collection/abc123")
    );

    // An import recovers the auth attributes from the environment.
    let applied = plan(c.clone(), None, Some("SHA".into()), Some(&home()));
    let imported = refreshed_state(
        &import_state("lfm-collector").unwrap(),
        &facts_for(&applied),
    );
    for attr in [
        "opensearch_auth",
        "opensearch_sigv4_service",
        "opensearch_domain_arn",
    ] {
        assert_eq!(imported.get(attr), applied.get(attr), "{attr}");
    }
    // The keys are managed: extra_environment may not set them.
    let extra = Value::Map(
        [("LFM_OPENSEARCH_AUTH".to_owned(), Value::string("sigv4"))]
            .into_iter()
            .collect(),
    );
    assert!(valid_extra_environment(&extra)
        .unwrap_err()
        .contains("opensearch_auth"));
}

#[test]
fn auth_mistakes_fail_the_plan_naming_the_attribute() {
    let errors = |c: &Value| -> Vec<(String, String)> {
        validate_opensearch_auth(c)
            .0
            .iter()
            .map(|d| {
                (
                    format!("{:?}", d.attribute),
                    format!("{} {}", d.summary, d.detail),
                )
            })
            .collect()
    };
    // sigv4 with basic-auth credentials: both attributes are named.
    let mut c = config();
    c.set("opensearch_auth", Value::string("sigv4"));
    let e = errors(&c);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].0.contains("opensearch_username") && e[0].1.contains("Conflicting"),
        "{e:?}"
    );
    assert!(e[1].0.contains("opensearch_password"), "{e:?}");
    // basic without a user.
    let mut c = config();
    c.set("opensearch_username", Value::Null);
    c.set("opensearch_password", Value::Null);
    c.set("opensearch_auth", Value::string("basic"));
    let e = errors(&c);
    assert!(
        e.len() == 1
            && e[0].0.contains("opensearch_username")
            && e[0].1.contains("needs opensearch_username"),
        "{e:?}"
    );
    // A service without sigv4.
    let mut c = config();
    c.set("opensearch_sigv4_service", Value::string("es"));
    let e = errors(&c);
    assert!(
        e.len() == 1 && e[0].0.contains("opensearch_sigv4_service"),
        "{e:?}"
    );
    // aoss signatures with an es domain's ARN.
    let mut c = config();
    c.set("opensearch_username", Value::Null);
    c.set("opensearch_password", Value::Null);
    c.set("opensearch_auth", Value::string("sigv4"));
    c.set("opensearch_sigv4_service", Value::string("aoss"));
    c.set(
        "opensearch_domain_arn",
        Value::string("arn:aws:es:eu-west-1:123456789012:domain/lfm"),
    );
    let e = errors(&c);
    assert!(
        e.len() == 1 && e[0].0.contains("opensearch_domain_arn") && e[0].1.contains("\"es\" ARN"),
        "{e:?}"
    );
    // Unknown (a module input not yet known): checked later, at plan time.
    c.set("opensearch_auth", Value::Unknown);
    assert!(errors(&c).is_empty());
    // Through the resource: validation and the schema's value checks.
    let mut c = config();
    c.set("opensearch_auth", Value::string("sigv4"));
    assert!(Collector.validate(&c).has_errors());
    let schema = Collector.schema();
    for (attr, bad) in [
        ("opensearch_auth", "iam"),
        ("opensearch_sigv4_service", "aos"),
    ] {
        let attribute = schema
            .block
            .attributes
            .iter()
            .find(|a| a.name == attr)
            .unwrap();
        let err = attribute
            .validators
            .iter()
            .find_map(|v| crate::protocol::validate::run_validator(v, &Value::string(bad)).err())
            .expect(attr);
        assert!(
            err.contains(if attr == "opensearch_auth" {
                "sigv4"
            } else {
                "aoss"
            }),
            "{attr}: {err}"
        );
    }
}

/// The environment uses exactly the contract's names (lfm_schema::contract::SETTINGS): a
/// variable renamed on either side fails here.
#[test]
fn environment_names_are_the_contracts() {
    use lfm_schema::contract;
    let mut all = config();
    for (attr, value) in [
        ("external_id", Value::string("x")),
        ("opensearch_username", Value::string("u")),
        ("opensearch_password", Value::string("p")),
        ("opensearch_auth", Value::string("basic")),
        ("opensearch_sigv4_service", Value::string("es")),
    ] {
        all.set(attr, value);
    }
    let env = desired_environment(&all).unwrap();
    let set: std::collections::BTreeSet<&str> = env.keys().map(String::as_str).collect();
    let want: std::collections::BTreeSet<&str> = contract::provider_settings().map(|s| s.env).collect();
    assert_eq!(set, want);
    for (key, attr) in MANAGED_KEYS.iter() {
        let setting = contract::by_env(key).unwrap();
        assert_eq!(setting.provider_attribute, Some(*attr));
        assert!(ATTRIBUTES.contains(attr), "{attr}");
    }
    assert_eq!(env[contract::ENV_ACCOUNTS].split(',').count(), all.get("monitored_account_ids").strings().len());
}

#[test]
fn settings_are_decoded_once_with_the_schemas_defaults() {
    let planned = plan(config(), None, Some("SHA".into()), Some(&home()));
    let s = Settings::decode(&planned).unwrap();
    assert_eq!(s.names, Names::new("lfm-collector"));
    assert_eq!((s.memory_mb, s.timeout_s, s.log_retention_days), (256, 300, 30));
    assert_eq!(s.role_propagation_timeout, std::time::Duration::from_secs(120));
    assert_eq!(s.package_sha256.as_deref(), Some("SHA"));
    assert_eq!(Some(s.environment.clone()), desired_environment(&planned));
    assert_eq!(Some(s.policy(&home())), desired_policy(&planned, &home()));
    // Null attributes (an import) take the same defaults the schema plans.
    let mut sparse = planned.clone();
    for attr in ["architecture", "memory_mb", "timeout_s", "schedule_expression", "enabled", "log_retention_days", "role_propagation_timeout_s"] {
        sparse.set(attr, Value::Null);
    }
    let d = Settings::decode(&sparse).unwrap();
    assert_eq!(d, Settings { environment: d.environment.clone(), ..s });
    let defaults: std::collections::BTreeMap<_, _> = Collector
        .schema()
        .block
        .attributes
        .into_iter()
        .filter_map(|a| a.default.map(|v| (a.name, v)))
        .collect();
    assert_eq!(defaults["memory_mb"].as_i64(), Some(DEFAULT_MEMORY_MB));
    assert_eq!(defaults["architecture"].as_str(), Some(DEFAULT_ARCHITECTURE));
    let mut unknown = planned;
    unknown.set("regions", Value::Unknown);
    assert!(Settings::decode(&unknown).is_err());
}

#[test]
fn alert_permissions_are_exactly_the_declared_topics_and_parameters() {
    let topic = "arn:aws:sns:eu-west-1:123456789012:lfm-alerts";
    let fifo = "arn:aws:sns:eu-west-1:123456789012:lfm-alerts.fifo";
    let parameter = "arn:aws:ssm:eu-west-1:123456789012:parameter/lfm/lfm/alert-destinations/hook/webhook-secret";
    let statements = |c: &Value| -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_str(&desired_policy(c, &home()).unwrap()).unwrap();
        doc["Statement"].as_array().unwrap().clone()
    };
    let find = |s: &[serde_json::Value], sid: &str| s.iter().find(|s| s["Sid"] == sid).cloned();

    // Empty or unset: no statement at all.
    let mut c = config();
    assert!(find(&statements(&c), SID_PUBLISH_ALERTS).is_none());
    c.set("alert_sns_topic_arns", Value::List(vec![]));
    c.set("alert_secret_parameter_arns", Value::List(vec![]));
    let s = statements(&c);
    assert!(find(&s, SID_PUBLISH_ALERTS).is_none() && find(&s, SID_READ_ALERT_SECRETS).is_none(), "{s:?}");

    // Topics only: sns:Publish on exactly them (duplicates once), no SSM statement.
    c.set("alert_sns_topic_arns", Value::string_list([topic, fifo, topic]));
    let s = statements(&c);
    let publish = find(&s, SID_PUBLISH_ALERTS).unwrap();
    assert_eq!(publish["Action"], "sns:Publish");
    assert_eq!(publish["Effect"], "Allow");
    assert_eq!(publish["Resource"], serde_json::json!([topic, fifo]));
    assert!(find(&s, SID_READ_ALERT_SECRETS).is_none());

    // Parameters: ssm:GetParameter on exactly them; nothing else gains a wildcard.
    c.set("alert_secret_parameter_arns", Value::string_list([parameter]));
    let s = statements(&c);
    let read = find(&s, SID_READ_ALERT_SECRETS).unwrap();
    assert_eq!(read["Action"], "ssm:GetParameter");
    assert_eq!(read["Resource"], serde_json::json!([parameter]));
    for st in &s {
        let text = st["Resource"].to_string();
        assert!(!text.contains("sns:*") && !text.contains(":parameter/*") && st["Resource"] != "*", "{st}");
    }

    // Import reads them back from the policy.
    let policy = desired_policy(&c, &home()).unwrap();
    assert_eq!(statement_resources(&policy, SID_PUBLISH_ALERTS), [topic, fifo]);
    assert_eq!(statement_resources(&policy, SID_READ_ALERT_SECRETS), [parameter]);
    assert!(statement_resources(&policy, "Nope").is_empty());

    // Unknown at plan: no policy yet; at apply Settings carries the same lists.
    c.set("alert_sns_topic_arns", Value::List(vec![Value::Unknown]));
    assert_eq!(desired_policy(&c, &home()), None);
}

#[test]
fn alert_arns_are_validated() {
    assert!(ssm_parameter_arn(&Value::string("arn:aws:ssm:eu-west-1:123456789012:parameter/lfm/x/webhook-secret")).is_ok());
    for bad in ["arn:aws:ssm:eu-west-1:123456789012:document/x", "arn:aws:sns:eu-west-1:123456789012:parameter/x", "arn:aws:ssm:eu-west-1:12:parameter/x", "parameter/x"] {
        assert!(ssm_parameter_arn(&Value::string(bad)).is_err(), "{bad}");
    }
}
