//! `opensearch_auth = sigv4` over the wire: the store's requests go through the test bed's
//! `lfm_testbed.sigv4_proxy`, which checks each AWS Signature Version 4 with botocore the way
//! Amazon OpenSearch Service does (key, `es`/region scope, session token, payload hash,
//! signature over path, query and body) and forwards only verified requests to the real
//! OpenSearch node (`LFM_OPENSEARCH_URL`). Templates, mapping upgrades, `_bulk`, checkpoints
//! (`_mget`), the retention listing and deletes must all verify; credentials come from the
//! default chain (environment, as on Lambda: key, secret and session token). Needs `LFM_PY`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{NaiveDate, TimeZone, Utc};
use lfm_collector::store::opensearch::{OpenSearchAuth, OpenSearchConfig, SigV4Service};
use lfm_collector::store::opensearch::checkpoint::checkpoint_document;
use lfm_collector::store::opensearch::OpenSearchStore;
use serde_json::Value;

const KEY: &str = "AKIDLFMSIGV4LIVE";
const SECRET: &str = "sigv4/live+secret";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/lambda+session=";
const REGION: &str = "eu-west-1";

struct SigV4Proxy {
    child: Child,
    url: String,
}

impl SigV4Proxy {
    fn start(upstream: &str, service: &str) -> SigV4Proxy {
        let python = std::env::var("LFM_PY")
            .unwrap_or_else(|_| panic!("LFM_PY is not set: `source scripts/env.sh` (the test bed's venv python)."));
        let testbed = concat!(env!("CARGO_MANIFEST_DIR"), "/../testbed");
        let mut child = Command::new(python)
            .args(["-m", "lfm_testbed.sigv4_proxy", "--upstream", upstream, "--port", "0"])
            .args(["--access-key-id", KEY, "--secret-access-key", SECRET, "--session-token", TOKEN])
            .args(["--service", service, "--region", REGION])
            .env("PYTHONPATH", testbed)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start lfm_testbed.sigv4_proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("sigv4_proxy said {line:?}: {e}"));
        SigV4Proxy { child, url: info["url"].as_str().unwrap().to_owned() }
    }

    async fn records(&self) -> Vec<Value> {
        reqwest::get(format!("{}/_sigv4_proxy/requests", self.url)).await.unwrap().json().await.unwrap()
    }
}

impl Drop for SigV4Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn store(url: &str, service: SigV4Service) -> OpenSearchStore {
    OpenSearchStore::new(&OpenSearchConfig {
        url: url.to_owned(),
        auth: OpenSearchAuth::SigV4 { service, region: Some(REGION.into()) },
        bulk_max_docs: 500,
        timeouts: Default::default(),
    })
    .unwrap()
}

#[tokio::test]
async fn every_store_request_verifies_at_an_iam_checking_endpoint() {
    let opensearch = std::env::var("LFM_OPENSEARCH_URL")
        .expect("LFM_OPENSEARCH_URL: start the test bed (python -m lfm_testbed up)");
    // The default credentials chain reads these, as on Lambda (the execution role's session).
    std::env::set_var("AWS_ACCESS_KEY_ID", KEY);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET);
    std::env::set_var("AWS_SESSION_TOKEN", TOKEN);
    std::env::set_var("AWS_REGION", REGION);
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::remove_var("AWS_PROFILE");

    let proxy = SigV4Proxy::start(&opensearch, "es");
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000_000;
    let prefix = format!("lfm-test-sigv4-{nanos}");
    let http = reqwest::Client::new();
    // An expired daily index, made directly on the node (no IAM there).
    let old_index = format!("{prefix}-metrics-2020.01.01");
    assert!(http.put(format!("{opensearch}/{old_index}")).send().await.unwrap().status().is_success());

    let store = store(&proxy.url, SigV4Service::Es);
    let installed = store.install_templates(&prefix).await.expect("templates through the proxy");
    assert!(!installed.is_empty());

    let at = Utc.with_ymd_and_hms(2026, 11, 26, 15, 0, 0).unwrap();
    let checkpoint = checkpoint_document(&prefix, "111122223333", "us-east-1", at, 300, "run-sigv4", at);
    let report = store.write(&[checkpoint]).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.written_by_index.values().sum::<u64>(), 1);
    http.post(format!("{opensearch}/{prefix}-state/_refresh")).send().await.unwrap();
    let pairs = [("111122223333".to_string(), "us-east-1".to_string())];
    let checkpoints = store.load_checkpoints(&prefix, &pairs).await.expect("checkpoints through the proxy");
    assert_eq!(checkpoints[&pairs[0]], at);

    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let retention = store.apply_retention(&prefix, today, 30).await;
    assert!(retention.errors.is_empty(), "{:?}", retention.errors);
    assert_eq!(retention.deleted, vec![old_index.clone()]);
    assert_eq!(http.head(format!("{opensearch}/{old_index}")).send().await.unwrap().status(), 404);

    // Every request verified, signed with the session token; every method the store uses.
    let records = proxy.records().await;
    let refused: Vec<&Value> = records.iter().filter(|r| r["verified"] != true).collect();
    assert!(refused.is_empty(), "refused by the IAM check: {refused:#?}");
    assert!(records.iter().all(|r| r["session_token"] == true), "{records:#?}");
    let seen = |method: &str, path_part: &str| {
        records.iter().any(|r| r["method"] == method && r["path"].as_str().unwrap().contains(path_part))
    };
    assert!(seen("PUT", "/_index_template/"), "{records:#?}");
    assert!(seen("PUT", "/_mapping?"), "{records:#?}");
    assert!(seen("POST", "/_bulk"), "{records:#?}");
    assert!(seen("POST", "-state/_mget"), "{records:#?}");
    assert!(seen("GET", "/_cat/indices/"), "{records:#?}");
    assert!(seen("DELETE", &old_index), "{records:#?}");

    // Signed for the wrong service: the endpoint refuses, and the error says so.
    let wrong = store_error(&proxy.url, SigV4Service::Aoss, &prefix).await;
    assert!(wrong.contains("403") && wrong.contains("Credential should be scoped to correct service: 'es'"), "{wrong}");

    for pattern in [format!("{prefix}-*")] {
        let _ = http.delete(format!("{opensearch}/{pattern}")).send().await;
    }
    for (name, _) in lfm_schema::documents::index_templates(&prefix) {
        let _ = http.delete(format!("{opensearch}/_index_template/{name}")).send().await;
    }
}

async fn store_error(url: &str, service: SigV4Service, prefix: &str) -> String {
    match store(url, service).install_templates(prefix).await {
        Ok(_) => panic!("templates installed with a signature for the wrong service"),
        Err(e) => e.to_string(),
    }
}
