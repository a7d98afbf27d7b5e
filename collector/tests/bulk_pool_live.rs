//! Pooled `_bulk` requests carry at least 500 documents (collector issue 3's target), on the
//! test bed's moto and real OpenSearch node (`LFM_MOTO_URL`, `LFM_OPENSEARCH_URL`).
//!
//! Two member accounts, 17 functions and 1, every function invoked in every minute of one hour
//! (`--period=60`): 61 documents per function (60 metrics + 1 inventory), 1,037 and 61, 1,098
//! in all, with `bulk_max_docs` at its default (1,000). The collector talks to OpenSearch
//! through a recording pass-through on loopback (every request forwarded unchanged to the real
//! node, its answer returned unchanged) that counts the fleet documents of each `_bulk`
//! request as sent. Pooled, the requests are [1,000, 98] whichever account finishes first: no
//! request but the last below 500, none above `bulk_max_docs`. Without pooling they would be
//! [1,000, 37] and [61] (a request that is not the last below 500 in either order), so the test
//! fails if pooling breaks. Summary and run record carry the same numbers.

mod common;

use aws_sdk_lambda::types::Runtime;
use chrono::{DurationRound, TimeDelta, Utc};
use clap::Parser;
use common::{
    collector_uses_moto, delete_prefix, execution_role, get_json, lambda_datum, member_account, put_lambda_metrics, required_env, rfc,
    sdk_config, zip_function, Member,
};
use lfm_collector::config::cli::{Cli, Command};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const REGION: &str = "us-east-1";
/// Functions per account: one large, one small.
const FUNCTIONS: [usize; 2] = [17, 1];
const PERIOD: i64 = 60;
const PERIODS: i64 = 60;
const TARGET: u64 = 500;

/// A loopback HTTP/1.1 pass-through to `upstream` that records the number of documents (action
/// lines) of each `_bulk` request in order. Returns its URL.
async fn recording_proxy(upstream: String, bulks: Arc<Mutex<Vec<usize>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let (client, upstream, bulks) = (client.clone(), upstream.clone(), bulks.clone());
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut request_line = String::new();
                    if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = request_line.split_whitespace();
                    let (method, target) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
                    let mut headers = Vec::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        read.read_line(&mut line).await.unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap();
                        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
                        assert_ne!(name, "transfer-encoding", "the pass-through reads Content-Length bodies only");
                        if name == "content-length" {
                            length = value.parse().unwrap();
                        }
                        if !["host", "content-length", "connection"].contains(&name.as_str()) {
                            headers.push((name, value));
                        }
                    }
                    let mut body = vec![0; length];
                    read.read_exact(&mut body).await.unwrap();
                    if target.split('?').next().unwrap().ends_with("/_bulk") {
                        // Documents of the fleet (metrics, inventory); checkpoints and the run
                        // record are written with _bulk too, in requests of their own.
                        let text = String::from_utf8_lossy(&body).to_string();
                        let actions: Vec<&str> = text.lines().filter(|l| l.starts_with("{\"index\"")).collect();
                        let fleet = actions.iter().filter(|l| l.contains("-metrics-") || l.contains("-inventory\"")).count();
                        if fleet > 0 {
                            assert_eq!(fleet, actions.len(), "fleet documents are not mixed with bookkeeping: {text:.300}");
                            bulks.lock().unwrap().push(fleet);
                        }
                    }
                    let mut forward = client.request(method.parse().unwrap(), format!("{upstream}{target}")).body(body);
                    for (name, value) in headers {
                        forward = forward.header(name, value);
                    }
                    let answer = forward.send().await.unwrap();
                    let status = answer.status();
                    let content_type = answer.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let bytes = if method == "HEAD" { Vec::new() } else { answer.bytes().await.unwrap().to_vec() };
                    let head = format!(
                        "HTTP/1.1 {} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or(""),
                        bytes.len()
                    );
                    write.write_all(head.as_bytes()).await.unwrap();
                    write.write_all(&bytes).await.unwrap();
                }
            });
        }
    });
    url
}

async fn seed(moto: &str, member: &Member, functions: usize, start: chrono::DateTime<Utc>) {
    let config = sdk_config(moto, REGION, member.credentials.clone()).await;
    let role = execution_role(&config, "lfm-bulk-exec").await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let mut data = Vec::new();
    for i in 0..functions {
        let name = format!("fn{i:02}");
        zip_function(&lambda, &name, &role, Runtime::Python312).await;
        data.extend((0..PERIODS).map(|p| lambda_datum("Invocations", &name, start + TimeDelta::seconds(p * PERIOD + 5), 1.0)));
    }
    put_lambda_metrics(&aws_sdk_cloudwatch::Client::new(&config), data).await;
}

#[tokio::test]
async fn two_small_accounts_fill_bulk_requests_of_at_least_500_documents() {
    let moto = required_env("LFM_MOTO_URL");
    let opensearch = required_env("LFM_OPENSEARCH_URL").trim_end_matches('/').to_string();
    collector_uses_moto(&moto);
    let http = reqwest::Client::new();
    let prefix = format!("lfm-bulk-{}", common::unique());
    let bulks = Arc::new(Mutex::new(Vec::new()));
    let through = recording_proxy(opensearch.clone(), bulks.clone()).await;

    let start = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(2);
    let end = start + TimeDelta::seconds(PERIOD * PERIODS);
    let members = [member_account(&moto, "lfm-bulk-a").await, member_account(&moto, "lfm-bulk-b").await];
    for (member, functions) in members.iter().zip(FUNCTIONS) {
        seed(&moto, member, functions, start).await;
    }

    let args = [
        "lfm-collector".to_string(),
        "run".into(),
        format!("--accounts={},{}", members[0].account, members[1].account),
        format!("--regions={REGION}"),
        "--role-name=OrganizationAccountAccessRole".into(),
        format!("--index-prefix={prefix}"),
        format!("--opensearch-url={through}"),
        format!("--period={PERIOD}"),
        format!("--start={}", rfc(start)),
        format!("--end={}", rfc(end)),
    ];
    let Command::Run(run) = Cli::try_parse_from(args).unwrap().command else { panic!("not a run") };
    let config = run.to_config(Utc::now()).unwrap();
    assert_eq!(config.opensearch.bulk_max_docs, lfm_collector::config::DEFAULT_BULK_MAX_DOCS, "the default");
    let max = config.opensearch.bulk_max_docs as u64;

    let summary = lfm_collector::run(&config).await;
    println!("{summary}");
    assert!(summary.succeeded(), "{summary}");
    let documents = FUNCTIONS.iter().sum::<usize>() as u64 * (PERIODS as u64 + 1);
    assert_eq!(summary.documents_written, documents, "{summary}");
    let requests = summary.bulk_requests;
    assert_eq!(requests, documents.div_ceil(max), "full requests of bulk_max_docs, then the rest");
    let per_bulk = summary.documents_written as f64 / requests as f64;
    println!("docs per bulk: {per_bulk:.1} ({documents} documents in {requests} requests, bulk_max_docs {max})");
    assert!(per_bulk >= TARGET as f64, "{per_bulk}");
    // As sent: every request but the last carries at least 500 (here: full), none more than the maximum.
    let sizes = bulks.lock().unwrap().clone();
    println!("documents per _bulk request as sent: {sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>() as u64, documents, "{sizes:?}");
    assert_eq!(sizes.len() as u64, requests, "{sizes:?}");
    let (last, others) = sizes.split_last().unwrap();
    assert!(others.iter().all(|&n| n as u64 >= TARGET && n as u64 <= max), "{sizes:?}");
    assert!(*last as u64 <= max && *last > 0, "{sizes:?}");
    assert_eq!(sizes, [1000, 98], "pooled across the two accounts, in either order");

    // The run record carries the same figures.
    let record = get_json(&http, format!("{opensearch}/{prefix}-runs/_doc/{}", summary.run_id)).await;
    let record = &record["_source"];
    assert_eq!(record["documents_written"], documents);
    assert_eq!(record["bulk_requests"], requests);
    assert_eq!(record["succeeded"], true);

    delete_prefix(&http, &opensearch, &prefix).await;
}
