//! Deployments recorded by the collector against the test bed (needs `LFM_MOTO_URL` and
//! `LFM_OPENSEARCH_URL`: `eval "$(python -m lfm_testbed env)"` after `python -m lfm_testbed up`).
//!
//! A new member account with three functions, into indices with a private prefix:
//! 1. a run over the last hour sees them for the first time: inventory (with `code_sha256` and
//!    `version`), no deployment;
//! 2. new code for one function (UpdateFunctionCode), more memory for another
//!    (UpdateFunctionConfiguration); the same window again: one deployment document each, with
//!    what changed from -> to, verdict pending; the third function has none;
//! 3. the run again: the previous inventory is now the current one, nothing new is recorded.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::Runtime;
use chrono::{DurationRound, TimeDelta, Utc};
use clap::Parser;
use lfm_collector::config::cli::{Cli, Command};
use lfm_collector::config::Config;
use serde_json::Value;

mod common;

use common::{delete_prefix, execution_role, member_account, required_env, rfc, search_hits, zip_function, Member};

const REGION: &str = "us-east-1";
/// An empty zip archive with the comment "v2": other bytes, so another CodeSha256.
const NEW_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02\0v2";

fn config(account: &str, prefix: &str, window: &[String]) -> Config {
    let opensearch = required_env("LFM_OPENSEARCH_URL");
    let mut args = vec![
        "lfm-collector".to_string(),
        "run".into(),
        format!("--accounts={account}"),
        format!("--regions={REGION}"),
        "--role-name=OrganizationAccountAccessRole".into(),
        format!("--index-prefix={prefix}"),
        format!("--opensearch-url={opensearch}"),
        "--settle=0s".into(),
    ];
    args.extend(window.iter().cloned());
    let Command::Run(run) = Cli::try_parse_from(args).unwrap().command else { panic!("not a run") };
    run.to_config(Utc::now()).unwrap()
}

fn deployments_written(summary: &lfm_collector::RunSummary, prefix: &str) -> u64 {
    summary.documents_written_by_index.get(&format!("{prefix}-deployments")).copied().unwrap_or(0)
}

#[tokio::test]
async fn changes_are_recorded_once_with_what_changed() {
    let moto = required_env("LFM_MOTO_URL");
    let opensearch = required_env("LFM_OPENSEARCH_URL");
    common::collector_uses_moto(&moto);
    let http = reqwest::Client::new();
    let prefix = format!("t-deploy-{}", common::unique());
    let Member { account, credentials } = member_account(&moto, "lfm-deploy").await;
    let sdk = common::sdk_config(&moto, REGION, credentials).await;
    let role_arn = execution_role(&sdk, "lfm-deploy-exec").await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    for name in ["coded", "resized", "steady"] {
        zip_function(&lambda, name, &role_arn, Runtime::Python312).await;
    }
    // The functions were created (LastModified) inside this window: candidates every run.
    let end = Utc::now().duration_trunc(TimeDelta::minutes(5)).unwrap();
    let window = [format!("--start={}", rfc(end - TimeDelta::hours(1))), format!("--end={}", rfc(end))];

    let first = lfm_collector::run(&config(&account, &prefix, &window)).await;
    assert!(first.succeeded(), "{first}");
    assert_eq!(deployments_written(&first, &prefix), 0, "first sight is no change");
    let inventory = search_hits(&http, &opensearch, &format!("{prefix}-inventory")).await;
    let coded = inventory.iter().find(|h| h["_source"]["function_name"] == "coded").unwrap();
    let old_sha = coded["_source"]["code_sha256"].as_str().unwrap().to_string();
    assert_eq!(coded["_source"]["version"], "$LATEST");

    let new_sha = lambda.update_function_code().function_name("coded").zip_file(Blob::new(NEW_ZIP)).send().await.unwrap();
    let new_sha = new_sha.code_sha256().unwrap().to_string();
    assert_ne!(new_sha, old_sha);
    lambda.update_function_configuration().function_name("resized").memory_size(512).send().await.unwrap();

    let second = lfm_collector::run(&config(&account, &prefix, &window)).await;
    assert!(second.succeeded(), "{second}");
    assert_eq!(deployments_written(&second, &prefix), 2, "{second}");
    let deployments: Vec<Value> = search_hits(&http, &opensearch, &format!("{prefix}-deployments")).await;
    let by_name = |name: &str| deployments.iter().find(|h| h["_source"]["function_name"] == name).map(|h| &h["_source"]);
    let code = by_name("coded").expect("a deployment of the new code");
    assert_eq!(code["changed_fields"], serde_json::json!(["code_sha256"]));
    assert_eq!(code["changes"][0], serde_json::json!({"field": "code_sha256", "from": old_sha, "to": new_sha}));
    assert_eq!((code["verdict"].as_str(), code["code_sha256"].as_str()), (Some("pending"), Some(new_sha.as_str())));
    assert_eq!(code["period_seconds"], 300);
    let id = deployments.iter().find(|h| h["_source"]["function_name"] == "coded").unwrap()["_id"].as_str().unwrap();
    assert_eq!(id, format!("{}|{}", code["function_arn"].as_str().unwrap(), code["@timestamp"].as_str().unwrap()));
    let memory = by_name("resized").expect("a deployment of the new memory size");
    assert_eq!(memory["changes"], serde_json::json!([{"field": "memory_mb", "from": "128", "to": "512"}]));
    assert!(by_name("steady").is_none());

    let third = lfm_collector::run(&config(&account, &prefix, &window)).await;
    assert!(third.succeeded(), "{third}");
    assert_eq!(deployments_written(&third, &prefix), 0, "a change is recorded once");
    assert_eq!(search_hits(&http, &opensearch, &format!("{prefix}-deployments")).await.len(), 2);

    delete_prefix(&http, &opensearch, &prefix).await;
    for name in ["alert-rules", "alert-destinations", "alert-state", "alerts", "deployments"] {
        http.delete(format!("{opensearch}/_index_template/{prefix}-{name}")).send().await.unwrap();
    }
}
