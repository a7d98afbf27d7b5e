//! Upgrade day against the real OpenSearch node (`LFM_OPENSEARCH_URL`): indices created under
//! an older template version (strict mapping without the REPORT/cost/recommendation fields)
//! accept documents with those fields once the collector has installed its templates.

use std::time::{SystemTime, UNIX_EPOCH};

use lfm_collector::store::opensearch::OpenSearchConfig;
use lfm_collector::store::opensearch::OpenSearchStore;
use lfm_collector::store::IndexedDocument;
use serde_json::{json, Value};

const NEW_METRIC_FIELDS: &[&str] = &[
    "cold_starts",
    "cost_usd",
    "cost_basis",
    "logs_source",
    "memory_utilization",
];
const NEW_INVENTORY_FIELDS: &[&str] =
    &["runtime_status", "recommendations", "recommendation_kinds"];

/// The current template's mapping minus `dropped`: what an index created before them has.
fn old_mapping(prefix: &str, kind: &str, dropped: &[&str]) -> Value {
    let (_, template) = lfm_schema::documents::index_templates(prefix)
        .into_iter()
        .find(|(name, _)| name == &format!("{prefix}-{kind}"))
        .unwrap();
    let mut mappings = template["template"]["mappings"].clone();
    let properties = mappings["properties"].as_object_mut().unwrap();
    for field in dropped {
        properties.remove(*field);
    }
    json!({ "settings": { "number_of_shards": 1, "number_of_replicas": 0 }, "mappings": mappings })
}

#[tokio::test]
async fn indices_created_under_an_older_template_accept_the_new_fields() {
    let url = std::env::var("LFM_OPENSEARCH_URL")
        .expect("LFM_OPENSEARCH_URL: start the test bed (python -m lfm_testbed up)");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("lfm-upg-{nanos}");
    let http = reqwest::Client::new();
    let metrics_index = format!("{prefix}-metrics-2026.11.26");
    let inventory_index = format!("{prefix}-inventory");
    for (index, body) in [
        (
            &metrics_index,
            old_mapping(&prefix, "metrics", NEW_METRIC_FIELDS),
        ),
        (
            &inventory_index,
            old_mapping(&prefix, "inventory", NEW_INVENTORY_FIELDS),
        ),
    ] {
        let response = http
            .put(format!("{url}/{index}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "create {index}: {}",
            response.text().await.unwrap()
        );
    }

    let store = OpenSearchStore::new(&OpenSearchConfig {
        url: url.clone(),
        auth: lfm_collector::store::opensearch::OpenSearchAuth::None,
        bulk_max_docs: 500,
        timeouts: Default::default(),
    })
    .unwrap();
    let metric = json!({
        "@timestamp": "2026-11-26T15:05:00Z", "period_seconds": 300, "account_id": "111122223333",
        "region": "us-east-1", "function_name": "orders", "function_arn": "arn", "invocations": 10,
        "errors": 0, "throttles": 0, "cold_starts": 1, "cost_usd": 0.0001, "cost_basis": "billed",
        "logs_source": "logs_insights", "memory_utilization": 0.5, "collected_at": "2026-11-26T16:00:00Z"
    });
    let inventory = json!({
        "@timestamp": "2026-11-26T16:00:00Z", "collected_at": "2026-11-26T16:00:00Z", "account_id": "111122223333",
        "region": "us-east-1", "function_name": "orders", "function_arn": "arn", "runtime_status": "deprecated",
        "recommendations": [{ "kind": "runtime_upgrade", "message": "m", "evidence": { "invocations": 3 } }],
        "recommendation_kinds": ["runtime_upgrade"]
    });
    let documents = [
        IndexedDocument {
            index: metrics_index.clone(),
            id: "m".into(),
            body: metric,
        },
        IndexedDocument {
            index: inventory_index.clone(),
            id: "i".into(),
            body: inventory,
        },
    ];

    // Before the upgrade the old strict mappings reject the documents: the test is meaningful.
    let before = store.write(&documents).await;
    assert_eq!(before.failed.len(), 2, "{before:?}");
    assert!(
        before
            .failed
            .iter()
            .all(|f| f.reason.contains("strict_dynamic_mapping_exception")),
        "{before:?}"
    );

    store
        .install_templates(&prefix)
        .await
        .expect("templates installed and existing mappings upgraded");
    let after = store.write(&documents).await;
    assert!(after.failed.is_empty(), "{:?}", after.failed);
    assert_eq!(after.written_by_index.values().sum::<u64>(), 2);
    let mapping: Value = http
        .get(format!("{url}/{metrics_index}/_mapping"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        mapping[&metrics_index]["mappings"]["properties"]["cost_basis"]["type"],
        "keyword"
    );
    assert_eq!(mapping[&metrics_index]["mappings"]["dynamic"], "strict");

    // Installing again (nothing new to add, and with no index for a pattern) still succeeds.
    store.install_templates(&prefix).await.expect("idempotent");
    http.delete(format!("{url}/{prefix}-*"))
        .send()
        .await
        .unwrap();
    for name in ["metrics", "inventory", "checkpoints", "runs"] {
        http.delete(format!("{url}/_index_template/{prefix}-{name}"))
            .send()
            .await
            .unwrap();
    }
}
