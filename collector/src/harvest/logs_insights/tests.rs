//! Unit tests of the Logs Insights harvest on rows as GetQueryResults returns them: the query
//! text, the row checks, the poll answers and the merge of a region's queries.

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use chrono::{DateTime, Utc};

use super::merge::merge;
use super::poll::BatchOutcome;
use super::*;
use crate::metering::actions;

fn row(pairs: &[(&str, &str)]) -> ResultRow {
    pairs.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect()
}

#[test]
fn groups_per_query_respects_both_limits() {
    assert_eq!(groups_per_query(12), 50);
    assert_eq!(groups_per_query(288), 34); // a day of 5-minute periods
    assert_eq!(groups_per_query(1440), 6); // a day of 1-minute periods
    assert_eq!(groups_per_query(20_000), 1);
    assert_eq!(groups_per_query(0), 50);
}

#[test]
fn query_names_every_parsed_column_and_groups_by_log_and_period() {
    let q = query_string(300);
    assert!(q.ends_with("by @log as lfmLog, bin(300s) as lfmPeriod"));
    for column in ["reports", "durationMax", "durationP99", "billedSum", "billedMbMs", "billedRestoreSum", "billedRestoreMbMs", "memorySize", "maxMemoryUsed",
        "inits", "initAvg", "initMax", "restores", "restoreMax", "statusTimeouts", "jsonTimeouts", "taskTimeouts"]
    {
        assert!(q.contains(&format!(" as {column}")), "{column}");
    }
    // Restore Duration is anchored so that "Billed Restore Duration" never matches.
    assert!(q.contains(r"/\tRestore Duration: "));
    // Billed Restore Duration (charged, SnapStart) from both formats.
    assert!(q.contains(r"/\tBilled Restore Duration: (?<lfmBilledRestoreText>"));
    assert!(q.contains("record.metrics.billedRestoreDurationMs"));
    assert!(q.len() < 10_000);
}

/// A row as GetQueryResults returns it for the query of [`query_string`] (values are strings;
/// `@log` is `ACCOUNT:GROUP`; `bin()` periods in Logs Insights' timestamp format).
fn report_row(group: &str, period: &str, reports: &str) -> ResultRow {
    row(&[
        ("lfmLog", &format!("111122223333:{group}")),
        ("lfmPeriod", period),
        ("reports", reports),
        ("durationMax", "480.25"),
        ("durationP99", "480.25"),
        ("billedSum", "3120"),
        ("billedMbMs", "798720"),
        ("memorySize", "256"),
        ("maxMemoryUsed", "201"),
        ("inits", "2"),
        ("initAvg", "250.5"),
        ("initMax", "301"),
        ("restores", "0"),
        ("statusTimeouts", "1"),
        ("jsonTimeouts", "0"),
        ("taskTimeouts", "0"),
    ])
}

fn with(mut row: ResultRow, field: &str, value: Option<&str>) -> ResultRow {
    row.retain(|(f, _)| f != field);
    if let Some(v) = value {
        row.push((field.to_string(), v.to_string()));
    }
    row
}

const P0: &str = "2026-11-26 15:00:00.000";
const P1: &str = "2026-11-26 15:05:00.000";
const ORDERS: &str = "/aws/lambda/orders-api";
const BILLING: &str = "/aws/lambda/billing";

fn window() -> Window {
    Window::new(t("2026-11-26T15:00:00Z"), t("2026-11-26T16:00:00Z"), 300).unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn groups() -> Vec<(String, usize)> {
    vec![(ORDERS.to_string(), 0), (BILLING.to_string(), 1)]
}

fn outcome(groups: Vec<(String, usize)>, rows: Vec<ResultRow>) -> BatchOutcome {
    BatchOutcome { groups, rows, queries: 1, bytes_scanned: 1024.0, records_scanned: 10.0, missing: Vec::new() }
}

/// The harvest of the two functions of [`groups`] from one query's rows.
fn harvest_of(rows: Vec<ResultRow>) -> LogsHarvest {
    merge(2, vec![Ok(outcome(groups(), rows))], &window(), "111122223333", "us-east-1").unwrap()
}

#[test]
fn parses_a_result_row() {
    let (group, period, stats) = parse_row(&report_row(ORDERS, "2026-11-26 15:05:00.000", "25")).unwrap();
    assert_eq!(group, ORDERS);
    assert_eq!(period, t("2026-11-26T15:05:00Z"));
    assert_eq!(stats.reports, 25);
    assert_eq!(stats.cold_starts(), 2);
    assert_eq!(stats.restore_duration_max_ms, None);
    assert_eq!(stats.timeouts(), 1);
    assert_eq!(stats.billed_mb_ms_sum, 798720.0);
}

#[test]
fn billed_restore_columns_are_charged_on_top_of_billed_duration() {
    // A SnapStart period: 2 REPORTs at 512 MB, one after a restore (Billed Duration 42 + 13
    // ms, Billed Restore Duration 213 ms), as the query of [`query_string`] returns it.
    let restored = with(
        with(
            with(with(report_row(ORDERS, P0, "2"), "billedSum", Some("55")), "billedMbMs", Some("28160")),
            "billedRestoreSum",
            Some("213"),
        ),
        "billedRestoreMbMs",
        Some("109056"),
    );
    let (_, _, stats) = parse_row(&with(restored, "restores", Some("1"))).unwrap();
    assert_eq!((stats.billed_duration_ms_sum, stats.billed_restore_duration_ms_sum), (55.0, 213.0));
    assert_eq!(stats.charged_duration_ms_sum(), 268.0);
    assert_eq!(stats.charged_mb_ms_sum(), 268.0 * 512.0);
    assert_eq!(stats.cold_starts(), 3, "2 inits + 1 restore");
    // Without restores the columns are absent: nothing added.
    let (_, _, plain) = parse_row(&report_row(ORDERS, P0, "25")).unwrap();
    assert_eq!(plain.charged_mb_ms_sum(), plain.billed_mb_ms_sum);
}

#[test]
fn absent_or_empty_columns_are_null_statistics_and_zero_counts() {
    let sparse = row(&[("lfmLog", "111122223333:/g"), ("lfmPeriod", P0), ("reports", "3"), ("initMax", ""), ("restores", " ")]);
    let (_, _, stats) = parse_row(&sparse).unwrap();
    assert_eq!(stats, LogPeriodStats { reports: 3, ..LogPeriodStats::default() });
    // Unknown columns (a newer query text, an extra field) are ignored.
    let extra = with(report_row(ORDERS, P0, "25"), "lfmSomethingNew", Some("whatever"));
    assert_eq!(parse_row(&extra).unwrap().2, parse_row(&report_row(ORDERS, P0, "25")).unwrap().2);
}

#[test]
fn garbage_values_are_errors_naming_the_column_and_the_group() {
    for (column, value, says) in [
        ("reports", "abc", "not a number"),
        ("durationMax", "NaN", "not a finite number"),
        ("billedMbMs", "inf", "not a finite number"),
        ("durationP99", "1e400", "not a finite number"),
        ("maxMemoryUsed", "-1", "negative"),
        ("inits", "2.5", "not a count"),
        ("reports", "18446744073709551616", "not a count"),
        ("taskTimeouts", "-0.5", "negative"),
    ] {
        let e = parse_row(&with(report_row(ORDERS, P0, "25"), column, Some(value))).unwrap_err();
        assert!(e.reason.contains(column) && e.reason.contains(says), "{column}={value}: {}", e.reason);
        assert_eq!(e.group.as_deref(), Some(ORDERS), "{column}={value}");
        assert_eq!(e.period, Some(t("2026-11-26T15:00:00Z")));
    }
    // Large but finite and whole: a real (if huge) number, kept as it is.
    let big = parse_row(&with(report_row(ORDERS, P0, "25"), "billedMbMs", Some("123456789012345678"))).unwrap();
    assert_eq!(big.2.billed_mb_ms_sum, 123456789012345678.0);
    let e = parse_row(&row(&[("lfmPeriod", P0)])).unwrap_err();
    assert!(e.reason.contains("lfmLog") && e.group.is_none());
    let e = parse_row(&row(&[("lfmLog", "1:/g"), ("lfmPeriod", "yesterday")])).unwrap_err();
    assert!(e.reason.contains("yesterday") && e.period.is_none() && e.group.as_deref() == Some("/g"));
}

#[test]
fn a_bad_number_nulls_only_its_own_function_and_period() {
    let h = harvest_of(vec![
        report_row(ORDERS, P0, "25"),
        with(report_row(ORDERS, P1, "25"), "durationMax", Some("abc")),
        report_row(BILLING, P0, "7"),
        report_row(BILLING, P1, "8"),
    ]);
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")).unwrap().unwrap().reports, 25);
    assert_eq!(h.period(0, &t("2026-11-26T15:05:00Z")), None, "unreadable: not read, never zero");
    assert_eq!(h.period(1, &t("2026-11-26T15:00:00Z")).unwrap().unwrap().reports, 7);
    assert_eq!(h.period(1, &t("2026-11-26T15:05:00Z")).unwrap().unwrap().reports, 8);
    // A period without a row of a read group: read, no REPORT.
    assert_eq!(h.period(1, &t("2026-11-26T15:10:00Z")), Some(None));
    assert_eq!(h.problems.len(), 1);
    let report = h.error_report().unwrap();
    for part in ["account 111122223333", "us-east-1", ORDERS, "durationMax", "\"abc\"", "checkpoint stays"] {
        assert!(report.contains(part), "{part} missing from {report}");
    }
}

#[test]
fn a_row_without_its_group_nulls_that_period_of_every_group_of_the_query() {
    let h = harvest_of(vec![
        report_row(ORDERS, P0, "25"),
        report_row(ORDERS, P1, "26"),
        report_row(BILLING, P1, "8"),
        with(report_row(BILLING, P0, "7"), "lfmLog", None),
    ]);
    // Whose row it was is unknown: neither function's 15:00 can be trusted to be 0 or 25.
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")), None);
    assert_eq!(h.period(1, &t("2026-11-26T15:00:00Z")), None);
    assert_eq!(h.period(0, &t("2026-11-26T15:05:00Z")).unwrap().unwrap().reports, 26);
    assert_eq!(h.period(1, &t("2026-11-26T15:05:00Z")).unwrap().unwrap().reports, 8);
    assert!(h.problems[0].contains("lfmLog"), "{:?}", h.problems);
    // Neither group nor period: the whole window of every group.
    let h = harvest_of(vec![report_row(ORDERS, P0, "25"), row(&[("reports", "3")])]);
    assert_eq!((h.period(0, &t("2026-11-26T15:00:00Z")), h.period(1, &t("2026-11-26T15:30:00Z"))), (None, None));
}

#[test]
fn rows_of_groups_not_queried_and_unreadable_periods_are_never_given_to_another_function() {
    let h = harvest_of(vec![
        report_row(ORDERS, P0, "25"),
        report_row("/aws/lambda/someone-else", P1, "999"),
        with(report_row(BILLING, "2026-11-26 15:07:00.000", "5"), "lfmLog", Some("111122223333:/aws/lambda/billing")),
        with(report_row(ORDERS, P1, "5"), "lfmPeriod", Some("26/11/2026")),
    ]);
    // The unknown group's 15:05 is nobody's; a 999 never lands on orders or billing.
    for i in 0..2 {
        for (_, stats) in &h.stats[i] {
            assert_ne!(stats.reports, 999);
        }
        assert_eq!(h.period(i, &t("2026-11-26T15:05:00Z")), None);
    }
    // Off the 300 s grid (15:07): billing's window is unreadable; a bad period: orders' window.
    assert_eq!(h.period(1, &t("2026-11-26T15:00:00Z")), None);
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")), None);
    assert_eq!(h.problems.len(), 3, "{:#?}", h.problems);
    assert!(h.problems.iter().any(|p| p.contains("did not read")));
    assert!(h.problems.iter().any(|p| p.contains("grid")));
    assert!(h.problems.iter().any(|p| p.contains("26/11/2026")));
}

#[test]
fn duplicate_rows_for_one_function_and_period_are_unreadable_not_overwritten() {
    let h = harvest_of(vec![report_row(ORDERS, P0, "25"), report_row(ORDERS, P0, "30"), report_row(ORDERS, P1, "4")]);
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")), None);
    assert_eq!(h.period(0, &t("2026-11-26T15:05:00Z")).unwrap().unwrap().reports, 4);
    assert!(h.problems[0].contains("several rows"), "{:?}", h.problems);
}

#[test]
fn rows_outside_the_window_are_counted_not_used_and_not_problems() {
    let h = harvest_of(vec![report_row(ORDERS, "2026-11-26 16:00:00.000", "3"), report_row(ORDERS, "2026-11-26 14:55:00.000", "3")]);
    assert_eq!(h.rows_outside_window, 2);
    assert!(h.problems.is_empty() && h.error_report().is_none());
    assert!(h.stats[0].is_empty());
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")), Some(None));
}

#[test]
fn an_empty_result_reads_every_group_as_without_reports() {
    let h = harvest_of(Vec::new());
    assert_eq!(h.queried, [true, true]);
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")), Some(None));
    assert!(h.error_report().is_none());
    assert_eq!((h.queries, h.bytes_scanned), (1, 1024.0));
    // A function that was not queried is not read.
    assert_eq!(LogsHarvest::default().period(0, &t("2026-11-26T15:00:00Z")), None);
}

#[test]
fn only_a_complete_answer_gives_rows() {
    let rows = vec![report_row(ORDERS, P0, "25")];
    // Partial results of a running query are never used.
    assert_eq!(read_answer("q1", Some(&QueryStatus::Running), rows.clone()), Answer::Pending);
    assert_eq!(read_answer("q1", Some(&QueryStatus::Scheduled), Vec::new()), Answer::Pending);
    assert_eq!(read_answer("q1", None, rows.clone()), Answer::Pending);
    assert_eq!(read_answer("q1", Some(&QueryStatus::Complete), rows.clone()), Answer::Complete(rows.clone()));
    for status in [QueryStatus::Failed, QueryStatus::Cancelled, QueryStatus::Timeout, QueryStatus::from("Exploded")] {
        let Answer::Ended(reason) = read_answer("q1", Some(&status), rows.clone()) else { panic!("{status:?}") };
        assert!(reason.contains("q1") && reason.contains(status.as_str()), "{reason}");
    }
    let full = vec![report_row(ORDERS, P0, "1"); MAX_ROWS_PER_QUERY];
    let Answer::Ended(reason) = read_answer("q2", Some(&QueryStatus::Complete), full) else { panic!("row limit") };
    assert!(reason.contains("10000-row limit"), "{reason}");
}

#[test]
fn a_failed_query_leaves_the_other_queries_numbers() {
    let timeout = || LogsInsightsError {
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        action: actions::LOGS_GET_QUERY_RESULTS,
        reason: "query q9 ended with status Timeout (log groups /aws/lambda/billing)".into(),
    };
    let outcomes = vec![Ok(outcome(vec![(ORDERS.into(), 0)], vec![report_row(ORDERS, P0, "25")])), Err(timeout())];
    let h = merge(2, outcomes, &window(), "111122223333", "us-east-1").unwrap();
    assert_eq!(h.period(0, &t("2026-11-26T15:00:00Z")).unwrap().unwrap().reports, 25);
    assert_eq!(h.period(1, &t("2026-11-26T15:00:00Z")), None, "billing's query failed: not read");
    let report = h.error_report().unwrap();
    assert!(report.contains("q9") && report.contains("Timeout") && report.contains("logs:GetQueryResults"), "{report}");
    // Every query failed: the region's error, as before.
    let e = merge(2, vec![Err(timeout()), Err(timeout())], &window(), "111122223333", "us-east-1").unwrap_err();
    assert!(e.to_string().contains("Timeout"));
}

#[test]
fn timeouts_are_not_counted_twice() {
    let both = LogPeriodStats { status_timeouts: 2, task_timeouts: 2, ..Default::default() };
    assert_eq!(both.timeouts(), 2);
    let old_runtime = LogPeriodStats { status_timeouts: 0, task_timeouts: 3, ..Default::default() };
    assert_eq!(old_runtime.timeouts(), 3);
}

#[test]
fn backoff_doubles_to_a_cap() {
    let delays: Vec<u64> = PollBackoff::default().take(8).map(|d| d.as_millis() as u64).collect();
    assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
}

#[test]
fn missing_group_name_from_the_error() {
    let m = "ResourceNotFoundException: Log group '/aws/lambda/gone' does not exist for account ID '111122223333'";
    assert_eq!(missing_group_in(m), Some("/aws/lambda/gone"));
    assert_eq!(missing_group_in("AccessDenied"), None);
}
