//! Setup shared by the collector's live tests (`tests/live.rs`, `tests/*_live.rs`), which run
//! against the test bed: moto (`LFM_MOTO_URL`, patched by the test bed's motoext) and a real
//! OpenSearch node (`LFM_OPENSEARCH_URL`).
//!
//! What lives here: the endpoints, SDK configuration pointed at moto, a new member account of
//! the organisation with keys acting in it (through `OrganizationAccountAccessRole`, which
//! Organizations creates trusting the management account), an execution role and zip
//! functions for Lambda, CloudWatch datapoints, and the checkpoint and cleanup of a test's
//! OpenSearch prefix. Each test binary compiles this module with `mod common;` and uses what
//! it needs.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_types::region::Region;
use aws_types::SdkConfig;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// An empty zip archive: moto stores the package without unpacking it.
pub const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// The variable, or a panic that says how to start the test bed.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. The collector's live tests need the test bed: `python -m lfm_testbed up && \
             eval \"$(python -m lfm_testbed env)\"` (or run scripts/test), then `cargo test -p lfm-collector --test <name>`"
        )
    })
}

/// The management account's keys (moto: account 123456789012).
pub fn test_keys() -> Credentials {
    Credentials::new("testing", "testing", None, None, "lfm-live-test")
}

pub async fn sdk_config(moto: &str, region: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto)
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .load()
        .await
}

/// The collector uses the SDK's standard configuration: point it at moto like any endpoint,
/// with the management account's keys.
pub fn collector_uses_moto(moto: &str) {
    std::env::set_var("AWS_ENDPOINT_URL", moto);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::remove_var("AWS_PROFILE");
}

/// A unique suffix for names (accounts, index prefixes).
pub fn unique() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// A member account of the organisation and keys acting in it.
pub struct Member {
    pub account: String,
    pub credentials: Credentials,
}

/// A new member account (the organisation is created if moto holds none yet), named `{label}-…`.
pub async fn member_account(moto: &str, label: &str) -> Member {
    let management = sdk_config(moto, "us-east-1", test_keys()).await;
    let org = aws_sdk_organizations::Client::new(&management);
    if let Err(e) = org.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await {
        let already = e.as_service_error().map(|s| s.is_already_in_organization_exception()).unwrap_or(false);
        assert!(already, "create_organization: {}", aws_sdk_organizations::error::DisplayErrorContext(&e));
    }
    let suffix = unique();
    let mut status = org
        .create_account()
        .account_name(format!("{label}-{suffix}"))
        .email(format!("{label}-{suffix}@example.com"))
        .send()
        .await
        .expect("create_account")
        .create_account_status
        .expect("status");
    while status.account_id.is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let id = status.id.clone().unwrap();
        status = org
            .describe_create_account_status()
            .create_account_request_id(id)
            .send()
            .await
            .expect("describe_create_account_status")
            .create_account_status
            .unwrap();
    }
    let account = status.account_id.unwrap();
    let credentials = credentials_in(&management, &account).await;
    Member { account, credentials }
}

/// Keys acting in `account`, through its `OrganizationAccountAccessRole`.
pub async fn credentials_in(management: &SdkConfig, account: &str) -> Credentials {
    let keys = aws_sdk_sts::Client::new(management)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
        .role_session_name("lfm-live-test")
        .send()
        .await
        .expect("assume OrganizationAccountAccessRole")
        .credentials
        .unwrap();
    Credentials::new(keys.access_key_id, keys.secret_access_key, Some(keys.session_token), None, "member")
}

/// An execution role Lambda may assume (create_function needs one that exists).
pub async fn execution_role(member: &SdkConfig, name: &str) -> String {
    aws_sdk_iam::Client::new(member)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                   "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("create execution role")
        .role
        .unwrap()
        .arn
}

/// A zip function with `runtime`, handler `app.handler` and the empty package.
pub async fn zip_function(lambda: &aws_sdk_lambda::Client, name: &str, role_arn: &str, runtime: Runtime) {
    lambda
        .create_function()
        .function_name(name)
        .role(role_arn)
        .runtime(runtime)
        .handler("app.handler")
        .code(FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_function {name}: {}", aws_sdk_lambda::error::DisplayErrorContext(&e)));
}

/// One `AWS/Lambda` datapoint of `metric` for `function` at `at` (Duration in ms, else Count).
pub fn lambda_datum(metric: &str, function: &str, at: DateTime<Utc>, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(metric)
        .dimensions(Dimension::builder().name("FunctionName").value(function).build())
        .timestamp(AwsDateTime::from_secs(at.timestamp()))
        .value(value)
        .unit(if metric == "Duration" { StandardUnit::Milliseconds } else { StandardUnit::Count })
        .build()
}

/// Puts `data` in `AWS/Lambda`, in requests of at most 1,000 datapoints (PutMetricData's limit).
pub async fn put_lambda_metrics(cloudwatch: &aws_sdk_cloudwatch::Client, data: Vec<MetricDatum>) {
    for chunk in data.chunks(1000) {
        cloudwatch.put_metric_data().namespace("AWS/Lambda").set_metric_data(Some(chunk.to_vec())).send().await.expect("put_metric_data");
    }
}

pub fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Every hit of `index` (a name or pattern) after a refresh, sorted by `_id`.
pub async fn search_hits(http: &reqwest::Client, opensearch: &str, index: &str) -> Vec<Value> {
    http.post(format!("{opensearch}/{index}/_refresh")).send().await.unwrap().error_for_status().unwrap();
    let body: Value = http
        .post(format!("{opensearch}/{index}/_search"))
        .json(&serde_json::json!({"size": 10000, "query": {"match_all": {}}, "sort": [{"_id": "asc"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["hits"]["hits"].as_array().cloned().unwrap_or_default()
}

pub async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// `complete_until` of the checkpoint of (`account`, `region`) under `prefix`, if any.
pub async fn checkpoint(http: &reqwest::Client, opensearch: &str, prefix: &str, account: &str, region: &str) -> Option<String> {
    let doc = get_json(http, format!("{opensearch}/{prefix}-state/_doc/checkpoint:{account}:{region}")).await;
    doc["_source"]["complete_until"].as_str().map(str::to_string)
}

/// Deletes the test's indices and index templates.
pub async fn delete_prefix(http: &reqwest::Client, opensearch: &str, prefix: &str) {
    http.delete(format!("{opensearch}/{prefix}-*")).send().await.unwrap();
    for name in ["metrics", "inventory", "checkpoints", "runs"] {
        http.delete(format!("{opensearch}/_index_template/{prefix}-{name}")).send().await.unwrap();
    }
}
