//! The collector library against the real services of the test bed: moto (AWS) and a real
//! OpenSearch node. Needs `LFM_MOTO_URL` and `LFM_OPENSEARCH_URL`
//! (`eval "$(python -m lfm_testbed env)"` after `python -m lfm_testbed up`).
//!
//! The test seeds its own member account (AWS Organizations), three functions in two regions
//! and a known set of CloudWatch datapoints with the AWS SDK, runs [`lfm_collector::run`] twice
//! over the same window into indices with a unique prefix, and compares what OpenSearch holds
//! with the values it put.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, FunctionCode, PackageType, Runtime};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use lfm_collector::config::{Config, Window};
use lfm_collector::store::opensearch::OpenSearchConfig;
use lfm_collector::store::opensearch::OpenSearchStore;
use lfm_collector::store::IndexedDocument;
use lfm_collector::summary::AccountStatus;
use serde_json::{json, Value};

mod common;

use common::{collector_uses_moto, execution_role, member_account, required_env, sdk_config, search_hits, zip_function, Member, EMPTY_ZIP};

const PERIOD: u32 = 300;

/// A metrics document as compared: function, @timestamp, invocations, errors, throttles,
/// error_rate, duration_avg_ms, duration_max_ms.
type Row = (String, String, u64, u64, u64, Value, Value, Value);

/// One datapoint: metric, function, time, value.
struct Point(&'static str, &'static str, DateTime<Utc>, f64);

async fn seed(moto: &str, member: &Member, window_start: DateTime<Utc>) -> (Vec<(String, String)>, Vec<Point>) {
    let (account, member) = (&member.account, member.credentials.clone());
    let role_arn = execution_role(&sdk_config(moto, "us-east-1", member.clone()).await, "lfm-live-exec").await;

    // orders (zip, us-east-1, busy), idle (zip, us-east-1, no datapoints), resize (image, eu-west-1).
    let functions = [("orders", "us-east-1"), ("idle", "us-east-1"), ("resize", "eu-west-1")];
    for (name, region) in functions {
        let lambda = aws_sdk_lambda::Client::new(&sdk_config(moto, region, member.clone()).await);
        let create = lambda.create_function().function_name(name).role(&role_arn).memory_size(256).timeout(30);
        let create = if name == "resize" {
            create
                .package_type(PackageType::Image)
                .architectures(Architecture::Arm64)
                .code(FunctionCode::builder().image_uri(format!("{account}.dkr.ecr.{region}.amazonaws.com/resize:v1")).build())
        } else {
            create
                .runtime(Runtime::Python312)
                .handler("app.handler")
                .code(FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build())
        };
        create.send().await.unwrap_or_else(|e| panic!("create_function {name}: {}", aws_sdk_lambda::error::DisplayErrorContext(&e)));
    }

    let p = |n: i64, seconds: i64| window_start + TimeDelta::seconds(n * i64::from(PERIOD) + seconds);
    let points = vec![
        // orders, period 0: two Invocations datapoints (Sum 10), 1 error, durations 100/300.
        Point("Invocations", "orders", p(0, 10), 4.0),
        Point("Invocations", "orders", p(0, 200), 6.0),
        Point("Errors", "orders", p(0, 30), 1.0),
        Point("Duration", "orders", p(0, 10), 100.0),
        Point("Duration", "orders", p(0, 200), 300.0),
        // orders, period 1: invoked, no Errors/Throttles datapoints at all.
        Point("Invocations", "orders", p(1, 5), 20.0),
        Point("Duration", "orders", p(1, 5), 42.5),
        // orders, before the window: must not appear.
        Point("Invocations", "orders", p(-1, 0), 999.0),
        // resize, period 2: invoked and throttled; period 3: only throttled.
        Point("Invocations", "resize", p(2, 60), 8.0),
        Point("Errors", "resize", p(2, 60), 2.0),
        Point("Throttles", "resize", p(2, 60), 1.0),
        Point("Duration", "resize", p(2, 60), 1500.0),
        Point("Throttles", "resize", p(3, 0), 5.0),
    ];
    for region in ["us-east-1", "eu-west-1"] {
        let data: Vec<MetricDatum> = points
            .iter()
            .filter(|Point(_, f, _, _)| functions.iter().any(|(n, r)| n == f && *r == region))
            .map(|Point(metric, function, at, value)| {
                MetricDatum::builder()
                    .metric_name(*metric)
                    .dimensions(Dimension::builder().name("FunctionName").value(*function).build())
                    .timestamp(AwsDateTime::from_secs(at.timestamp()))
                    .value(*value)
                    .unit(if *metric == "Duration" { StandardUnit::Milliseconds } else { StandardUnit::Count })
                    .build()
            })
            .collect();
        let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk_config(moto, region, member.clone()).await);
        cloudwatch.put_metric_data().namespace("AWS/Lambda").set_metric_data(Some(data)).send().await.expect("put_metric_data");
    }
    (functions.iter().map(|(n, r)| (n.to_string(), r.to_string())).collect(), points)
}

#[tokio::test]
async fn collects_seeded_fleet_into_opensearch() {
    let moto = required_env("LFM_MOTO_URL");
    let opensearch = required_env("LFM_OPENSEARCH_URL").trim_end_matches('/').to_string();
    collector_uses_moto(&moto);

    let window_start = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(3);
    let window = Window::new(window_start, window_start + TimeDelta::hours(1), PERIOD).unwrap();
    let member = member_account(&moto, "lfm-live").await;
    let account = member.account.clone();
    seed(&moto, &member, window.start).await;

    let prefix = format!("lfmlive{}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis());
    let config = Config {
        accounts: vec![account.clone()],
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        partition: "aws".into(),
        window,
        schedule: Default::default(),
        index_prefix: prefix.clone(),
        opensearch: OpenSearchConfig { url: opensearch.clone(), auth: lfm_collector::store::opensearch::OpenSearchAuth::None, bulk_max_docs: 500, timeouts: Default::default() },
        dry_run: false,
        account_concurrency: 2,
        progress: false,
        prices: lfm_schema::reference::PriceTable::shipped(),
        runtimes: lfm_schema::reference::RuntimeTable::shipped(),
        deprecation_warning_days: lfm_collector::config::DEFAULT_DEPRECATION_WARNING_DAYS,
        retention_days: None,
        lambda_insights: true,
        aws_timeouts: lfm_aws::Timeouts::DEFAULT,
        alert_delivery_timeout: std::time::Duration::from_secs(30),
        alert_webhook_ca_file: None,
    };

    let summary = lfm_collector::run(&config).await;
    println!("{summary}");
    assert!(summary.succeeded(), "{summary}");
    assert_eq!(summary.accounts.len(), 1);
    assert_eq!(summary.accounts[0].status, AccountStatus::Ok);
    assert_eq!(summary.functions, 3);
    assert_eq!(summary.api_calls["sts:AssumeRole"], 1);
    assert_eq!(summary.api_calls["lambda:ListFunctions"], 2, "one page per region");
    assert_eq!(summary.api_calls["cloudwatch:GetMetricData"], 2, "one batch per region");
    assert_eq!(summary.documents_written, 3 + 4);
    assert_eq!(summary.bulk_requests, 1, "one account's documents fit one request");

    let http = reqwest::Client::new();
    let metrics = search_hits(&http, &opensearch, &format!("{prefix}-metrics-*")).await;
    let rows: Vec<Row> = metrics
        .iter()
        .map(|hit| {
            let s = &hit["_source"];
            (
                s["function_name"].as_str().unwrap().to_string(),
                s["@timestamp"].as_str().unwrap().to_string(),
                s["invocations"].as_u64().unwrap(),
                s["errors"].as_u64().unwrap(),
                s["throttles"].as_u64().unwrap(),
                s["error_rate"].clone(),
                s["duration_avg_ms"].clone(),
                s["duration_max_ms"].clone(),
            )
        })
        .collect();
    let at = |n: i64| (window.start + TimeDelta::seconds(n * i64::from(PERIOD))).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut expected = vec![
        ("orders".to_string(), at(0), 10, 1, 0, json!(0.1), json!(200.0), json!(300.0)),
        ("orders".to_string(), at(1), 20, 0, 0, json!(0.0), json!(42.5), json!(42.5)),
        ("resize".to_string(), at(2), 8, 2, 1, json!(0.25), json!(1500.0), json!(1500.0)),
        ("resize".to_string(), at(3), 0, 0, 5, Value::Null, Value::Null, Value::Null),
    ];
    let mut got = rows.clone();
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(got, expected);

    let first = &metrics.iter().find(|h| h["_source"]["function_name"] == "orders").unwrap();
    assert_eq!(
        first["_id"],
        format!("{account}:us-east-1:orders:{}:{PERIOD}", window.start.timestamp()),
        "deterministic document id"
    );
    assert_eq!(first["_index"], format!("{prefix}-metrics-{}", window.start.format("%Y.%m.%d")));

    // No log groups in this fleet: log-derived fields are null, the cost is estimated from
    // the metrics (10 x 200 ms x 256 MB), timeout proximity from the max duration (300 ms / 30 s).
    let orders_first = metrics
        .iter()
        .find(|h| h["_source"]["function_name"] == "orders" && h["_source"]["@timestamp"] == at(0))
        .unwrap();
    let source = &orders_first["_source"];
    assert!(source["cold_starts"].is_null() && source["logs_source"].is_null() && source["billed_duration_ms_sum"].is_null());
    assert_eq!(source["cost_basis"], "estimated");
    assert!((source["gb_seconds"].as_f64().unwrap() - 0.5).abs() < 1e-9, "{source}");
    assert!(source["cost_usd"].as_f64().unwrap() > 0.0);
    assert!((source["timeout_proximity_max"].as_f64().unwrap() - 0.01).abs() < 1e-12);

    let inventory = search_hits(&http, &opensearch, &format!("{prefix}-inventory")).await;
    assert_eq!(inventory.len(), 3);
    let resize = inventory.iter().find(|h| h["_source"]["function_name"] == "resize").unwrap();
    assert_eq!(resize["_id"], format!("{account}:eu-west-1:resize"));
    assert!(resize["_source"]["runtime"].is_null(), "container images have no runtime");
    assert_eq!(resize["_source"]["package_type"], "Image");
    assert_eq!(resize["_source"]["architecture"], "arm64");
    let orders = inventory.iter().find(|h| h["_source"]["function_name"] == "orders").unwrap();
    assert_eq!(orders["_source"]["runtime"], "python3.12");
    assert_eq!(orders["_source"]["memory_mb"], 256);
    assert_eq!(orders["_source"]["timeout_s"], 30);
    assert_eq!(orders["_source"]["runtime_status"], "supported");
    assert_eq!(resize["_source"]["runtime_status"], "image");
    assert!(resize["_source"]["recommendation_kinds"].is_array());

    // The templates were installed before writing: strict mappings, one shard, no replicas.
    let mapping: Value = http
        .get(format!("{opensearch}/{prefix}-metrics-*/_mapping"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (_, index) in mapping.as_object().unwrap() {
        assert_eq!(index["mappings"]["dynamic"], "strict");
        assert_eq!(index["mappings"]["properties"]["error_rate"]["type"], "double");
    }

    // Same window again: the same documents, overwritten, no duplicates.
    let again = lfm_collector::run(&config).await;
    assert!(again.succeeded(), "{again}");
    assert_eq!(search_hits(&http, &opensearch, &format!("{prefix}-metrics-*")).await.len(), 4);
    assert_eq!(search_hits(&http, &opensearch, &format!("{prefix}-inventory")).await.len(), 3);

    // A document the strict mapping rejects is reported with OpenSearch's reason, not dropped;
    // the good document in the same request is written.
    let store = OpenSearchStore::new(&config.opensearch).unwrap();
    let index = format!("{prefix}-metrics-{}", window.start.format("%Y.%m.%d"));
    let good = IndexedDocument { index: index.clone(), id: first["_id"].as_str().unwrap().into(), body: first["_source"].clone() };
    let mut bad_body = first["_source"].clone();
    bad_body["not_a_mapped_field"] = json!(1);
    let bad = IndexedDocument { index: index.clone(), id: "bad".into(), body: bad_body };
    let report = store.write(&[good, bad]).await;
    assert_eq!(report.bulk_requests, 1);
    assert_eq!(report.written_by_index.get(&index), Some(&1));
    assert_eq!(report.failed.len(), 1);
    assert_eq!((report.failed[0].id.as_str(), report.failed[0].status), ("bad", 400));
    assert!(report.failed[0].reason.contains("strict_dynamic_mapping_exception"), "{:?}", report.failed[0]);

    http.delete(format!("{opensearch}/{prefix}-*")).send().await.unwrap();
    for name in ["metrics", "inventory", "checkpoints", "runs"] {
        http.delete(format!("{opensearch}/_index_template/{prefix}-{name}")).send().await.unwrap();
    }
}

/// 101 functions in one region: ListFunctions needs three pages of 50, and the 505 metric
/// queries need two GetMetricData calls. A dry run: nothing is written, everything is counted.
#[tokio::test]
async fn pages_through_functions_and_batches_queries_in_a_dry_run() {
    let moto = required_env("LFM_MOTO_URL");
    collector_uses_moto(&moto);

    let window_start = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(2);
    let window = Window::new(window_start, window_start + TimeDelta::hours(1), PERIOD).unwrap();
    let Member { account, credentials } = member_account(&moto, "lfm-live").await;
    let member = sdk_config(&moto, "us-east-1", credentials).await;
    let role_arn = execution_role(&member, "lfm-live-exec").await;
    let lambda = aws_sdk_lambda::Client::new(&member);
    for n in 0..101 {
        zip_function(&lambda, &format!("fn-{n:03}"), &role_arn, Runtime::Nodejs20x).await;
    }
    // Datapoints for the first function and for the last one only: the rest are idle.
    let data = ["fn-000", "fn-100"].map(|name| {
        MetricDatum::builder()
            .metric_name("Invocations")
            .dimensions(Dimension::builder().name("FunctionName").value(name).build())
            .timestamp(AwsDateTime::from_secs((window.start + TimeDelta::seconds(30)).timestamp()))
            .value(3.0)
            .unit(StandardUnit::Count)
            .build()
    });
    aws_sdk_cloudwatch::Client::new(&member)
        .put_metric_data()
        .namespace("AWS/Lambda")
        .set_metric_data(Some(data.to_vec()))
        .send()
        .await
        .expect("put_metric_data");

    let config = Config {
        accounts: vec![account],
        role_name: "OrganizationAccountAccessRole".into(),
        external_id: None,
        regions: vec!["us-east-1".into()],
        partition: "aws".into(),
        window,
        schedule: Default::default(),
        index_prefix: "lfm".into(),
        opensearch: OpenSearchConfig { url: String::new(), auth: lfm_collector::store::opensearch::OpenSearchAuth::None, bulk_max_docs: 500, timeouts: Default::default() },
        dry_run: true,
        account_concurrency: 1,
        progress: false,
        prices: lfm_schema::reference::PriceTable::shipped(),
        runtimes: lfm_schema::reference::RuntimeTable::shipped(),
        deprecation_warning_days: lfm_collector::config::DEFAULT_DEPRECATION_WARNING_DAYS,
        retention_days: None,
        lambda_insights: true,
        aws_timeouts: lfm_aws::Timeouts::DEFAULT,
        alert_delivery_timeout: std::time::Duration::from_secs(30),
        alert_webhook_ca_file: None,
    };
    let summary = lfm_collector::run(&config).await;
    println!("{summary}");
    assert!(summary.succeeded(), "{summary}");
    assert_eq!(summary.functions, 101);
    assert_eq!(summary.api_calls["lambda:ListFunctions"], 3, "pages of 50, 50 and 1 (the test bed's moto pages ListFunctions like AWS)");
    // Only the two functions with data are active (ListMetrics); the other 99 cost no metric query.
    assert_eq!(summary.api_calls["cloudwatch:GetMetricData"], 1, "2 active functions fit one call");
    let metrics_index = format!("lfm-metrics-{}", window.start.format("%Y.%m.%d"));
    assert_eq!(summary.documents_prepared.get(&metrics_index), Some(&2));
    assert_eq!(summary.documents_prepared.get("lfm-inventory"), Some(&101));
    assert_eq!((summary.documents_written, summary.bulk_requests), (0, 0), "a dry run writes nothing");
}

#[tokio::test]
async fn unreachable_opensearch_is_a_fatal_error_naming_the_url() {
    let config = Config {
        accounts: vec!["111122223333".into()],
        role_name: "LambdaMonitoringRole".into(),
        external_id: None,
        regions: vec!["us-east-1".into()],
        partition: "aws".into(),
        window: Window::last_complete_hour(Utc::now(), PERIOD).unwrap(),
        schedule: Default::default(),
        index_prefix: "lfm".into(),
        opensearch: OpenSearchConfig {
            url: "http://127.0.0.1:9".into(),
            auth: lfm_collector::store::opensearch::OpenSearchAuth::None,
            bulk_max_docs: 500,
            timeouts: Default::default(),
        },
        dry_run: false,
        account_concurrency: 1,
        progress: false,
        prices: lfm_schema::reference::PriceTable::shipped(),
        runtimes: lfm_schema::reference::RuntimeTable::shipped(),
        deprecation_warning_days: lfm_collector::config::DEFAULT_DEPRECATION_WARNING_DAYS,
        retention_days: None,
        lambda_insights: true,
        aws_timeouts: lfm_aws::Timeouts::DEFAULT,
        alert_delivery_timeout: std::time::Duration::from_secs(30),
        alert_webhook_ca_file: None,
    };
    let summary = lfm_collector::run(&config).await;
    let error = summary.fatal_error.clone().expect("fatal error");
    assert!(error.contains("http://127.0.0.1:9") && error.contains("index template"), "{error}");
    assert!(!summary.succeeded());
    assert!(summary.api_calls.is_empty(), "no AWS call before the store is ready");
}

/// An OpenSearch that accepts the connection and never answers: the run fails within
/// `opensearch_operation_timeout` (it used to wait 60 s for the template install, with no
/// setting to change), naming the endpoint and the setting.
#[tokio::test]
async fn silent_opensearch_fails_within_the_operation_timeout_naming_the_setting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let mut args = vec!["lfm-collector", "run", "--accounts=111122223333", "--regions=us-east-1"];
    let url_flag = format!("--opensearch-url={url}");
    args.extend([url_flag.as_str(), "--opensearch-request-timeout=1", "--opensearch-operation-timeout=3"]);
    let cli = <lfm_collector::config::cli::Cli as clap::Parser>::parse_from(args);
    let lfm_collector::config::cli::Command::Run(run) = cli.command else { panic!("not a run") };
    let config = run.to_config(Utc::now()).unwrap();
    let started = std::time::Instant::now();
    let summary = lfm_collector::run(&config).await;
    let error = summary.fatal_error.clone().expect("fatal error");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}: {error}", started.elapsed());
    for part in [
        format!("PUT {url}/_index_template/lfm-metrics"),
        "no answer within the overall timeout of 3 s".into(),
        "opensearch_operation_timeout (--opensearch-operation-timeout, LFM_OPENSEARCH_OPERATION_TIMEOUT)".into(),
    ] {
        assert!(error.contains(&part), "{part:?} missing from: {error}");
    }
    assert!(summary.api_calls.is_empty(), "no AWS call before the store is ready");
}
