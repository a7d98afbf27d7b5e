//! Retention against the real OpenSearch node (`LFM_OPENSEARCH_URL`): back-dated daily
//! metrics indices past `retention_days` are deleted, newer ones and other indices stay.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use lfm_collector::config::OpenSearchConfig;
use lfm_collector::store::opensearch::OpenSearchStore;

#[tokio::test]
async fn back_dated_metrics_indices_past_retention_are_deleted() {
    let url = std::env::var("LFM_OPENSEARCH_URL")
        .expect("LFM_OPENSEARCH_URL: start the test bed (python -m lfm_testbed up)");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("lfm-ret-{nanos}");
    let http = reqwest::Client::new();
    let names = [
        "metrics-2026.11.26",
        "metrics-2026.10.27",
        "metrics-2026.10.26",
        "metrics-2025.01.01",
        "inventory",
    ];
    for name in names {
        let response = http
            .put(format!("{url}/{prefix}-{name}"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{name}: {}",
            response.text().await.unwrap()
        );
    }
    let store = OpenSearchStore::new(&OpenSearchConfig {
        url: url.clone(),
        username: None,
        password: None,
        bulk_max_docs: 500,
    })
    .unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let deleted = store.apply_retention(&prefix, today, 30).await.unwrap();
    assert_eq!(
        deleted,
        vec![
            format!("{prefix}-metrics-2025.01.01"),
            format!("{prefix}-metrics-2026.10.26")
        ]
    );

    let left: Vec<serde_json::Value> = http
        .get(format!("{url}/_cat/indices/{prefix}-*?format=json&h=index"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut left: Vec<String> = left
        .iter()
        .map(|r| r["index"].as_str().unwrap().to_string())
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec![
            format!("{prefix}-inventory"),
            format!("{prefix}-metrics-2026.10.27"),
            format!("{prefix}-metrics-2026.11.26")
        ]
    );
    // Nothing more to delete; a prefix without indices is no error.
    assert!(store
        .apply_retention(&prefix, today, 30)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .apply_retention(&format!("{prefix}-none"), today, 30)
        .await
        .unwrap()
        .is_empty());
    http.delete(format!("{url}/{prefix}-*"))
        .send()
        .await
        .unwrap();
}
