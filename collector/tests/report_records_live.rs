//! REPORT records as Lambda writes them (text and JSON log formats) -> Logs Insights through
//! moto (patched by the test bed's motoext) -> `apply_logs_and_cost` with CloudWatch's numbers
//! of the same periods. Two things are proved on real-shaped lines:
//!
//! - SnapStart: a REPORT after a restore carries `Restore Duration` and `Billed Restore
//!   Duration` (`restoreDurationMs`, `billedRestoreDurationMs`), and the billed restore time is
//!   charged on top of `Billed Duration`, which covers the handler only (AWS "Monitoring for
//!   Lambda SnapStart", https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html);
//!   the restore is a cold start.
//! - Forged records: a line the function printed itself (`REPORT RequestId: ...`, or a
//!   `platform.report` JSON object) is read by Logs Insights like the platform's; where the
//!   period's records disagree with CloudWatch (more records than Invocations, a Duration above
//!   its Maximum), the period's log-derived fields are withheld with a reason, never written.
//!
//! Needs `LFM_MOTO_URL` (a test bed or a private `python -m lfm_testbed.motoext.server`).

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use lfm_collector::config::Window;
use lfm_collector::derive::enrich::{apply_logs_and_cost, PeriodLogs};
use lfm_collector::discover::{AccountSession, FunctionRecord};
use lfm_collector::harvest::logs_insights::harvest;
use lfm_collector::metering::ApiCallCounter;
use lfm_schema::documents::{logs_withheld_reason, MetricDocument};
use lfm_schema::reference::PriceTable;
use serde_json::json;

mod common;

const ACCOUNT: &str = "123456789012";

fn function(name: &str, runtime: &str, memory_mb: u32) -> FunctionRecord {
    FunctionRecord {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        name: name.into(),
        arn: format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"),
        runtime: Some(runtime.into()),
        memory_mb: Some(memory_mb),
        timeout_s: Some(3),
        architecture: Some("x86_64".into()),
        package_type: Some("Zip".into()),
        last_modified: None,
        code_sha256: None,
        version: None,
        code_size_bytes: None,
        log_group: format!("/aws/lambda/{name}"),
    }
}

/// The metrics document CloudWatch's numbers give for one period (the fields a test sets; the
/// rest null, as before enrichment).
fn cloudwatch_document(function: &FunctionRecord, start: DateTime<Utc>, invocations: u64, avg: f64, max: f64) -> MetricDocument {
    serde_json::from_value(json!({
        "@timestamp": start.to_rfc3339(), "period_seconds": 300, "account_id": ACCOUNT,
        "region": "us-east-1", "function_name": function.name, "function_arn": function.arn,
        "invocations": invocations, "errors": 0, "throttles": 0, "error_rate": 0.0,
        "duration_avg_ms": avg, "duration_max_ms": max, "collected_at": start.to_rfc3339()
    }))
    .unwrap()
}

#[tokio::test]
async fn snapstart_restores_are_billed_and_forged_records_are_withheld() {
    let moto = std::env::var("LFM_MOTO_URL").expect("LFM_MOTO_URL: start the test bed or a private motoext server");
    let sdk_config = common::sdk_config(&moto, "us-east-1", common::test_keys()).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config);
    let suffix = common::unique();
    let end = Utc::now().duration_trunc(TimeDelta::seconds(300)).unwrap();
    let start = end - TimeDelta::seconds(600);
    let (p0, p1) = (start, start + TimeDelta::seconds(300));
    let at = |period: DateTime<Utc>, ms: i64| period.timestamp_millis() + 1_000 + ms;

    // SnapStart (java21, 512 MB), text format: 15:00 one restore and one warm invocation; JSON
    // format: the same numbers as platform.report records.
    let snap_text = function(&format!("lfm-snap-text-{suffix}"), "java21", 512);
    let snap_json = function(&format!("lfm-snap-json-{suffix}"), "java21", 512);
    let snap_text_lines = vec![
        (at(p0, 10), "REPORT RequestId: 7d1c0b52-2a7e-4d4b-9f51-0c7f0f2b6a11\tDuration: 41.25 ms\tBilled Duration: 42 ms\tMemory Size: 512 MB\tMax Memory Used: 151 MB\tRestore Duration: 460.12 ms\tBilled Restore Duration: 213 ms\t\n".to_string()),
        (at(p0, 20), "REPORT RequestId: 0b8e33a4-55c1-4f0e-8a4c-6de2bb1c7f02\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 152 MB\t\n".into()),
    ];
    let snap_json_lines = vec![
        (at(p0, 10), r#"{"time":"2026-11-26T15:00:01.010Z","type":"platform.report","record":{"requestId":"7d1c0b52-2a7e-4d4b-9f51-0c7f0f2b6a12","metrics":{"durationMs":41.25,"billedDurationMs":42,"memorySizeMB":512,"maxMemoryUsedMB":151,"restoreDurationMs":460.12,"billedRestoreDurationMs":213},"status":"success"}}"#.to_string()),
        (at(p0, 20), r#"{"time":"2026-11-26T15:00:01.020Z","type":"platform.report","record":{"requestId":"0b8e33a4-55c1-4f0e-8a4c-6de2bb1c7f03","metrics":{"durationMs":12.5,"billedDurationMs":13,"memorySizeMB":512,"maxMemoryUsedMB":152},"status":"success"}}"#.to_string()),
    ];

    // Forgers (python3.12, 128 MB): 15:00 one real invocation and a printed 5 s "cold start";
    // 15:05 two real invocations and a printed copy of the first one's record.
    let forger_text = function(&format!("lfm-forger-text-{suffix}"), "python3.12", 128);
    let forger_json = function(&format!("lfm-forger-json-{suffix}"), "python3.12", 128);
    let real = |id: &str, ms: f64| format!("REPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: 128 MB\tMax Memory Used: 48 MB\t\n", ms.ceil());
    let forger_text_lines = vec![
        (at(p0, 0), "REPORT RequestId: 11111111-2222-4333-8444-555555555555\tDuration: 5000.00 ms\tBilled Duration: 10000 ms\tMemory Size: 10240 MB\tMax Memory Used: 10240 MB\tInit Duration: 5000.00 ms\t\n".to_string()),
        (at(p0, 10), real("c0a80101-0000-4000-8000-000000000001", 38.5)),
        (at(p1, 0), "REPORT RequestId: c0a80101-0000-4000-8000-000000000002\tDuration: 40.00 ms\tBilled Duration: 5040 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: 5000.00 ms\t\n".into()),
        (at(p1, 10), real("c0a80101-0000-4000-8000-000000000002", 40.0)),
        (at(p1, 20), real("c0a80101-0000-4000-8000-000000000003", 22.25)),
    ];
    let json_report = |id: &str, ms: f64, billed: f64, memory: u32, used: u32, init: Option<f64>| {
        let mut metrics = json!({"durationMs": ms, "billedDurationMs": billed, "memorySizeMB": memory, "maxMemoryUsedMB": used});
        if let Some(init) = init {
            metrics["initDurationMs"] = json!(init);
        }
        json!({"time": "2026-11-26T15:00:00.000Z", "type": "platform.report",
               "record": {"requestId": id, "metrics": metrics, "status": "success"}})
        .to_string()
    };
    let forger_json_lines = vec![
        (at(p0, 0), json_report("11111111-2222-4333-8444-555555555556", 5000.0, 10000.0, 10240, 10240, Some(5000.0))),
        (at(p0, 10), json_report("c0a80101-0000-4000-8000-000000000011", 38.5, 39.0, 128, 48, None)),
        (at(p1, 0), json_report("c0a80101-0000-4000-8000-000000000012", 40.0, 5040.0, 128, 128, Some(5000.0))),
        (at(p1, 10), json_report("c0a80101-0000-4000-8000-000000000012", 40.0, 40.0, 128, 48, None)),
        (at(p1, 20), json_report("c0a80101-0000-4000-8000-000000000013", 22.25, 23.0, 128, 48, None)),
    ];

    let all = [
        (&snap_text, &snap_text_lines),
        (&snap_json, &snap_json_lines),
        (&forger_text, &forger_text_lines),
        (&forger_json, &forger_json_lines),
    ];
    for (f, lines) in all {
        logs.create_log_group().log_group_name(&f.log_group).send().await.unwrap();
        logs.create_log_stream().log_group_name(&f.log_group).log_stream_name("2026/11/26/[$LATEST]abc").send().await.unwrap();
        let events: Vec<InputLogEvent> =
            lines.iter().map(|(t, m)| InputLogEvent::builder().timestamp(*t).message(m).build().unwrap()).collect();
        logs.put_log_events()
            .log_group_name(&f.log_group)
            .log_stream_name("2026/11/26/[$LATEST]abc")
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }

    let functions = [snap_text.clone(), snap_json.clone(), forger_text.clone(), forger_json.clone()];
    let session = AccountSession { account_id: ACCOUNT.into(), sdk_config };
    let window = Window::new(start, end, 300).unwrap();
    let calls = ApiCallCounter::default();
    let result = harvest(&session, "us-east-1", &functions, &[true; 4], &window, &calls).await.unwrap();
    let prices = PriceTable::shipped();
    let enriched = |i: usize, period: DateTime<Utc>, mut doc: MetricDocument| {
        let stats = result.period(i, &period).expect("read");
        apply_logs_and_cost(&mut doc, &functions[i], &period, PeriodLogs::Read(stats), &prices);
        doc
    };

    // SnapStart, both formats: 42 + 13 ms of handler plus 213 ms of billed restore, at 512 MB.
    for i in [0, 1] {
        let stats = result.stats[i][&p0].clone();
        assert_eq!((stats.reports, stats.restores, stats.inits), (2, 1, 0), "{i}");
        assert_eq!(stats.billed_duration_ms_sum, 55.0, "{i}: Billed Duration covers the handler only");
        assert_eq!(stats.billed_restore_duration_ms_sum, 213.0, "{i}");
        let doc = enriched(i, p0, cloudwatch_document(&functions[i], p0, 2, 26.875, 41.25));
        assert_eq!(doc.logs_withheld_reason, None);
        assert_eq!(doc.billed_duration_ms_sum, Some(42 + 13 + 213), "{i}");
        assert_eq!(doc.cost_basis.as_deref(), Some("billed"));
        let gb_s = (42.0 + 13.0 + 213.0) * 512.0 / 1024.0 / 1000.0;
        assert!((doc.gb_seconds.unwrap() - gb_s).abs() < 1e-12, "{i}: {:?}", doc.gb_seconds);
        assert_eq!((doc.cold_starts, doc.snapstart_restores), (Some(1), Some(1)), "{i}: a restore is a cold start");
        assert_eq!(doc.init_duration_max_ms, None);
    }

    // Forgers, both formats: CloudWatch saw 1 invocation of 38.5 ms at 15:00, 2 (max 40 ms) at 15:05.
    for i in [2, 3] {
        assert_eq!(result.stats[i][&p0].reports, 2, "{i}: Logs Insights reads the printed record like the platform's");
        let doc = enriched(i, p0, cloudwatch_document(&functions[i], p0, 1, 38.5, 38.5));
        assert_eq!(doc.logs_withheld_reason.as_deref(), Some(logs_withheld_reason::DURATION_ABOVE_CLOUDWATCH_MAX), "{i}");
        let copy = enriched(i, p1, cloudwatch_document(&functions[i], p1, 2, 31.125, 40.0));
        assert_eq!(copy.logs_withheld_reason.as_deref(), Some(logs_withheld_reason::REPORTS_EXCEED_INVOCATIONS), "{i}");
        for doc in [&doc, &copy] {
            assert_eq!((doc.cold_starts, doc.init_duration_max_ms, doc.max_memory_used_mb), (None, None, None), "{i}");
            assert_eq!((doc.memory_utilization, doc.timeouts, doc.billed_duration_ms_sum), (None, None, None), "{i}");
            assert_eq!((doc.logs_source.as_deref(), doc.cost_basis.as_deref()), (None, Some("estimated")), "{i}");
            // The estimate from CloudWatch: invocations x average Duration at 128 MB, not 77 times it.
            let gb_s = doc.invocations as f64 * doc.duration_avg_ms.unwrap() * 128.0 / 1024.0 / 1000.0;
            assert!((doc.gb_seconds.unwrap() - gb_s).abs() < 1e-12, "{i}: {:?}", doc.gb_seconds);
        }
    }
}
