//! Checkpoints, backfill and run records against the test bed (needs `LFM_MOTO_URL` and
//! `LFM_OPENSEARCH_URL`: `eval "$(python -m lfm_testbed env)"` after `python -m lfm_testbed up`).
//!
//! Seeds a new member account with five functions and three hours of CloudWatch datapoints
//! (some periods idle), then, into indices with a private prefix:
//! 1. collects as if it were one hour into those three (no checkpoint: the first hour);
//! 2. "outage"; a dry run with a 1 h horizon plans the backfill, reports the older gap and
//!    moves no checkpoint;
//! 3. a run without --start/--end backfills the two missed hours from the checkpoint;
//! 4. the union of the documents has every seeded (function, period) exactly once;
//! 5. a rerun writes no metric document and adds no id; an explicit rerun of the whole window
//!    overwrites the same ids and leaves the checkpoint where it was;
//! 6. the run record in `{prefix}-runs` carries the summary's numbers.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_types::region::Region;
use aws_types::SdkConfig;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use clap::Parser;
use lfm_collector::config::cli::{Cli, Command};
use lfm_collector::config::Config;
use lfm_collector::RunSummary;
use serde_json::{json, Value};

const PERIOD: i64 = 300;
const PERIODS: i64 = 36;
const FUNCTIONS: usize = 5;
const REGION: &str = "us-east-1";
/// An empty zip archive: moto stores the package without unpacking it.
const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set. This test needs the test bed: `cd testbed && python -m lfm_testbed up && \
             eval \"$(python -m lfm_testbed env)\"`, then `cargo test -p lfm-collector --test checkpoint_live`"
        )
    })
}

async fn sdk(moto: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto)
        .region(Region::new(REGION))
        .credentials_provider(credentials)
        .load()
        .await
}

/// A new member account (AWS Organizations in moto) and keys acting in it.
async fn member_account(moto: &str) -> (String, Credentials) {
    let management = sdk(moto, Credentials::new("testing", "testing", None, None, "test")).await;
    let org = aws_sdk_organizations::Client::new(&management);
    if let Err(e) = org.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await {
        let already = e.as_service_error().map(|s| s.is_already_in_organization_exception()).unwrap_or(false);
        assert!(already, "create_organization: {}", aws_sdk_organizations::error::DisplayErrorContext(&e));
    }
    let suffix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let mut status = org
        .create_account()
        .account_name(format!("lfm-ckpt-{suffix}"))
        .email(format!("lfm-ckpt-{suffix}@example.com"))
        .send()
        .await
        .expect("create_account")
        .create_account_status
        .unwrap();
    while status.account_id.is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let id = status.id.clone().unwrap();
        status = org.describe_create_account_status().create_account_request_id(id).send().await.unwrap().create_account_status.unwrap();
    }
    let account = status.account_id.unwrap();
    let keys = aws_sdk_sts::Client::new(&management)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
        .role_session_name("lfm-ckpt-test")
        .send()
        .await
        .expect("assume OrganizationAccountAccessRole")
        .credentials
        .unwrap();
    (account, Credentials::new(keys.access_key_id, keys.secret_access_key, Some(keys.session_token), None, "member"))
}

/// Five functions; function `i` is active in period `p` unless `(p + i) % 4 == 0`. Returns the
/// seeded `(function, period start)` pairs.
async fn seed(moto: &str, member: Credentials, start: DateTime<Utc>) -> BTreeSet<(String, String)> {
    let config = sdk(moto, member).await;
    let role_arn = aws_sdk_iam::Client::new(&config)
        .create_role()
        .role_name("lfm-ckpt-exec")
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
        .arn;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let mut seeded = BTreeSet::new();
    for i in 0..FUNCTIONS {
        let name = format!("fn{i}");
        lambda
            .create_function()
            .function_name(&name)
            .role(&role_arn)
            .runtime(Runtime::Python312)
            .handler("app.handler")
            .code(FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("create_function {name}: {}", aws_sdk_lambda::error::DisplayErrorContext(&e)));
        let mut data = Vec::new();
        for p in 0..PERIODS {
            if (p + i as i64) % 4 == 0 {
                continue;
            }
            let at = start + TimeDelta::seconds(p * PERIOD);
            seeded.insert((name.clone(), at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            for (metric, value, unit) in
                [("Invocations", 10.0, StandardUnit::Count), ("Errors", 1.0, StandardUnit::Count), ("Duration", 120.0, StandardUnit::Milliseconds)]
            {
                data.push(
                    MetricDatum::builder()
                        .metric_name(metric)
                        .dimensions(Dimension::builder().name("FunctionName").value(&name).build())
                        .timestamp(AwsDateTime::from_secs(at.timestamp() + 30))
                        .value(value)
                        .unit(unit)
                        .build(),
                );
            }
        }
        cloudwatch.put_metric_data().namespace("AWS/Lambda").set_metric_data(Some(data)).send().await.expect("put_metric_data");
    }
    seeded
}

fn config(account: &str, prefix: &str, extra: &[&str], now: DateTime<Utc>) -> Config {
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
    args.extend(extra.iter().map(|s| s.to_string()));
    let Command::Run(run) = Cli::try_parse_from(args).unwrap().command else { panic!("not a run") };
    run.to_config(now).unwrap()
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Every metric document: `(_id, function, @timestamp)`.
async fn metric_docs(http: &reqwest::Client, opensearch: &str, prefix: &str) -> Vec<(String, String, String)> {
    http.post(format!("{opensearch}/{prefix}-metrics-*/_refresh")).send().await.unwrap();
    let body: Value = http
        .post(format!("{opensearch}/{prefix}-metrics-*/_search"))
        .json(&json!({"size": 10000, "query": {"match_all": {}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let s = &h["_source"];
            (h["_id"].as_str().unwrap().into(), s["function_name"].as_str().unwrap().into(), s["@timestamp"].as_str().unwrap().into())
        })
        .collect()
}

async fn checkpoint(http: &reqwest::Client, opensearch: &str, prefix: &str, account: &str) -> Option<String> {
    let doc = get(http, format!("{opensearch}/{prefix}-state/_doc/checkpoint:{account}:{REGION}")).await;
    doc["_source"]["complete_until"].as_str().map(str::to_string)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The run record holds the summary's numbers, and so does the JSON summary.
async fn assert_recorded(http: &reqwest::Client, opensearch: &str, prefix: &str, summary: &RunSummary) {
    assert_eq!(summary.run_record_error, None);
    let record = get(http, format!("{opensearch}/{prefix}-runs/_doc/{}", summary.run_id)).await;
    let record = &record["_source"];
    let json = serde_json::to_value(summary).unwrap();
    assert_eq!(record["metrics_requested"], json["metric_queries"]);
    assert_eq!(record["api_calls"], json["api_calls"]);
    assert_eq!(record["api_calls_total"], summary.api_calls.values().sum::<u64>());
    assert_eq!(record["documents_written"], json["documents_written"]);
    assert_eq!(record["documents_failed"], json["documents_failed_count"]);
    assert_eq!(record["bulk_requests"], json["bulk_requests"]);
    assert_eq!(record["functions"], json["functions"]);
    assert_eq!(record["accounts_ok"], json["accounts_ok"]);
    assert_eq!(record["estimated_cost_usd"], json["estimated_cost"]["total_usd"]);
    assert_eq!(record["checkpoints_advanced"], summary.schedule.checkpoints_advanced.len());
    assert_eq!(record["windows"].as_array().unwrap().len(), summary.schedule.windows.len());
    assert_eq!(record["succeeded"], true);
    let human = summary.to_string();
    assert!(human.contains(&format!("metric queries {}", summary.metric_queries)), "{human}");
    assert!(human.contains(&format!("aws cost    ${:.6}", summary.estimated_cost.total_usd)), "{human}");
    assert!(human.contains(&format!("run         {} (recorded)", summary.run_id)), "{human}");
}

#[tokio::test]
async fn backfills_after_an_outage_without_gaps_or_duplicates() {
    let moto = required_env("LFM_MOTO_URL");
    let opensearch = required_env("LFM_OPENSEARCH_URL");
    std::env::set_var("AWS_ENDPOINT_URL", &moto);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let http = reqwest::Client::new();
    let prefix = format!("lfm-ckpt-{}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis());

    let end = Utc::now().duration_trunc(TimeDelta::seconds(PERIOD)).unwrap();
    let start = end - TimeDelta::seconds(PERIODS * PERIOD);
    let (account, member) = member_account(&moto).await;
    let seeded = seed(&moto, member, start).await;

    // 0. OpenSearch rejects the documents (an index created by hand with a clashing mapping):
    //    the run fails, the pair gets no checkpoint, the run record says why; the next run retries.
    let hour = start + TimeDelta::hours(1);
    let clashing = format!("{prefix}-metrics-{}", start.format("%Y.%m.%d"));
    http.put(format!("{opensearch}/{clashing}"))
        .json(&json!({"mappings": {"properties": {"invocations": {"type": "boolean"}}}}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let rejected = lfm_collector::run(&config(&account, &prefix, &[], hour)).await;
    println!("{rejected}");
    assert!(!rejected.succeeded() && rejected.documents_failed_count > 0, "{rejected}");
    assert!(rejected.schedule.checkpoints_advanced.is_empty());
    assert_eq!(rejected.schedule.checkpoints_kept.len(), 1);
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &account).await, None);
    let record = get(&http, format!("{opensearch}/{prefix}-runs/_doc/{}", rejected.run_id)).await;
    assert_eq!(record["_source"]["succeeded"], false);
    assert_eq!(record["_source"]["accounts"][0]["reasons"], json!(["documents_failed"]));
    http.delete(format!("{opensearch}/{clashing}")).send().await.unwrap().error_for_status().unwrap();

    // 1. One hour into the data, no checkpoint: the first hour, and the checkpoint moves there.
    let first = lfm_collector::run(&config(&account, &prefix, &[], hour)).await;
    println!("{first}");
    assert!(first.succeeded(), "{first}");
    assert!(!first.schedule.explicit_window);
    assert_eq!((first.schedule.windows[0].start, first.schedule.windows[0].end), (start, hour));
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &account).await, Some(rfc(hour)));
    assert_recorded(&http, &opensearch, &prefix, &first).await;

    // 2. Outage; a dry run with a 1 h horizon plans the last hour, reports the older gap and moves nothing.
    let dry = lfm_collector::run(&config(&account, &prefix, &["--dry-run", "--backfill=1h"], Utc::now())).await;
    println!("{dry}");
    assert!(dry.dry_run && dry.schedule.gaps.len() == 1, "{dry}");
    assert_eq!(dry.schedule.gaps[0].start, hour);
    assert_eq!(dry.schedule.checkpoints_advanced.len(), 1, "reports what would move");
    assert_eq!(dry.documents_written, 0);
    assert!(dry.to_string().contains("GAP"));
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &account).await, Some(rfc(hour)), "a dry run moves no checkpoint");

    // 3. The next scheduled run backfills from the checkpoint.
    let backfill = lfm_collector::run(&config(&account, &prefix, &["--backfill=6h"], Utc::now())).await;
    println!("{backfill}");
    assert!(backfill.succeeded(), "{backfill}");
    assert!(backfill.schedule.gaps.is_empty());
    let window = &backfill.schedule.windows[0];
    assert_eq!(window.start, hour);
    assert!(window.end >= end);
    let until = checkpoint(&http, &opensearch, &prefix, &account).await.unwrap();
    assert_eq!(until, rfc(window.end));
    assert_recorded(&http, &opensearch, &prefix, &backfill).await;

    // 4. Union: every seeded (function, period) once, nothing else.
    let docs = metric_docs(&http, &opensearch, &prefix).await;
    let ids: BTreeSet<&String> = docs.iter().map(|(id, _, _)| id).collect();
    let keys: BTreeSet<(String, String)> = docs.iter().map(|(_, f, t)| (f.clone(), t.clone())).collect();
    assert_eq!(ids.len(), docs.len());
    assert_eq!(keys.len(), docs.len(), "no (function, period) twice");
    assert_eq!(keys, seeded, "no gap, nothing extra");
    assert_eq!(first.documents_written_by_index.iter().filter(|(i, _)| i.contains("-metrics-")).map(|(_, n)| n).sum::<u64>()
        + backfill.documents_written_by_index.iter().filter(|(i, _)| i.contains("-metrics-")).map(|(_, n)| n).sum::<u64>(),
        seeded.len() as u64, "each document written once across the two runs");

    // 5. Rerun: up to date, nothing to harvest, no new id; an explicit rerun overwrites the same ids.
    let rerun = lfm_collector::run(&config(&account, &prefix, &[], Utc::now())).await;
    assert!(rerun.succeeded(), "{rerun}");
    assert!(rerun.schedule.windows.is_empty() || rerun.schedule.windows[0].start == window.end, "{rerun}");
    assert_eq!(rerun.api_calls.get("cloudwatch:GetMetricData").copied().unwrap_or(0) > 0, !rerun.schedule.windows.is_empty());
    // Logs Insights reads only the log groups of functions active in the window: none, no query.
    assert_eq!(rerun.api_calls.contains_key("logs:StartQuery"), rerun.functions_active > 0, "{rerun}");
    assert_eq!(first.api_calls.contains_key("logs:StartQuery"), first.functions_active > 0, "{first}");
    let explicit =
        lfm_collector::run(&config(&account, &prefix, &[&format!("--start={}", rfc(start)), &format!("--end={}", rfc(end))], Utc::now())).await;
    assert!(explicit.succeeded(), "{explicit}");
    assert!(explicit.schedule.checkpoints_advanced.is_empty(), "an explicit window never moves a checkpoint back");
    let again = metric_docs(&http, &opensearch, &prefix).await;
    assert_eq!(again.iter().map(|(id, _, _)| id).collect::<BTreeSet<_>>(), ids);
    assert!(checkpoint(&http, &opensearch, &prefix, &account).await.unwrap() >= until);

    http.delete(format!("{opensearch}/{prefix}-*")).send().await.unwrap();
    for name in ["metrics", "inventory", "checkpoints", "runs"] {
        http.delete(format!("{opensearch}/_index_template/{prefix}-{name}")).send().await.unwrap();
    }
}
