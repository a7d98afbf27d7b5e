//! One account failing does not stop the others (collector issue 3), on the test bed's real
//! parts: moto with the motoext STS layer, which answers `AccessDenied` like AWS when a role's
//! trust policy does not allow the caller, and a real OpenSearch node. Needs `LFM_MOTO_URL`
//! and `LFM_OPENSEARCH_URL` (`eval "$(python -m lfm_testbed env)"`).
//!
//! Three member accounts get a monitoring role; two trust the collector's (management)
//! account, the third trusts another account. The `lfm-collector` binary runs on its
//! checkpoints (no `--start/--end`): the two trusting accounts are collected (documents
//! written, checkpoints moved), the third is reported as failed with STS's reason and the role
//! ARN in the summary and the run record, its checkpoint does not move, and the process exits
//! with status 1, as `lfm-collector` documents for a run in which an account was not
//! collected. A second run (human summary) finds the two up to date and the third still denied.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use aws_sdk_lambda::types::Runtime;
use chrono::{DurationRound, TimeDelta, Utc};
use common::{
    checkpoint, collector_uses_moto, delete_prefix, execution_role, get_json, lambda_datum, member_account, put_lambda_metrics,
    required_env, rfc, sdk_config, search_hits, test_keys, zip_function, Member,
};
use serde_json::{json, Value};

const REGION: &str = "us-east-1";
const PERIOD: i64 = 300;
const FUNCTIONS: usize = 2;

/// A monitoring role named `name` in `member` whose trust policy allows `trusted` (an account id).
async fn monitoring_role(moto: &str, member: &Member, name: &str, trusted: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&sdk_config(moto, REGION, member.credentials.clone()).await);
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                   "Principal": {"AWS": format!("arn:aws:iam::{trusted}:root")}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("create monitoring role")
        .role
        .unwrap()
        .arn
}

/// Two functions, each invoked in every period from 70 min before `boundary` to 10 min after
/// it (the collector's default window is the hour before the last boundary at run time).
async fn seed(moto: &str, member: &Member, boundary: chrono::DateTime<Utc>) {
    let config = sdk_config(moto, REGION, member.credentials.clone()).await;
    let role = execution_role(&config, "lfm-denied-exec").await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let mut data = Vec::new();
    for i in 0..FUNCTIONS {
        let name = format!("fn{i}");
        zip_function(&lambda, &name, &role, Runtime::Python312).await;
        for p in -14..2 {
            let at = boundary + TimeDelta::seconds(p * PERIOD + 20);
            data.push(lambda_datum("Invocations", &name, at, 5.0));
            data.push(lambda_datum("Duration", &name, at, 80.0));
        }
    }
    put_lambda_metrics(&aws_sdk_cloudwatch::Client::new(&config), data).await;
}

fn run_collector(accounts: &[&str], role_name: &str, prefix: &str, extra: &[&str]) -> std::process::Output {
    let opensearch = required_env("LFM_OPENSEARCH_URL");
    Command::new(env!("CARGO_BIN_EXE_lfm-collector"))
        .arg("run")
        .arg(format!("--accounts={}", accounts.join(",")))
        .arg(format!("--regions={REGION}"))
        .arg(format!("--role-name={role_name}"))
        .arg(format!("--index-prefix={prefix}"))
        .arg(format!("--opensearch-url={opensearch}"))
        .arg("--settle=0s")
        .args(extra)
        .output()
        .expect("run lfm-collector")
}

async fn metric_accounts(http: &reqwest::Client, opensearch: &str, prefix: &str) -> Vec<String> {
    search_hits(http, opensearch, &format!("{prefix}-metrics-*"))
        .await
        .iter()
        .map(|h| h["_source"]["account_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_denied_account_is_reported_while_the_others_complete() {
    let moto = required_env("LFM_MOTO_URL");
    let opensearch = required_env("LFM_OPENSEARCH_URL").trim_end_matches('/').to_string();
    collector_uses_moto(&moto); // the binary inherits the environment
    let http = reqwest::Client::new();
    let suffix = common::unique();
    let prefix = format!("lfm-denied-{suffix}");
    let role_name = format!("lfm-denied-mon-{suffix}");

    let management = aws_sdk_sts::Client::new(&sdk_config(&moto, REGION, test_keys()).await)
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity")
        .account
        .unwrap();
    let boundary = Utc::now().duration_trunc(TimeDelta::seconds(PERIOD)).unwrap();
    let ok_a = member_account(&moto, "lfm-denied-a").await;
    let ok_b = member_account(&moto, "lfm-denied-b").await;
    let denied = member_account(&moto, "lfm-denied-c").await;
    for member in [&ok_a, &ok_b] {
        monitoring_role(&moto, member, &role_name, &management).await;
        seed(&moto, member, boundary).await;
    }
    let denied_role = monitoring_role(&moto, &denied, &role_name, "444455556666").await;
    seed(&moto, &denied, boundary).await;
    let accounts = [ok_a.account.as_str(), ok_b.account.as_str(), denied.account.as_str()];

    // 1. JSON summary: exit status 1, two accounts ok, the third failed with STS's reason.
    let out = run_collector(&accounts, &role_name, &prefix, &["--output=json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "an account not collected: exit status 1\n{stderr}");
    let summary: Value = serde_json::from_str(&stdout).expect("JSON summary on stdout");
    assert_eq!((summary["accounts_ok"].as_u64(), summary["accounts_failed"].as_u64()), (Some(2), Some(1)), "{summary:#}");
    assert!(summary["fatal_error"].is_null());
    let by_account = |id: &str| summary["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == id).cloned().unwrap();
    for ok in [&ok_a, &ok_b] {
        let a = by_account(&ok.account);
        assert_eq!((a["status"].as_str(), a["functions"].as_u64()), (Some("ok"), Some(FUNCTIONS as u64)), "{a}");
    }
    let failed = by_account(&denied.account);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["functions"], 0);
    let reason = failed["errors"][0].as_str().unwrap();
    assert!(reason.contains("sts:AssumeRole") && reason.contains("AccessDenied") && reason.contains(&denied_role), "{reason}");
    assert!(
        reason.contains(&format!("not authorized to perform: sts:AssumeRole on resource: {denied_role}")),
        "STS's own message is kept: {reason}"
    );
    assert!(stderr.contains(&denied_role), "the failure is logged: {stderr}");
    assert_eq!(summary["api_calls"]["sts:AssumeRole"], 3);
    assert_eq!(summary["api_calls"]["lambda:ListFunctions"], 2, "nothing is called in the denied account");

    // The window the run chose; the two trusting accounts' documents are all there.
    let window_end: chrono::DateTime<Utc> = summary["window"]["end"].as_str().unwrap().parse().unwrap();
    let window_start: chrono::DateTime<Utc> = summary["window"]["start"].as_str().unwrap().parse().unwrap();
    let periods = ((window_end - window_start).num_seconds() / PERIOD) as usize;
    assert_eq!(periods, 12, "{summary:#}");
    let metrics_written: u64 = summary["documents_written_by_index"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(index, _)| index.contains("-metrics-"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(metrics_written, (2 * FUNCTIONS * periods) as u64, "{summary:#}");
    assert_eq!(summary["documents_written_by_index"][format!("{prefix}-inventory")], 2 * FUNCTIONS as u64);
    assert_eq!(summary["documents_failed_count"], 0);
    let in_opensearch = metric_accounts(&http, &opensearch, &prefix).await;
    assert_eq!(in_opensearch.len(), 2 * FUNCTIONS * periods);
    assert_eq!(
        in_opensearch.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from([ok_a.account.as_str(), ok_b.account.as_str()])
    );

    // Checkpoints: moved to the window's end for the two, none for the denied account.
    for ok in [&ok_a, &ok_b] {
        assert_eq!(checkpoint(&http, &opensearch, &prefix, &ok.account, REGION).await, Some(rfc(window_end)));
    }
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &denied.account, REGION).await, None);
    let advanced: BTreeSet<&str> =
        summary["schedule"]["checkpoints_advanced"].as_array().unwrap().iter().map(|w| w["account_id"].as_str().unwrap()).collect();
    assert_eq!(advanced, BTreeSet::from([ok_a.account.as_str(), ok_b.account.as_str()]));
    let kept = summary["schedule"]["checkpoints_kept"].as_array().unwrap();
    assert!(kept.len() == 1 && kept[0].as_str().unwrap().contains(&denied.account), "{kept:?}");

    // The run record: failed run, the denied account classed assume_role_denied with the reason.
    let run_id = summary["run_id"].as_str().unwrap();
    assert!(summary["run_record_error"].is_null(), "{summary:#}");
    let record = get_json(&http, format!("{opensearch}/{prefix}-runs/_doc/{run_id}")).await;
    let record = &record["_source"];
    assert_eq!(record["succeeded"], false);
    assert_eq!(record["accounts_ok"], 2);
    let recorded = |id: &str| record["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == id).cloned().unwrap();
    let r = recorded(&denied.account);
    assert_eq!((r["status"].as_str(), r["reasons"].clone()), (Some("failed"), json!(["assume_role_denied"])), "{r}");
    assert!(r["errors"][0].as_str().unwrap().contains("AccessDenied") && r["errors"][0].as_str().unwrap().contains(&denied_role));
    for ok in [&ok_a, &ok_b] {
        assert_eq!(recorded(&ok.account)["status"], "ok");
    }

    // 2. Next scheduled run, human summary: the two are up to date, the third still denied and
    //    still without a checkpoint.
    let out = run_collector(&accounts, &role_name, &prefix, &[]);
    let human = String::from_utf8_lossy(&out.stdout);
    println!("{human}");
    assert_eq!(out.status.code(), Some(1), "{human}");
    assert!(human.contains("LFM collection FAILED") && human.contains("accounts    2 ok, 1 failed"), "{human}");
    assert!(human.contains(&format!("  {} failed ", denied.account)), "{human}");
    assert!(human.contains("AccessDenied") && human.contains(&denied_role), "{human}");
    for ok in [&ok_a, &ok_b] {
        // (later only if a period ended between the runs)
        assert!(checkpoint(&http, &opensearch, &prefix, &ok.account, REGION).await.unwrap() >= rfc(window_end));
    }
    assert_eq!(checkpoint(&http, &opensearch, &prefix, &denied.account, REGION).await, None);

    delete_prefix(&http, &opensearch, &prefix).await;
}
