//! Logs Insights harvest against moto (patched by the test bed's motoext with the Insights
//! subset): REPORT records in log groups -> one stats query -> numbers equal to what the pure
//! REPORT parser computes from the same lines. Needs `LFM_MOTO_URL` (a test bed or a private
//! `python -m lfm_testbed.motoext.server`).

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use chrono::{DurationRound, TimeDelta, Utc};
use lfm_collector::config::Window;
use lfm_collector::discover::{AccountSession, FunctionRecord};
use lfm_collector::harvest::logs_insights::harvest;
use lfm_collector::metering::ApiCallCounter;

mod common;
// The reference REPORT parser: only this test reads log lines one by one (the collector lets
// Logs Insights aggregate them), so it lives with the tests and is compiled here alone.
#[path = "common/report.rs"]
mod report;

use report::{is_task_timed_out_line, parse_report};

const ACCOUNT: &str = "123456789012";

fn function(name: &str) -> FunctionRecord {
    FunctionRecord {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        name: name.into(),
        arn: format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"),
        runtime: Some("python3.12".into()),
        memory_mb: Some(256),
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

#[tokio::test]
async fn report_records_become_per_period_stats() {
    let moto = std::env::var("LFM_MOTO_URL").expect("LFM_MOTO_URL: start the test bed or a private motoext server");
    let sdk_config = common::sdk_config(&moto, "us-east-1", common::test_keys()).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config);
    let suffix = Utc::now().timestamp_millis();
    let text_fn = format!("lfm-insights-text-{suffix}");
    let json_fn = format!("lfm-insights-json-{suffix}");

    let end = Utc::now().duration_trunc(TimeDelta::seconds(300)).unwrap();
    let start = end - TimeDelta::seconds(600);
    let in_first = start.timestamp_millis() + 1_000;
    let in_second = start.timestamp_millis() + 301_000;
    let text_lines = [
        (in_first, "REPORT RequestId: a1\tDuration: 102.50 ms\tBilled Duration: 327 ms\tMemory Size: 256 MB\tMax Memory Used: 87 MB\tInit Duration: 224.17 ms\t\n"),
        (in_first + 10, "REPORT RequestId: a2\tDuration: 12.25 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 90 MB\t\n"),
        (in_first + 20, "2026-11-26T15:00:00Z\ta2\tINFO\tdone; Memory Used: 999 MB\n"),
        (in_first + 30, "REPORT RequestId: a3-x Duration: n/a\n"),
        (in_second, "REPORT RequestId: a4\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 256 MB\tMax Memory Used: 250 MB\tStatus: timeout\t\n"),
        (in_second + 10, "REPORT RequestId: a5\tDuration: 41.00 ms\tBilled Duration: 42 ms\tMemory Size: 256 MB\tMax Memory Used: 150 MB\tRestore Duration: 312.50 ms\tBilled Restore Duration: 314 ms\t\n"),
    ];
    let json_lines = [
        (in_first, r#"{"time":"x","type":"platform.report","record":{"requestId":"b1","metrics":{"durationMs":250.25,"billedDurationMs":431,"memorySizeMB":1024,"maxMemoryUsedMB":300,"initDurationMs":180.5},"status":"success"}}"#),
        (in_first + 5, r#"{"time":"x","type":"platform.report","record":{"requestId":"b2","metrics":{"durationMs":6000.0,"billedDurationMs":6000,"memorySizeMB":1024,"maxMemoryUsedMB":1000},"status":"timeout"}}"#),
        (in_first + 6, r#"{"time":"x","type":"platform.start","record":{"requestId":"b3"}}"#),
    ];
    for (name, lines) in [(&text_fn, &text_lines[..]), (&json_fn, &json_lines[..])] {
        let group = format!("/aws/lambda/{name}");
        logs.create_log_group().log_group_name(&group).send().await.unwrap();
        logs.create_log_stream().log_group_name(&group).log_stream_name("2026/11/26/[$LATEST]abc").send().await.unwrap();
        let events: Vec<InputLogEvent> = lines
            .iter()
            .map(|(t, m)| InputLogEvent::builder().timestamp(*t).message(*m).build().unwrap())
            .collect();
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name("2026/11/26/[$LATEST]abc")
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }

    let functions = [function(&text_fn), function(&json_fn), function(&format!("lfm-insights-gone-{suffix}"))];
    let session = AccountSession { account_id: ACCOUNT.into(), sdk_config };
    let window = Window::new(start, end, 300).unwrap();
    let calls = ApiCallCounter::default();
    let result = harvest(&session, "us-east-1", &functions, &[true, true, true], &window, &calls).await.unwrap();

    // The missing group was dropped and the query retried: 2 StartQuery calls, one batch.
    assert_eq!(result.missing_groups, [format!("/aws/lambda/lfm-insights-gone-{suffix}")]);
    assert_eq!(result.queried, [true, true, false]);
    assert_eq!(calls.snapshot()["logs:StartQuery"], 2);
    assert!(result.bytes_scanned > 0.0);

    // Expected numbers from the pure parser over the same lines.
    let expect = |lines: &[(i64, &str)], from: i64, to: i64| {
        let records: Vec<_> =
            lines.iter().filter(|(t, _)| *t >= from && *t < to).filter_map(|(_, m)| parse_report(m).ok()).collect();
        let task = lines.iter().filter(|(t, m)| *t >= from && *t < to && is_task_timed_out_line(m)).count();
        (records, task)
    };
    let first = start;
    let second = start + TimeDelta::seconds(300);
    let (records, _) = expect(&text_lines, first.timestamp_millis(), second.timestamp_millis());
    let s = &result.stats[0][&first];
    assert_eq!(s.reports, records.len() as u64); // the malformed line is not a REPORT
    assert_eq!(s.reports, 2);
    assert_eq!(s.cold_starts(), records.iter().filter(|r| r.is_cold_start()).count() as u64);
    assert_eq!(s.init_duration_max_ms, Some(224.17));
    assert_eq!(s.max_memory_used_mb, Some(90.0)); // never the app line's "Memory Used: 999"
    assert_eq!(s.billed_duration_ms_sum, records.iter().map(|r| r.billed_duration_ms).sum::<f64>());
    assert_eq!(s.billed_mb_ms_sum, records.iter().map(|r| r.billed_duration_ms * r.memory_size_mb).sum::<f64>());
    assert_eq!(s.timeouts(), 0);
    let s2 = &result.stats[0][&second];
    assert_eq!((s2.reports, s2.restores, s2.inits, s2.timeouts()), (2, 1, 0, 1));
    assert_eq!(s2.restore_duration_max_ms, Some(312.5));
    // Billed Duration covers the handler only; the billed restore time is summed apart and charged.
    assert_eq!((s2.billed_duration_ms_sum, s2.billed_restore_duration_ms_sum), (3000.0 + 42.0, 314.0));
    assert_eq!(s2.charged_mb_ms_sum(), (3000.0 + 42.0 + 314.0) * 256.0);
    assert_eq!(s2.duration_max_ms, Some(3000.0));

    let j = &result.stats[1][&first];
    assert_eq!((j.reports, j.inits, j.timeouts()), (2, 1, 1));
    assert_eq!(j.init_duration_avg_ms, Some(180.5));
    assert_eq!(j.billed_mb_ms_sum, (431.0 + 6000.0) * 1024.0);
    assert_eq!(j.max_memory_used_mb, Some(1000.0));
    assert!(result.stats[1].get(&second).is_none());
}
