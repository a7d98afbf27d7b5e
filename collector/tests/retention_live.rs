//! Retention against the real OpenSearch node (`LFM_OPENSEARCH_URL`): back-dated daily
//! metrics indices past `retention_days` are deleted, newer ones and other indices stay; a
//! collector run with `--retention-days` (AWS: `LFM_MOTO_URL`) records the deletions in its
//! summary and in its run record.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use lfm_collector::store::opensearch::OpenSearchConfig;
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
        auth: lfm_collector::store::opensearch::OpenSearchAuth::None,
        bulk_max_docs: 500,
        timeouts: Default::default(),
    })
    .unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let report = store.apply_retention(&prefix, today, 30).await;
    assert_eq!(report.errors, Vec::<String>::new());
    assert_eq!(
        report.deleted,
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
    for again in [prefix.clone(), format!("{prefix}-none")] {
        let report = store.apply_retention(&again, today, 30).await;
        assert!(
            report.deleted.is_empty() && report.errors.is_empty(),
            "{report:?}"
        );
    }
    http.delete(format!("{url}/{prefix}-*"))
        .send()
        .await
        .unwrap();
}

/// A run with `--retention-days` puts what it deleted in the summary and the run record; a
/// deletion OpenSearch refuses (a read-only index: `index.blocks.read_only`) is an error in
/// both, the index stays, and the run still succeeds.
#[tokio::test]
async fn a_run_records_the_indices_it_deleted_and_the_ones_it_could_not() {
    use clap::Parser;
    use lfm_collector::config::cli::{Cli, Command};

    let url = std::env::var("LFM_OPENSEARCH_URL")
        .expect("LFM_OPENSEARCH_URL: start the test bed (python -m lfm_testbed up)");
    let moto = std::env::var("LFM_MOTO_URL")
        .expect("LFM_MOTO_URL: start the test bed (python -m lfm_testbed up)");
    std::env::set_var("AWS_ENDPOINT_URL", &moto);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("lfm-retrun-{nanos}");
    let http = reqwest::Client::new();
    let today = chrono::Utc::now().date_naive();
    let day = |days_ago: u64| {
        let date = today - chrono::Days::new(days_ago);
        format!("{prefix}-metrics-{}", date.format("%Y.%m.%d"))
    };
    let (kept, expired, refused) = (day(30), day(31), day(40));
    for index in [&kept, &expired, &refused] {
        let response = http.put(format!("{url}/{index}")).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{index}: {}",
            response.text().await.unwrap()
        );
    }
    // DELETE of a read-only index answers 403 cluster_block_exception.
    http.put(format!("{url}/{refused}/_settings"))
        .json(&serde_json::json!({"index.blocks.read_only": true}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();

    // The role the collector assumes; an account without functions is enough here.
    let role = format!("lfm-retrun-{nanos}");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto)
        .region(aws_types::region::Region::new("us-east-1"))
        .load()
        .await;
    aws_sdk_iam::Client::new(&sdk)
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("create the collector's role");

    let args = [
        "lfm-collector".to_string(),
        "run".into(),
        "--accounts=123456789012".into(),
        "--regions=us-east-1".into(),
        format!("--role-name={role}"),
        format!("--index-prefix={prefix}"),
        format!("--opensearch-url={url}"),
        "--retention-days=30".into(),
    ];
    let Command::Run(run) = Cli::try_parse_from(args).unwrap().command else {
        panic!("not a run")
    };
    let summary = lfm_collector::run(&run.to_config(chrono::Utc::now()).unwrap()).await;
    println!("{summary}");
    assert!(
        summary.succeeded(),
        "a refused deletion does not fail the run: {summary}"
    );
    let retention = summary.retention.clone().expect("retention in the summary");
    assert_eq!(retention.retention_days, 30);
    assert_eq!(retention.deleted, vec![expired.clone()]);
    assert_eq!(retention.errors.len(), 1, "{:?}", retention.errors);
    assert!(
        retention.errors[0].contains(&refused) && retention.errors[0].contains("403"),
        "{:?}",
        retention.errors
    );
    let human = summary.to_string();
    assert!(
        human.contains("retention   30 days: 1 indices deleted, 1 errors"),
        "{human}"
    );
    assert!(human.contains(&format!("  deleted {expired}")), "{human}");

    assert_eq!(summary.run_record_error, None);
    let record: serde_json::Value = http
        .get(format!("{url}/{prefix}-runs/_doc/{}", summary.run_id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = &record["_source"]["retention"];
    assert_eq!(recorded["retention_days"], 30);
    assert_eq!(recorded["deleted"], serde_json::json!([expired]));
    assert_eq!(recorded["errors"], serde_json::json!(retention.errors));
    assert_eq!(record["_source"]["succeeded"], true);

    let exists = |index: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.head(format!("{url}/{index}"))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        }
    };
    assert!(exists(kept).await && exists(refused.clone()).await && !exists(expired).await);

    http.put(format!("{url}/{refused}/_settings"))
        .json(&serde_json::json!({"index.blocks.read_only": false}))
        .send()
        .await
        .unwrap();
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
