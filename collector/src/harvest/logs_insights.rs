//! CloudWatch Logs Insights over the functions' log groups: the REPORT-derived numbers
//! (cold starts, init/restore durations, memory used, billed duration, timeouts) as
//! server-side aggregates per log group and period. No log line is ever downloaded: each
//! query returns one row per `(@log, bin(period))`.
//!
//! Cost and limits that shape it:
//! - Logs Insights bills $0.005 per GB *scanned*, whatever the query returns; the bytes each
//!   query scanned (`statistics.bytesScanned`) are summed into the run summary.
//! - One query reads at most 50 log groups and returns at most 10,000 rows, so a query gets
//!   at most `min(50, 10,000 / periods)` groups ([`groups_per_query`]); only groups of
//!   functions with invocations in the window are queried (idle functions have nothing to scan).
//! - Queries run asynchronously: StartQuery, then GetQueryResults polled with backoff
//!   ([`PollBackoff`]) until `Complete`.
//! - One query text serves both log formats: text REPORT lines (fields Logs Insights
//!   discovers, `@duration` ...) and JSON `platform.report` records (`record.metrics.*`), joined
//!   with `coalesce`. `Restore Duration` (SnapStart) and `Status: timeout` are not discovered
//!   fields: `parse` extracts them, anchored on the tab before the key so "Billed Restore
//!   Duration" never matches. Older runtimes mark a timeout only with a "Task timed out after"
//!   line, counted separately ([`LogPeriodStats::timeouts`]).
//! - A log group that does not exist (function never invoked since its group was deleted)
//!   fails the whole query with ResourceNotFoundException: it is dropped and the query retried.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_types::region::Region;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::config::Window;
use crate::discover::{AccountSession, FunctionRecord};
use crate::summary::{actions, ApiCallCounter};

/// StartQuery accepts at most 50 log groups.
pub const MAX_GROUPS_PER_QUERY: usize = 50;
/// GetQueryResults returns at most 10,000 rows.
pub const MAX_ROWS_PER_QUERY: usize = 10_000;
/// Queries of one account and region in flight at once (AWS allows 30 per account).
pub const MAX_CONCURRENT_QUERIES: usize = 4;
/// A query still running after this long is abandoned (its periods get estimated costs).
pub const QUERY_DEADLINE: Duration = Duration::from_secs(600);

/// REPORT-derived aggregates of one log group in one period, as Logs Insights returned them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPeriodStats {
    /// REPORT records (one per finished invocation).
    pub reports: u64,
    pub duration_max_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub billed_duration_ms_sum: f64,
    /// Sum of Billed Duration (ms) x Memory Size (MB): GB-seconds x 1024 x 1000.
    pub billed_mb_ms_sum: f64,
    pub memory_size_mb: Option<f64>,
    pub max_memory_used_mb: Option<f64>,
    /// REPORTs with an Init Duration, and its average and maximum.
    pub inits: u64,
    pub init_duration_avg_ms: Option<f64>,
    pub init_duration_max_ms: Option<f64>,
    /// REPORTs with a Restore Duration (SnapStart), and its maximum.
    pub restores: u64,
    pub restore_duration_max_ms: Option<f64>,
    /// REPORTs with status timeout (text `Status: timeout` or JSON `"status":"timeout"`).
    pub status_timeouts: u64,
    /// "Task timed out after N seconds" lines (runtimes whose REPORT carries no status).
    pub task_timeouts: u64,
}

impl LogPeriodStats {
    pub fn cold_starts(&self) -> u64 {
        self.inits + self.restores
    }

    /// A timed-out invocation is marked by a REPORT status, a "Task timed out" line, or both
    /// (depending on the runtime): the larger count, so no invocation counts twice.
    pub fn timeouts(&self) -> u64 {
        self.status_timeouts.max(self.task_timeouts)
    }
}

/// The query text for periods of `period_seconds`. Column names are the `as` aliases below.
pub fn query_string(period_seconds: u32) -> String {
    format!(
        r#"filter @type = "REPORT" or type = "platform.report" or @message like /Task timed out after/
| parse @message /\tRestore Duration: (?<lfmRestoreText>[0-9.]+) ms/
| parse @message /\tStatus: (?<lfmStatusTimeout>timeout)/
| parse @message /"status": ?"(?<lfmJsonTimeout>timeout)"/
| parse @message /(?<lfmTaskTimedOut>Task timed out after)/
| fields coalesce(@duration, record.metrics.durationMs) as lfmDuration,
    coalesce(@billedDuration, record.metrics.billedDurationMs) as lfmBilled,
    coalesce(@memorySize, record.metrics.memorySizeMB) as lfmMemory,
    coalesce(@maxMemoryUsed, record.metrics.maxMemoryUsedMB) as lfmMaxMemory,
    coalesce(@initDuration, record.metrics.initDurationMs) as lfmInit,
    coalesce(lfmRestoreText, record.metrics.restoreDurationMs) as lfmRestore
| fields lfmBilled * lfmMemory as lfmBilledMbMs
| stats count(lfmDuration) as reports, max(lfmDuration) as durationMax, pct(lfmDuration, 99) as durationP99,
    sum(lfmBilled) as billedSum, sum(lfmBilledMbMs) as billedMbMs, max(lfmMemory) as memorySize,
    max(lfmMaxMemory) as maxMemoryUsed, count(lfmInit) as inits, avg(lfmInit) as initAvg,
    max(lfmInit) as initMax, count(lfmRestore) as restores, max(lfmRestore) as restoreMax,
    count(lfmStatusTimeout) as statusTimeouts, count(lfmJsonTimeout) as jsonTimeouts,
    count(lfmTaskTimedOut) as taskTimeouts
    by @log as lfmLog, bin({period_seconds}s) as lfmPeriod"#
    )
}

/// Log groups per query so that `groups x periods` rows fit in one result.
pub fn groups_per_query(periods: u64) -> usize {
    let by_rows = MAX_ROWS_PER_QUERY as u64 / periods.max(1);
    (by_rows as usize).clamp(1, MAX_GROUPS_PER_QUERY)
}

/// One row of GetQueryResults: `(field, value)` pairs, values as strings.
pub type ResultRow = Vec<(String, String)>;

/// Parses result rows into `(log group name, period start, stats)`. Rows are checked, never
/// trusted: a missing group or period, or a number that does not parse, is an error.
pub fn parse_rows(rows: &[ResultRow]) -> Result<Vec<(String, DateTime<Utc>, LogPeriodStats)>, String> {
    rows.iter()
        .map(|row| {
            let get = |name: &str| row.iter().find(|(f, _)| f == name).map(|(_, v)| v.as_str());
            let number = |name: &str| -> Result<Option<f64>, String> {
                get(name)
                    .map(|v| v.parse::<f64>().map_err(|_| format!("column {name}: {v:?} is not a number")))
                    .transpose()
            };
            let count = |name: &str| -> Result<u64, String> { Ok(number(name)?.unwrap_or(0.0).max(0.0).round() as u64) };
            let log = get("lfmLog").ok_or("a row without lfmLog")?;
            // @log is "ACCOUNT_ID:LOG_GROUP_NAME".
            let group = log.split_once(':').map(|(_, g)| g).unwrap_or(log).to_string();
            let period = get("lfmPeriod").ok_or("a row without lfmPeriod")?;
            let period = parse_insights_timestamp(period)?;
            let stats = LogPeriodStats {
                reports: count("reports")?,
                duration_max_ms: number("durationMax")?,
                duration_p99_ms: number("durationP99")?,
                billed_duration_ms_sum: number("billedSum")?.unwrap_or(0.0),
                billed_mb_ms_sum: number("billedMbMs")?.unwrap_or(0.0),
                memory_size_mb: number("memorySize")?,
                max_memory_used_mb: number("maxMemoryUsed")?,
                inits: count("inits")?,
                init_duration_avg_ms: number("initAvg")?,
                init_duration_max_ms: number("initMax")?,
                restores: count("restores")?,
                restore_duration_max_ms: number("restoreMax")?,
                status_timeouts: count("statusTimeouts")? + count("jsonTimeouts")?,
                task_timeouts: count("taskTimeouts")?,
            };
            Ok((group, period, stats))
        })
        .collect()
}

/// Logs Insights shows timestamps as `2026-11-26 15:05:00.000` (UTC).
pub fn parse_insights_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|e| format!("period {text:?} is not a Logs Insights timestamp: {e}"))
}

/// Delays between GetQueryResults polls: 100 ms doubling to at most 5 s.
#[derive(Debug, Clone)]
pub struct PollBackoff {
    next: Duration,
}

impl Default for PollBackoff {
    fn default() -> Self {
        Self { next: Duration::from_millis(100) }
    }
}

impl Iterator for PollBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let current = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(5));
        Some(current)
    }
}

/// The log group name in a ResourceNotFoundException message ("Log group 'NAME' does not exist ...").
pub fn missing_group_in(message: &str) -> Option<&str> {
    let rest = message.split_once("Log group '")?.1;
    Some(rest.split_once('\'')?.0)
}

/// What the Insights queries of one account and region produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsHarvest {
    /// Per function (indexed like the harvested functions): stats by period start. A function
    /// not queried (idle, its group missing, or sharing its group) has an empty map.
    pub stats: Vec<BTreeMap<DateTime<Utc>, LogPeriodStats>>,
    /// Per function: whether its log group was queried (false: costs are estimated).
    pub queried: Vec<bool>,
    pub queries: u64,
    pub bytes_scanned: f64,
    pub records_scanned: f64,
    /// Log groups that did not exist.
    pub missing_groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("account {account_id} region {region}: {action} failed: {reason}. Check that the role grants logs:StartQuery and logs:GetQueryResults on the functions' log groups")]
pub struct LogsInsightsError {
    pub account_id: String,
    pub region: String,
    pub action: &'static str,
    pub reason: String,
}

/// Queries the log groups of `functions` whose `active` flag is set, over `window`.
pub async fn harvest(
    session: &AccountSession,
    region: &str,
    functions: &[FunctionRecord],
    active: &[bool],
    window: &Window,
    calls: &ApiCallCounter,
) -> Result<LogsHarvest, LogsInsightsError> {
    let config = aws_sdk_cloudwatchlogs::config::Builder::from(&session.sdk_config)
        .region(Region::new(region.to_string()))
        .build();
    let client = aws_sdk_cloudwatchlogs::Client::from_conf(config);

    let mut result = LogsHarvest {
        stats: vec![BTreeMap::new(); functions.len()],
        queried: vec![false; functions.len()],
        ..LogsHarvest::default()
    };
    // A group shared by several functions (custom LoggingConfig) cannot be split by @log.
    let mut users: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in functions.iter().enumerate() {
        if active.get(i).copied().unwrap_or(false) {
            users.entry(f.log_group.as_str()).or_default().push(i);
        }
    }
    let mut groups: Vec<(&str, usize)> =
        users.into_iter().filter(|(_, idx)| idx.len() == 1).map(|(g, idx)| (g, idx[0])).collect();
    groups.sort();
    let periods = u64::try_from(window.period_count()).unwrap_or(0);
    let query = query_string(window.period_seconds);

    let batches: Vec<Vec<(&str, usize)>> = groups.chunks(groups_per_query(periods)).map(<[_]>::to_vec).collect();
    let outcomes: Vec<Result<BatchOutcome, LogsInsightsError>> = futures::StreamExt::collect(
        futures::StreamExt::buffer_unordered(
            futures::stream::iter(batches.into_iter().map(|batch| run_batch(&client, session, region, batch, &query, window, calls))),
            MAX_CONCURRENT_QUERIES,
        ),
    )
    .await;
    for outcome in outcomes {
        let outcome = outcome?;
        result.queries += outcome.queries;
        result.bytes_scanned += outcome.bytes_scanned;
        result.records_scanned += outcome.records_scanned;
        result.missing_groups.extend(outcome.missing);
        for &(_, index) in &outcome.groups {
            result.queried[index] = true;
        }
        let index_of: HashMap<&str, usize> = outcome.groups.iter().map(|(g, i)| (g.as_str(), *i)).collect();
        for (group, period, stats) in outcome.rows {
            // Rows outside the window (an event stamped exactly at its end) are not ours.
            if period < window.start || period >= window.end {
                continue;
            }
            if let Some(&index) = index_of.get(group.as_str()) {
                result.stats[index].insert(period, stats);
            }
        }
    }
    result.missing_groups.sort();
    Ok(result)
}

struct BatchOutcome {
    groups: Vec<(String, usize)>,
    rows: Vec<(String, DateTime<Utc>, LogPeriodStats)>,
    queries: u64,
    bytes_scanned: f64,
    records_scanned: f64,
    missing: Vec<String>,
}

async fn run_batch(
    client: &aws_sdk_cloudwatchlogs::Client,
    session: &AccountSession,
    region: &str,
    batch: Vec<(&str, usize)>,
    query: &str,
    window: &Window,
    calls: &ApiCallCounter,
) -> Result<BatchOutcome, LogsInsightsError> {
    let failed = |action: &'static str, reason: String| LogsInsightsError {
        account_id: session.account_id.clone(),
        region: region.to_string(),
        action,
        reason,
    };
    let mut groups: Vec<(String, usize)> = batch.iter().map(|(g, i)| (g.to_string(), *i)).collect();
    let mut outcome =
        BatchOutcome { groups: Vec::new(), rows: Vec::new(), queries: 0, bytes_scanned: 0.0, records_scanned: 0.0, missing: Vec::new() };
    let query_id = loop {
        if groups.is_empty() {
            return Ok(outcome);
        }
        calls.record(actions::LOGS_START_QUERY);
        outcome.queries += 1;
        let started = client
            .start_query()
            .set_log_group_names(Some(groups.iter().map(|(g, _)| g.clone()).collect()))
            .start_time(window.start.timestamp())
            .end_time(window.end.timestamp())
            .query_string(query)
            .limit(MAX_ROWS_PER_QUERY as i32)
            .send()
            .await;
        match started {
            Ok(output) => break output.query_id().unwrap_or_default().to_string(),
            Err(e) => {
                let not_found = e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception());
                let reason = crate::aws_error::describe(&e);
                match missing_group_in(&reason).filter(|_| not_found) {
                    Some(missing) if groups.iter().any(|(g, _)| g == missing) => {
                        let missing = missing.to_string();
                        groups.retain(|(g, _)| *g != missing);
                        outcome.missing.push(missing);
                    }
                    _ => return Err(failed(actions::LOGS_START_QUERY, reason)),
                }
            }
        }
    };

    let deadline = tokio::time::Instant::now() + QUERY_DEADLINE;
    let mut backoff = PollBackoff::default();
    loop {
        calls.record(actions::LOGS_GET_QUERY_RESULTS);
        let output = client
            .get_query_results()
            .query_id(&query_id)
            .send()
            .await
            .map_err(|e| failed(actions::LOGS_GET_QUERY_RESULTS, crate::aws_error::describe(&e)))?;
        match output.status() {
            Some(QueryStatus::Complete) => {
                if let Some(statistics) = output.statistics() {
                    outcome.bytes_scanned += statistics.bytes_scanned();
                    outcome.records_scanned += statistics.records_scanned();
                }
                let rows: Vec<ResultRow> = output
                    .results()
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|f| (f.field().unwrap_or_default().to_string(), f.value().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .collect();
                if rows.len() >= MAX_ROWS_PER_QUERY {
                    return Err(failed(
                        actions::LOGS_GET_QUERY_RESULTS,
                        format!("query {query_id} hit the {MAX_ROWS_PER_QUERY}-row limit; numbers would be incomplete"),
                    ));
                }
                outcome.rows = parse_rows(&rows).map_err(|e| failed(actions::LOGS_GET_QUERY_RESULTS, e))?;
                outcome.groups = groups;
                return Ok(outcome);
            }
            Some(QueryStatus::Scheduled) | Some(QueryStatus::Running) | None => {}
            Some(other) => {
                return Err(failed(actions::LOGS_GET_QUERY_RESULTS, format!("query {query_id} ended with status {}", other.as_str())))
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(failed(
                actions::LOGS_GET_QUERY_RESULTS,
                format!("query {query_id} still running after {}s", QUERY_DEADLINE.as_secs()),
            ));
        }
        tokio::time::sleep(backoff.next().unwrap_or(Duration::from_secs(5))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for column in ["reports", "durationMax", "durationP99", "billedSum", "billedMbMs", "memorySize", "maxMemoryUsed",
            "inits", "initAvg", "initMax", "restores", "restoreMax", "statusTimeouts", "jsonTimeouts", "taskTimeouts"]
        {
            assert!(q.contains(&format!(" as {column}")), "{column}");
        }
        // Restore Duration is anchored so that "Billed Restore Duration" never matches.
        assert!(q.contains(r"/\tRestore Duration: "));
        assert!(q.len() < 10_000);
    }

    #[test]
    fn parses_a_result_row() {
        let rows = vec![row(&[
            ("lfmLog", "111122223333:/aws/lambda/orders-api"),
            ("lfmPeriod", "2026-11-26 15:05:00.000"),
            ("reports", "25"),
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
        ])];
        let parsed = parse_rows(&rows).unwrap();
        let (group, period, stats) = &parsed[0];
        assert_eq!(group, "/aws/lambda/orders-api");
        assert_eq!(*period, "2026-11-26T15:05:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(stats.reports, 25);
        assert_eq!(stats.cold_starts(), 2);
        assert_eq!(stats.restore_duration_max_ms, None);
        assert_eq!(stats.timeouts(), 1);
        assert_eq!(stats.billed_mb_ms_sum, 798720.0);
    }

    #[test]
    fn bad_rows_are_errors() {
        assert!(parse_rows(&[row(&[("lfmPeriod", "2026-11-26 15:05:00.000")])]).unwrap_err().contains("lfmLog"));
        assert!(parse_rows(&[row(&[("lfmLog", "1:/g"), ("lfmPeriod", "yesterday")])]).is_err());
        assert!(parse_rows(&[row(&[("lfmLog", "1:/g"), ("lfmPeriod", "2026-11-26 15:05:00.000"), ("reports", "many")])])
            .unwrap_err()
            .contains("reports"));
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
}
