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
use aws_sdk_lambda::types::Runtime;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use clap::Parser;
use lfm_collector::config::cli::{Cli, Command};
use lfm_collector::config::Config;
use lfm_collector::RunSummary;
use serde_json::json;

mod common;

use common::{checkpoint, delete_prefix, execution_role, get_json as get, lambda_datum, member_account, put_lambda_metrics, required_env, rfc, search_hits, zip_function, Member};

const PERIOD: i64 = 300;
const PERIODS: i64 = 36;
const FUNCTIONS: usize = 5;
const REGION: &str = "us-east-1";

/// Five functions; function `i` is active in period `p` unless `(p + i) % 4 == 0`. Returns the
/// seeded `(function, period start)` pairs.
async fn seed(moto: &str, member: Credentials, start: DateTime<Utc>) -> BTreeSet<(String, String)> {
    let config = common::sdk_config(moto, REGION, member).await;
    let role_arn = execution_role(&config, "lfm-ckpt-exec").await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let mut seeded = BTreeSet::new();
    for i in 0..FUNCTIONS {
        let name = format!("fn{i}");
        zip_function(&lambda, &name, &role_arn, Runtime::Python312).await;
        let mut data = Vec::new();
        for p in 0..PERIODS {
            if (p + i as i64) % 4 == 0 {
                continue;
            }
            let at = start + TimeDelta::seconds(p * PERIOD);
            seeded.insert((name.clone(), at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            for (metric, value) in [("Invocations", 10.0), ("Errors", 1.0), ("Duration", 120.0)] {
                data.push(lambda_datum(metric, &name, at + TimeDelta::seconds(30), value));
            }
        }
        put_lambda_metrics(&cloudwatch, data).await;
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

/// Every metric document: `(_id, function, @timestamp)`.
async fn metric_docs(http: &reqwest::Client, opensearch: &str, prefix: &str) -> Vec<(String, String, String)> {
    search_hits(http, opensearch, &format!("{prefix}-metrics-*"))
        .await
        .iter()
        .map(|h| {
            let s = &h["_source"];
            (h["_id"].as_str().unwrap().into(), s["function_name"].as_str().unwrap().into(), s["@timestamp"].as_str().unwrap().into())
        })
        .collect()
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
    common::collector_uses_moto(&moto);
    let http = reqwest::Client::new();
    let prefix = format!("lfm-ckpt-{}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis());

    let end = Utc::now().duration_trunc(TimeDelta::seconds(PERIOD)).unwrap();
    let start = end - TimeDelta::seconds(PERIODS * PERIOD);
    let Member { account, credentials: member } = member_account(&moto, "lfm-ckpt").await;
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
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &account, REGION).await, None);
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
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &account, REGION).await, Some(rfc(hour)));
    assert_recorded(&http, &opensearch, &prefix, &first).await;

    // 2. Outage; a dry run with a 1 h horizon plans the last hour, reports the older gap and moves nothing.
    let dry = lfm_collector::run(&config(&account, &prefix, &["--dry-run", "--backfill=1h"], Utc::now())).await;
    println!("{dry}");
    assert!(dry.dry_run && dry.schedule.gaps.len() == 1, "{dry}");
    assert_eq!(dry.schedule.gaps[0].start, hour);
    assert_eq!(dry.schedule.checkpoints_advanced.len(), 1, "reports what would move");
    assert_eq!(dry.documents_written, 0);
    assert!(dry.to_string().contains("GAP"));
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &account, REGION).await, Some(rfc(hour)), "a dry run moves no checkpoint");

    // 3. The next scheduled run backfills from the checkpoint.
    let backfill = lfm_collector::run(&config(&account, &prefix, &["--backfill=6h"], Utc::now())).await;
    println!("{backfill}");
    assert!(backfill.succeeded(), "{backfill}");
    assert!(backfill.schedule.gaps.is_empty());
    let window = &backfill.schedule.windows[0];
    assert_eq!(window.start, hour);
    assert!(window.end >= end);
    let until = checkpoint(&http, &opensearch, &prefix, &account, REGION).await.unwrap();
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
    assert!(checkpoint(&http, &opensearch, &prefix, &account, REGION).await.unwrap() >= until);

    delete_prefix(&http, &opensearch, &prefix).await;
}
