//! `lfm_collector` against the moto server of the test bed: the resource's plan, CRUD and
//! import functions driven directly, as the protocol layer would. Every AWS object is checked
//! with the SDK after each step; drift is made with the SDK "outside Terraform".
//!
//! Needs `LFM_MOTO_URL` (`python -m lfm_testbed up`, then `eval "$(python -m lfm_testbed env)"`).
//! moto accepts any zip without Docker; the packages here are small stored zips built in the
//! test (a `bootstrap` entry, as scripts/package-collector makes).

mod common;

use common::{moto_url, stored_zip};

use terraform_provider_lfm::framework::{AttrPath, Provider, Resource, Value};
use terraform_provider_lfm::lfm::resources::collector::model::ATTRIBUTES;
use terraform_provider_lfm::lfm::resources::collector::package::package_sha256;
use terraform_provider_lfm::lfm::resources::collector::Collector;
use terraform_provider_lfm::lfm::{LfmContext, LfmProvider};

fn use_test_credentials() {
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");
}

async fn configure(url: &str) -> LfmContext {
    let endpoints = Value::object(
        [
            "sts",
            "iam",
            "organizations",
            "lambda",
            "cloudwatch",
            "logs",
            "events",
            "opensearch",
        ]
        .map(|s| (s, Value::string(url))),
    );
    let config = Value::object([
        ("region", Value::Null),
        ("assume_role", Value::Null),
        ("endpoints", endpoints),
    ]);
    LfmProvider
        .configure(&config)
        .await
        .expect("provider configures")
}

async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// What Terraform proposes from the configuration: defaults planned, computed unknown.
fn proposed(name: &str, package: &str) -> Value {
    let mut v = Value::object(ATTRIBUTES.iter().map(|a| (*a, Value::Unknown)));
    for (k, val) in [
        ("name", Value::string(name)),
        ("package_path", Value::string(package)),
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
        ("external_id", Value::Null),
        ("regions", Value::string_list(["us-east-1"])),
        (
            "opensearch_url",
            Value::string("https://search.example.com"),
        ),
        (
            "opensearch_domain_arn",
            Value::string("arn:aws:es:us-east-1:123456789012:domain/lfm"),
        ),
        ("opensearch_username", Value::string("lfm")),
        ("opensearch_password", Value::string("s3cret")),
        ("opensearch_auth", Value::Null),
        ("opensearch_sigv4_service", Value::Null),
        ("index_prefix", Value::string("lfm")),
        ("extra_environment", Value::Null),
        ("log_retention_days", Value::Number(30.0)),
        ("role_propagation_timeout_s", Value::Number(5.0)),
        ("alert_sns_topic_arns", Value::Null),
        ("alert_secret_parameter_arns", Value::Null),
    ] {
        v.set(k, val);
    }
    v
}

#[tokio::test]
async fn collector_lifecycle_against_moto() {
    let url = moto_url();
    use_test_credentials();
    let ctx = configure(&url).await;
    let aws = sdk_config(&url).await;
    let (lambda, events, iam, logs) = (
        aws_sdk_lambda::Client::new(&aws),
        aws_sdk_eventbridge::Client::new(&aws),
        aws_sdk_iam::Client::new(&aws),
        aws_sdk_cloudwatchlogs::Client::new(&aws),
    );
    let suffix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let name = format!("lfm-test-{suffix}");
    let dir = std::env::temp_dir().join(format!("lfm-aws-collector-{suffix}"));
    std::fs::create_dir_all(&dir).unwrap();
    let zip_path = dir.join("collector.zip");
    let package_v1 = stored_zip("bootstrap", b"#!/bin/sh\necho v1\n");
    std::fs::write(&zip_path, &package_v1).unwrap();
    let path = zip_path.to_str().unwrap();
    let r = Collector;

    // Plan on create: hash from the file, ARNs, environment and policy known before apply.
    let planned = r
        .modify_plan(&ctx, None, proposed(&name, path))
        .await
        .unwrap();
    assert_eq!(
        planned.get("package_sha256").as_str(),
        Some(package_sha256(&package_v1).as_str())
    );
    assert_eq!(
        planned.get("function_arn").as_str(),
        Some(format!("arn:aws:lambda:us-east-1:123456789012:function:{name}").as_str())
    );
    assert!(planned.get("last_modified").is_unknown());

    // Create: every object exists as planned.
    let state = r.create(&ctx, &planned).await.unwrap();
    assert!(!state.contains_unknown(), "{state:?}");
    let f = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let c = f.configuration().unwrap();
    assert_eq!(c.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(c.handler(), Some("bootstrap"));
    assert_eq!(c.architectures().first().map(|a| a.as_str()), Some("arm64"));
    assert_eq!(c.code_sha256(), Some(package_sha256(&package_v1).as_str()));
    let env = c.environment().unwrap().variables().unwrap();
    assert_eq!(
        env.get("LFM_ACCOUNTS").map(String::as_str),
        Some("111122223333,444455556666")
    );
    assert!(
        env.keys().all(|k| k.starts_with("LFM_")),
        "only LFM_* keys: {env:?}"
    );
    let rule = events
        .describe_rule()
        .name(format!("{name}-schedule"))
        .send()
        .await
        .unwrap();
    assert_eq!(rule.schedule_expression(), Some("rate(5 minutes)"));
    let targets = events
        .list_targets_by_rule()
        .rule(format!("{name}-schedule"))
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets()[0].arn(), c.function_arn().unwrap());
    let policy = lambda
        .get_policy()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap().contains(rule.arn().unwrap()));
    assert!(policy.policy().unwrap().contains("events.amazonaws.com"));
    let role_policy = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name("LfmCollectorPolicy")
        .send()
        .await
        .unwrap();
    let role_policy = terraform_provider_lfm::lfm::aws::iam::url_decode(role_policy.policy_document());
    assert!(role_policy.contains("arn:aws:iam::444455556666:role/LambdaMonitoringRole"));
    assert!(role_policy.contains("domain/lfm/*"));
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));

    // Read gives the same state; the second plan is empty.
    let read = r
        .read(&ctx, &state)
        .await
        .unwrap()
        .expect("function exists");
    assert_eq!(read, state);
    let replan = r
        .modify_plan(&ctx, Some(&read), read.clone())
        .await
        .unwrap();
    assert_eq!(replan, read, "plan after create is empty");

    // Creating it again says how to import.
    let err = r.create(&ctx, &planned).await.unwrap_err();
    assert!(
        err.0[0]
            .detail
            .contains(&format!("terraform import <address> {name}")),
        "{err:?}"
    );

    // Import by function name recovers the inputs.
    let imported = r.import(&ctx, &name).await.unwrap();
    let imported = r.read(&ctx, &imported).await.unwrap().unwrap();
    for attr in [
        "monitored_account_ids",
        "regions",
        "opensearch_url",
        "opensearch_domain_arn",
        "opensearch_password",
        "memory_mb",
        "schedule_expression",
        "package_sha256",
        "policy_json",
        "function_arn",
    ] {
        assert_eq!(imported.get(attr), state.get(attr), "{attr} after import");
    }

    // Drift: policy edited, target and permission removed, environment replaced outside Terraform.
    iam.put_role_policy()
        .role_name(&name)
        .policy_name("LfmCollectorPolicy")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    events
        .remove_targets()
        .rule(format!("{name}-schedule"))
        .ids("lfm-collector")
        .send()
        .await
        .unwrap();
    lambda
        .remove_permission()
        .function_name(&name)
        .statement_id("lfm-schedule")
        .send()
        .await
        .unwrap();
    let foreign_env = [("LFM_ACCOUNTS".to_owned(), "999999999999".to_owned())]
        .into_iter()
        .collect();
    lambda
        .update_function_configuration()
        .function_name(&name)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(foreign_env))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drifted = r.read(&ctx, &state).await.unwrap().unwrap();
    assert_eq!(
        drifted.get("environment").get("LFM_ACCOUNTS").as_str(),
        Some("999999999999")
    );
    assert!(drifted
        .get("policy_json")
        .as_str()
        .unwrap()
        .contains("\"*\""));
    assert!(
        drifted.get("schedule_target_arn").is_null()
            && drifted.get("invoke_permission_source_arn").is_null()
    );
    let plan = r
        .modify_plan(&ctx, Some(&drifted), drifted.clone())
        .await
        .unwrap();
    assert_ne!(plan, drifted, "drift plans an update");
    let repaired = r.update(&ctx, &drifted, &plan).await.unwrap();
    let read = r.read(&ctx, &repaired).await.unwrap().unwrap();
    assert_eq!(read, repaired);
    assert_eq!(read.get("schedule_target_arn"), state.get("function_arn"));
    assert_eq!(
        read.get("environment"),
        state.get("environment"),
        "environment restored"
    );
    assert_eq!(
        r.modify_plan(&ctx, Some(&read), read.clone())
            .await
            .unwrap(),
        read,
        "empty plan after repair"
    );

    // Update: more memory, a new package, and IAM auth (SigV4) instead of basic auth.
    let package_v2 = stored_zip("bootstrap", b"#!/bin/sh\necho v2\n");
    std::fs::write(&zip_path, &package_v2).unwrap();
    let mut proposed_v2 = read.clone();
    proposed_v2.set("memory_mb", Value::Number(512.0));
    proposed_v2.set("opensearch_username", Value::Null);
    proposed_v2.set("opensearch_password", Value::Null);
    proposed_v2.set("opensearch_auth", Value::string("sigv4"));
    proposed_v2.set("opensearch_sigv4_service", Value::string("es"));
    let plan = r.modify_plan(&ctx, Some(&read), proposed_v2).await.unwrap();
    assert_eq!(
        plan.get("package_sha256").as_str(),
        Some(package_sha256(&package_v2).as_str())
    );
    let updated = r.update(&ctx, &read, &plan).await.unwrap();
    let c = lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(c.memory_size(), Some(512));
    assert_eq!(c.code_sha256(), Some(package_sha256(&package_v2).as_str()));
    let env = c.environment().unwrap().variables().unwrap();
    assert_eq!(
        env.get("LFM_OPENSEARCH_AUTH").map(String::as_str),
        Some("sigv4")
    );
    assert_eq!(
        env.get("LFM_OPENSEARCH_SIGV4_SERVICE").map(String::as_str),
        Some("es")
    );
    assert!(
        !env.contains_key("LFM_OPENSEARCH_USER") && !env.contains_key("LFM_OPENSEARCH_PASSWORD"),
        "no basic-auth credentials with sigv4: {env:?}"
    );
    // The execution role may call every HTTP method the collector uses on the domain,
    // DELETE included (retention).
    let role_policy = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name("LfmCollectorPolicy")
        .send()
        .await
        .unwrap();
    let role_policy: serde_json::Value = serde_json::from_str(
        &terraform_provider_lfm::lfm::aws::iam::url_decode(role_policy.policy_document()),
    )
    .unwrap();
    let http = role_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "OpenSearchHttp")
        .unwrap();
    assert_eq!(
        http["Action"],
        serde_json::json!([
            "es:ESHttpDelete",
            "es:ESHttpGet",
            "es:ESHttpHead",
            "es:ESHttpPost",
            "es:ESHttpPut"
        ])
    );
    assert_eq!(r.read(&ctx, &updated).await.unwrap().unwrap(), updated);
    assert_eq!(
        r.modify_plan(&ctx, Some(&updated), updated.clone())
            .await
            .unwrap(),
        updated,
        "empty plan after switching to sigv4"
    );

    // Function deleted outside Terraform: read says gone (Terraform plans a create), and the
    // create adopts the execution role that is still there.
    lambda
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(r.read(&ctx, &updated).await.unwrap(), None);
    let planned = r
        .modify_plan(&ctx, None, proposed(&name, path))
        .await
        .unwrap();
    let recreated = r.create(&ctx, &planned).await.unwrap();
    assert!(lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .is_ok());
    assert_eq!(r.read(&ctx, &recreated).await.unwrap().unwrap(), recreated);

    // Delete: everything gone; deleting again succeeds.
    r.delete(&ctx, &recreated).await.unwrap();
    assert!(lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .is_err());
    assert!(events
        .describe_rule()
        .name(format!("{name}-schedule"))
        .send()
        .await
        .is_err());
    assert!(iam.get_role().role_name(&name).send().await.is_err());
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{name}"))
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());
    r.delete(&ctx, &recreated).await.unwrap();
    assert_eq!(r.read(&ctx, &recreated).await.unwrap(), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn plan_time_errors_name_the_attribute() {
    let url = moto_url();
    use_test_credentials();
    let ctx = configure(&url).await;
    let r = Collector;
    // A missing package is a plan-time error on package_path.
    let err = r
        .modify_plan(
            &ctx,
            None,
            proposed("lfm-missing", "/nonexistent/collector.zip"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.0[0].attribute, Some(AttrPath::attr("package_path")));
    // An x86_64 executable planned as arm64: the plan says which --arch to build.
    let dir = std::env::temp_dir().join(format!("lfm-aws-collector-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2;
    elf[5] = 1;
    elf[18..20].copy_from_slice(&0x3Eu16.to_le_bytes());
    let x86 = dir.join("x86.zip");
    std::fs::write(&x86, stored_zip("bootstrap", &elf)).unwrap();
    let err = r
        .modify_plan(&ctx, None, proposed("lfm-arch", x86.to_str().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.0[0].attribute, Some(AttrPath::attr("package_path")));
    assert!(
        err.0[0].detail.contains("built for x86_64") && err.0[0].detail.contains("--arch arm64"),
        "{err:?}"
    );
    // SigV4 with a password, and an auth value the collector does not know: plan-time errors
    // naming the attribute.
    let mut config = proposed("lfm-sigv4", x86.to_str().unwrap());
    config.set("opensearch_auth", Value::string("sigv4"));
    config.set("opensearch_username", Value::Null);
    let err = r.modify_plan(&ctx, None, config).await.unwrap_err();
    assert_eq!(
        err.0[0].attribute,
        Some(AttrPath::attr("opensearch_password")),
        "{err:?}"
    );
    assert!(err.0[0].detail.contains("sigv4"), "{err:?}");
    let mut config = proposed("lfm-iam", "/tmp/x.zip");
    config.set("opensearch_auth", Value::string("iam"));
    let diags =
        terraform_provider_lfm::protocol::validate::validate_config(&r.schema().block, &config);
    assert!(
        diags
            .0
            .iter()
            .any(|d| d.attribute == Some(AttrPath::attr("opensearch_auth"))
                && d.summary.contains("\"sigv4\"")),
        "{diags:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The reserved AWS_REGION in extra_environment, through the generic validation.
    let mut config = proposed("lfm-reserved", "/tmp/x.zip");
    config.set(
        "extra_environment",
        Value::Map(
            [("AWS_REGION".to_owned(), Value::string("us-east-1"))]
                .into_iter()
                .collect(),
        ),
    );
    let diags =
        terraform_provider_lfm::protocol::validate::validate_config(&r.schema().block, &config);
    assert!(
        diags
            .0
            .iter()
            .any(|d| d.attribute == Some(AttrPath::attr("extra_environment"))
                && d.detail.contains("AWS_REGION")),
        "{diags:?}"
    );
}

#[tokio::test]
async fn lambdas_answer_for_an_unassumable_role_is_what_the_provider_retries() {
    let url = moto_url();
    use_test_credentials();
    let aws = sdk_config(&url).await;
    let lambda = aws_sdk_lambda::Client::new(&aws);
    // Like AWS for a role not yet propagated, moto answers CreateFunction for a role that does
    // not exist with InvalidParameterValueException "... cannot be assumed by Lambda".
    let zip = stored_zip("bootstrap", b"x");
    let err = lambda
        .create_function()
        .function_name("lfm-probe-no-role")
        .role("arn:aws:iam::123456789012:role/lfm-does-not-exist")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let e = terraform_provider_lfm::lfm::aws::AwsError::from_sdk(err);
    assert!(
        terraform_provider_lfm::lfm::resources::collector::deploy::is_role_propagation_error(&e),
        "{e}"
    );
}

#[tokio::test]
async fn a_role_of_that_name_made_by_someone_else_is_left_alone() {
    let url = moto_url();
    use_test_credentials();
    let ctx = configure(&url).await;
    let iam = aws_sdk_iam::Client::new(&sdk_config(&url).await);
    let suffix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let name = format!("lfm-foreign-{suffix}");
    let foreign_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document(foreign_trust)
        .description("someone else's")
        .send()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("lfm-aws-collector-foreign-{suffix}"));
    std::fs::create_dir_all(&dir).unwrap();
    let zip = dir.join("collector.zip");
    std::fs::write(&zip, stored_zip("bootstrap", b"#!/bin/sh\n")).unwrap();
    let r = Collector;
    let planned = r
        .modify_plan(&ctx, None, proposed(&name, zip.to_str().unwrap()))
        .await
        .unwrap();
    let err = r.create(&ctx, &planned).await.unwrap_err();
    assert_eq!(err.0[0].attribute, Some(AttrPath::attr("name")), "{err:?}");
    assert!(err.0[0].detail.contains("did not make"), "{err:?}");
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    let trust = terraform_provider_lfm::lfm::aws::iam::url_decode(
        role.role().unwrap().assume_role_policy_document().unwrap(),
    );
    assert!(
        trust.contains("ec2.amazonaws.com"),
        "the foreign role's trust policy is untouched: {trust}"
    );
    iam.delete_role().role_name(&name).send().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
