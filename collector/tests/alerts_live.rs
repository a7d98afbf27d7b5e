//! The alert stage against the test bed's real OpenSearch node (needs `LFM_OPENSEARCH_URL`:
//! `eval "$(scripts/testbed env)"` after `scripts/testbed up`).
//!
//! Under a private prefix: rule documents and metric documents written directly (as the
//! provider and a run would), then the stage: one `_msearch`, one `_refresh`, one history
//! search, one `_bulk` of transitions and states. Checks the transitions and states in
//! OpenSearch, the request count, that a rerun adds nothing, and that an installation
//! without rules costs one request.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use lfm_collector::alert::deliver::DeliverySettings;
use lfm_collector::alert::AlertStage;
use lfm_collector::store::opensearch::{OpenSearchAuth, OpenSearchConfig, OpenSearchStore, Timeouts};
use lfm_collector::store::IndexedDocument;
use lfm_collector::time_limit::TimeLimit;
use serde_json::{json, Value};

mod common;

use common::{delete_prefix, required_env, rfc, search_hits, unique};

const ACCOUNT: &str = "210987654321";

fn store(url: &str) -> OpenSearchStore {
    let config = OpenSearchConfig { url: url.into(), auth: OpenSearchAuth::None, bulk_max_docs: 1000, timeouts: Timeouts::default() };
    OpenSearchStore::new(&config).unwrap()
}

fn settings() -> DeliverySettings {
    DeliverySettings {
        sdk: aws_types::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build(),
        budget: std::time::Duration::from_secs(5),
        limit: TimeLimit::NONE,
        webhook_ca_file: None,
    }
}

fn metric(prefix: &str, name: &str, start: DateTime<Utc>, invocations: u64, errors: u64) -> IndexedDocument {
    let arn = format!("arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}");
    let body = json!({
        "@timestamp": rfc(start), "period_seconds": 300, "account_id": ACCOUNT, "region": "eu-west-1",
        "function_name": name, "function_arn": arn, "invocations": invocations, "errors": errors,
        "throttles": 0, "error_rate": errors as f64 / invocations as f64, "collected_at": rfc(start)
    });
    let index = format!("{prefix}-metrics-{}", start.format("%Y.%m.%d"));
    IndexedDocument { index, id: format!("{arn}:{}", start.timestamp()), body }
}

fn rule(name: &str) -> Value {
    json!({
        "name": name, "kind": "threshold", "enabled": true, "description": "errors above 5%", "severity": "critical",
        "metric": "error_rate", "comparison": "GreaterThanThreshold", "threshold": 0.05,
        "datapoints_to_alarm": 2, "evaluation_periods": 3, "min_invocations": 10,
        "account_ids": [ACCOUNT], "regions": [], "function_name_pattern": "live-*", "runtimes": [],
        "destinations": [], "renotify_minutes": 240, "regression_metrics": [], "updated_at": "2026-11-26T00:00:00Z"
    })
}

#[tokio::test]
async fn the_stage_reads_once_evaluates_writes_and_a_rerun_adds_nothing() {
    let url = required_env("LFM_OPENSEARCH_URL");
    let http = reqwest::Client::new();
    let prefix = format!("lfm-alerts-{}", unique());
    let store = store(&url);
    store.install_templates(&prefix).await.unwrap();

    // A fresh installation: no rules, one request, nothing else.
    let stage = AlertStage::start(&store, &prefix).await;
    let now = Utc::now();
    let report = stage.finish(&store, "run-0", now, 300, &settings()).await;
    assert_eq!(report.opensearch_requests, 1, "{report:?}");
    assert!(report.errors.is_empty(), "{report:?}");

    // Rules as the provider writes them: one valid, one invalid (M > N).
    let mut bad = rule("bad");
    bad["datapoints_to_alarm"] = json!(5);
    for (id, doc) in [("live-errors", rule("live-errors")), ("bad", bad)] {
        let r = http.put(format!("{url}/{prefix}-alert-rules/_doc/{id}?refresh=true")).json(&doc).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    // Three periods: live-bad breaches in all three, live-ok never, other-bad is out of scope.
    let newest = (now - TimeDelta::minutes(10)).duration_trunc(TimeDelta::minutes(5)).unwrap();
    let mut earlier = Vec::new();
    let mut this_run = Vec::new();
    for k in 0..3 {
        let start = newest - TimeDelta::minutes(5 * (2 - k));
        let batch = if k < 2 { &mut earlier } else { &mut this_run };
        batch.push(metric(&prefix, "live-bad", start, 100, 20));
        batch.push(metric(&prefix, "live-ok", start, 100, 1));
        batch.push(metric(&prefix, "other-bad", start, 100, 50));
    }
    // Earlier runs' documents are already searchable; this run's are written just before.
    store.write(&earlier).await;
    http.post(format!("{url}/{prefix}-metrics-*/_refresh")).send().await.unwrap();

    for run in 1..=2 {
        let mut stage = AlertStage::start(&store, &prefix).await;
        let written = store.write(&this_run).await;
        assert!(written.failed.is_empty(), "{:?}", written.failed);
        stage.observe(&this_run);
        let report = stage.finish(&store, &format!("run-{run}"), Utc::now(), 300, &settings()).await;
        assert_eq!(report.rules, 1, "{report:?}");
        assert_eq!(report.rules_invalid, 1);
        assert!(report.errors.iter().any(|e| e.contains("\"bad\"") && e.contains("datapoints_to_alarm")), "{:?}", report.errors);
        assert_eq!(report.history_documents, 3, "three periods of live-bad: {report:?}");
        if run == 1 {
            assert_eq!(report.evaluated, 1);
            assert_eq!(report.transitions.firing, 1, "{report:?}");
            // msearch + refresh + history + one _bulk of transitions and states.
            assert_eq!(report.opensearch_requests, 4, "{report:?}");
        } else {
            // The state is open: evaluated again, nothing changed, nothing written.
            assert_eq!(report.evaluated, 1);
            assert_eq!(report.transitions, Default::default(), "{report:?}");
            assert_eq!(report.opensearch_requests, 3, "{report:?}");
        }
    }

    let transitions = search_hits(&http, &url, &format!("{prefix}-alerts")).await;
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    let t = &transitions[0]["_source"];
    assert_eq!(t["transition"], "firing");
    assert_eq!(t["function_name"], "live-bad");
    assert_eq!(t["breaching_periods"], 3);
    assert_eq!(t["notification_status"], "not_required");
    assert!(t["reason"].as_str().unwrap().starts_with("error_rate 20% > 5% in 3 of 3 periods"), "{t}");
    let states = search_hits(&http, &url, &format!("{prefix}-alert-state")).await;
    assert_eq!(states.len(), 1);
    assert_eq!(states[0]["_id"], format!("live-errors|arn:aws:lambda:eu-west-1:{ACCOUNT}:function:live-bad"));
    assert_eq!(states[0]["_source"]["status"], "firing");

    delete_prefix(&http, &url, &prefix).await;
    for name in ["alert-rules", "alert-destinations", "alert-state", "alerts", "deployments"] {
        http.delete(format!("{url}/_index_template/{prefix}-{name}")).send().await.unwrap();
    }
}
