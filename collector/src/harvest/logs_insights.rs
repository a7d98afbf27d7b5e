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
//!   with `coalesce`. `Restore Duration`, `Billed Restore Duration` (SnapStart) and `Status:
//!   timeout` are not discovered fields: `parse` extracts them, anchored on the tab before the
//!   key so "Billed Restore Duration" never matches as "Restore Duration". Older runtimes mark a
//!   timeout only with a "Task timed out after" line, counted separately
//!   ([`LogPeriodStats::timeouts`]).
//! - SnapStart: a REPORT after a restore carries `Restore Duration` and `Billed Restore Duration`
//!   (JSON `restoreDurationMs`, `billedRestoreDurationMs`); the billed one is charged on top of
//!   `Billed Duration`, which covers the handler only, and the restore is a cold start (AWS
//!   "Monitoring for Lambda SnapStart",
//!   https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html). Its sums are separate
//!   columns ([`LogPeriodStats::charged_mb_ms_sum`] adds them).
//! - The aggregates count every line that reads like a REPORT record, including one the function
//!   printed itself; `derive::report_check` compares them with CloudWatch's numbers before any
//!   is believed.
//! - A log group that does not exist (function never invoked since its group was deleted)
//!   fails the whole query with ResourceNotFoundException: it is dropped and the query retried.
//!
//! Answers are checked, never trusted ([`parse_row`], [`assign_rows`], [`read_answer`]): a row
//! that cannot be read (a number that is not a finite, non-negative number, a count that is
//! not whole, a missing group or period, a period off the `bin()` grid, a group the query did
//! not read, two rows for one group and period) is never guessed at. The periods it could
//! belong to are *unreadable*: their log-derived fields are null and their cost estimated,
//! exactly as for a failed query, and the row is reported ([`LogsHarvest::problems`]). A query
//! that ends Failed, Cancelled or Timeout makes its own groups unread; the other queries of the
//! region keep their numbers. Rows of periods outside the window are not ours: skipped, counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_types::region::Region;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::config::Window;
use crate::discover::{AccountSession, FunctionRecord};
use crate::summary::{actions, skipped, ApiCallCounter};

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
    /// Sum of Billed Restore Duration (ms) of SnapStart restores, and the same x Memory Size (MB).
    /// Charged on top of Billed Duration, which covers the handler only: AWS "Monitoring for
    /// Lambda SnapStart", https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html
    /// ("Billed Restore Duration: The time it takes for Lambda to load the runtime and run any
    /// after-restore runtime hooks"; duration charges apply to them).
    pub billed_restore_duration_ms_sum: f64,
    pub billed_restore_mb_ms_sum: f64,
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
    /// A SnapStart restore is a cold start: "The cold start duration is the sum of Restore
    /// Duration + Duration" (AWS "Monitoring for Lambda SnapStart").
    pub fn cold_starts(&self) -> u64 {
        self.inits + self.restores
    }

    /// Milliseconds AWS charges: Billed Duration plus Billed Restore Duration.
    pub fn charged_duration_ms_sum(&self) -> f64 {
        self.billed_duration_ms_sum + self.billed_restore_duration_ms_sum
    }

    /// Charged milliseconds x Memory Size (MB): GB-seconds x 1024 x 1000.
    pub fn charged_mb_ms_sum(&self) -> f64 {
        self.billed_mb_ms_sum + self.billed_restore_mb_ms_sum
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
| parse @message /\tBilled Restore Duration: (?<lfmBilledRestoreText>[0-9.]+) ms/
| parse @message /\tStatus: (?<lfmStatusTimeout>timeout)/
| parse @message /"status": ?"(?<lfmJsonTimeout>timeout)"/
| parse @message /(?<lfmTaskTimedOut>Task timed out after)/
| fields coalesce(@duration, record.metrics.durationMs) as lfmDuration,
    coalesce(@billedDuration, record.metrics.billedDurationMs) as lfmBilled,
    coalesce(@memorySize, record.metrics.memorySizeMB) as lfmMemory,
    coalesce(@maxMemoryUsed, record.metrics.maxMemoryUsedMB) as lfmMaxMemory,
    coalesce(@initDuration, record.metrics.initDurationMs) as lfmInit,
    coalesce(lfmRestoreText, record.metrics.restoreDurationMs) as lfmRestore,
    coalesce(lfmBilledRestoreText, record.metrics.billedRestoreDurationMs) as lfmBilledRestore
| fields lfmBilled * lfmMemory as lfmBilledMbMs, lfmBilledRestore * lfmMemory as lfmBilledRestoreMbMs
| stats count(lfmDuration) as reports, max(lfmDuration) as durationMax, pct(lfmDuration, 99) as durationP99,
    sum(lfmBilled) as billedSum, sum(lfmBilledMbMs) as billedMbMs, sum(lfmBilledRestore) as billedRestoreSum,
    sum(lfmBilledRestoreMbMs) as billedRestoreMbMs, max(lfmMemory) as memorySize,
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

/// A result row that could not be used, and what it names (for [`assign_rows`] to decide whose
/// numbers become unreadable).
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// The log group named by the row, when it names one.
    pub group: Option<String>,
    /// The period start of the row, when it has a readable one.
    pub period: Option<DateTime<Utc>>,
    pub reason: String,
}

/// Largest count an `f64` holds exactly (2^53): a larger "count" is not one Logs Insights made.
const MAX_EXACT_COUNT: f64 = 9_007_199_254_740_992.0;

/// Parses one result row into `(log group name, period start, stats)`. A column that is absent
/// or empty is a null statistic (a count: 0); anything else must be a finite, non-negative
/// number, and a count a whole one.
pub fn parse_row(row: &ResultRow) -> Result<(String, DateTime<Utc>, LogPeriodStats), RowError> {
    let get = |name: &str| row.iter().find(|(f, _)| f == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    // @log is "ACCOUNT_ID:LOG_GROUP_NAME" (log group names cannot contain ':').
    let group = get("lfmLog").map(|log| log.split_once(':').map(|(_, g)| g).unwrap_or(log).to_string());
    let period = get("lfmPeriod").map(parse_insights_timestamp);
    let failed = |reason: String| RowError {
        group: group.clone(),
        period: period.as_ref().and_then(|p| p.as_ref().ok()).copied(),
        reason,
    };
    let Some(group_name) = group.clone() else { return Err(failed("a row without lfmLog (@log)".into())) };
    let period = match &period {
        None => return Err(failed("a row without lfmPeriod (bin)".into())),
        Some(Err(e)) => return Err(failed(e.clone())),
        Some(Ok(p)) => *p,
    };
    let number = |name: &str| -> Result<Option<f64>, RowError> {
        let Some(text) = get(name) else { return Ok(None) };
        match text.parse::<f64>() {
            Ok(v) if !v.is_finite() => Err(failed(format!("column {name}: {text:?} is not a finite number"))),
            Ok(v) if v < 0.0 => Err(failed(format!("column {name}: {text:?} is negative"))),
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(failed(format!("column {name}: {text:?} is not a number"))),
        }
    };
    let count = |name: &str| -> Result<u64, RowError> {
        match number(name)? {
            None => Ok(0),
            Some(v) if v.fract() != 0.0 || v > MAX_EXACT_COUNT => {
                Err(failed(format!("column {name}: {v} is not a count (a whole number up to 2^53)")))
            }
            Some(v) => Ok(v as u64),
        }
    };
    let stats = LogPeriodStats {
        reports: count("reports")?,
        duration_max_ms: number("durationMax")?,
        duration_p99_ms: number("durationP99")?,
        billed_duration_ms_sum: number("billedSum")?.unwrap_or(0.0),
        billed_mb_ms_sum: number("billedMbMs")?.unwrap_or(0.0),
        billed_restore_duration_ms_sum: number("billedRestoreSum")?.unwrap_or(0.0),
        billed_restore_mb_ms_sum: number("billedRestoreMbMs")?.unwrap_or(0.0),
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
    Ok((group_name, period, stats))
}

/// Which log-derived numbers of a query's groups could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Unreadable {
    /// The group's whole window (its period could not be read or placed).
    Window(usize),
    /// One period of one group.
    Period(usize, DateTime<Utc>),
}

/// The rows of one query, assigned to the functions whose groups it read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignedRows {
    /// `(function index, period start, stats)`: rows that passed every check.
    pub stats: Vec<(usize, DateTime<Utc>, LogPeriodStats)>,
    pub unreadable: Vec<Unreadable>,
    /// Why rows were rejected (one line per row).
    pub problems: Vec<String>,
    /// Rows of periods outside the window (an event stamped exactly at its end): not ours.
    pub rows_outside_window: u64,
}

/// Checks the rows of a query over `groups` (`(log group, function index)`) and `window`.
/// A row that cannot be tied to one group and period makes unreadable every period it could
/// belong to: its group's window, or when it names no group we queried, that period (or the
/// window) of every group of the query. Never panics, never moves a number to another function.
pub fn assign_rows(rows: &[ResultRow], groups: &[(String, usize)], window: &Window) -> AssignedRows {
    let mut assigned = AssignedRows::default();
    let index_of: HashMap<&str, usize> = groups.iter().map(|(g, i)| (g.as_str(), *i)).collect();
    let step = i64::from(window.period_seconds.max(1));
    let mut seen: BTreeMap<(usize, DateTime<Utc>), usize> = BTreeMap::new();
    let on_grid = |p: &DateTime<Utc>| (*p - window.start).num_seconds() % step == 0;
    let everyone = |period: Option<DateTime<Utc>>| -> Vec<Unreadable> {
        groups
            .iter()
            .map(|(_, i)| match period {
                Some(p) => Unreadable::Period(*i, p),
                None => Unreadable::Window(*i),
            })
            .collect()
    };
    for row in rows {
        let (group, period, stats) = match parse_row(row) {
            Ok(parsed) => parsed,
            Err(e) => {
                let index = e.group.as_deref().and_then(|g| index_of.get(g).copied());
                // An off-grid period cannot name the period it belongs to.
                let period = e.period.filter(|p| on_grid(p) || *p < window.start || *p >= window.end);
                let in_window = period.filter(|p| *p >= window.start && *p < window.end);
                match (index, period, in_window) {
                    (Some(_), Some(_), None) => assigned.rows_outside_window += 1,
                    (Some(i), Some(p), Some(_)) => assigned.unreadable.push(Unreadable::Period(i, p)),
                    (Some(i), None, _) => assigned.unreadable.push(Unreadable::Window(i)),
                    (None, Some(_), None) => assigned.rows_outside_window += 1,
                    (None, period, _) => assigned.unreadable.extend(everyone(period)),
                }
                assigned.problems.push(format!("log group {}: {}", e.group.as_deref().unwrap_or("(none)"), e.reason));
                continue;
            }
        };
        if period < window.start || period >= window.end {
            assigned.rows_outside_window += 1;
            continue;
        }
        let Some(&index) = index_of.get(group.as_str()) else {
            assigned.unreadable.extend(everyone(Some(period)));
            assigned.problems.push(format!("log group {group}: a row for a group this query did not read"));
            continue;
        };
        if !on_grid(&period) {
            assigned.unreadable.push(Unreadable::Window(index));
            assigned.problems.push(format!(
                "log group {group}: period {} is not on the {}s grid of the window",
                period.to_rfc3339(),
                window.period_seconds
            ));
            continue;
        }
        let count = seen.entry((index, period)).or_default();
        *count += 1;
        if *count == 2 {
            assigned.unreadable.push(Unreadable::Period(index, period));
            assigned.problems.push(format!("log group {group}: several rows for period {}", period.to_rfc3339()));
        }
        if *count == 1 {
            assigned.stats.push((index, period, stats));
        }
    }
    assigned
}

/// What one GetQueryResults answer means for the poll loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Scheduled or Running: poll again. Rows of a running query are partial and never used.
    Pending,
    /// Complete: these are all the rows.
    Complete(Vec<ResultRow>),
    /// Failed, Cancelled, Timeout or a status this version does not know: no numbers.
    Ended(String),
}

/// Reads the status and rows of a GetQueryResults answer.
pub fn read_answer(query_id: &str, status: Option<&QueryStatus>, rows: Vec<ResultRow>) -> Answer {
    match status {
        Some(QueryStatus::Complete) if rows.len() >= MAX_ROWS_PER_QUERY => Answer::Ended(format!(
            "query {query_id} hit the {MAX_ROWS_PER_QUERY}-row limit; numbers would be incomplete"
        )),
        Some(QueryStatus::Complete) => Answer::Complete(rows),
        Some(QueryStatus::Scheduled) | Some(QueryStatus::Running) | None => Answer::Pending,
        Some(other) => Answer::Ended(format!("query {query_id} ended with status {}", other.as_str())),
    }
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
    /// Per function: periods whose row could not be read (log fields null, cost estimated).
    pub unreadable: Vec<BTreeSet<DateTime<Utc>>>,
    /// Queries that failed and rows that were rejected, each naming account, region, query or
    /// log group and the reason. Non-empty: the pair's checkpoint must stay.
    pub problems: Vec<String>,
    /// Rows of periods outside the window, skipped.
    pub rows_outside_window: u64,
}

impl LogsHarvest {
    /// What the logs say about function `index` in the period at `start`: `None` when they
    /// were not read (not queried, its query failed, or its row was unreadable); `Some(None)`
    /// when read and the period had no REPORT record.
    pub fn period(&self, index: usize, start: &DateTime<Utc>) -> Option<Option<&LogPeriodStats>> {
        let queried = self.queried.get(index).copied().unwrap_or(false);
        let unreadable = self.unreadable.get(index).is_some_and(|u| u.contains(start));
        (queried && !unreadable).then(|| self.stats.get(index).and_then(|s| s.get(start)))
    }

    /// One line for the region's error when anything went wrong, `None` otherwise.
    pub fn error_report(&self) -> Option<String> {
        let first = self.problems.first()?;
        let more = match self.problems.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        Some(format!(
            "{first}{more}. The log-derived fields of the functions and periods concerned are null (cost estimated); \
             the checkpoint stays, so the next run reads them again"
        ))
    }

    /// Adds the outcome of one query to the harvest.
    fn absorb(&mut self, outcome: BatchOutcome, window: &Window, account_id: &str, region: &str) {
        self.queries += outcome.queries;
        self.bytes_scanned += outcome.bytes_scanned;
        self.records_scanned += outcome.records_scanned;
        self.missing_groups.extend(outcome.missing);
        let assigned = assign_rows(&outcome.rows, &outcome.groups, window);
        for &(_, index) in &outcome.groups {
            self.queried[index] = true;
        }
        for (index, period, stats) in assigned.stats {
            self.stats[index].insert(period, stats);
        }
        for unreadable in assigned.unreadable {
            match unreadable {
                Unreadable::Window(index) => self.queried[index] = false,
                Unreadable::Period(index, period) => {
                    self.unreadable[index].insert(period);
                }
            }
        }
        self.rows_outside_window += assigned.rows_outside_window;
        self.problems.extend(assigned.problems.into_iter().map(|p| {
            format!("account {account_id} region {region}: logs:GetQueryResults answered a row LFM cannot read: {p}")
        }));
    }
}

#[derive(Debug, thiserror::Error)]
#[error("account {account_id} region {region}: {action} failed: {reason}. Check that the role grants logs:StartQuery and logs:GetQueryResults on the functions' log groups")]
pub struct LogsInsightsError {
    pub account_id: String,
    pub region: String,
    pub action: &'static str,
    pub reason: String,
}

/// Queries the log groups of `functions` whose `active` flag is set, over `window`. Errors only
/// when no query succeeded; otherwise failed queries and unreadable rows are in
/// [`LogsHarvest::problems`] and their functions' periods read as not read.
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
    let merged = merge(functions.len(), outcomes, window, &session.account_id, region);
    if let Ok(harvest) = &merged {
        calls.record_skipped(skipped::LOGS_INSIGHTS_OUTSIDE_WINDOW, harvest.rows_outside_window);
    }
    merged
}

/// The region's harvest from the outcomes of its queries: failed queries leave their groups
/// unread and are reported; the others keep their numbers. Errors only when every query failed.
fn merge(
    function_count: usize,
    outcomes: Vec<Result<BatchOutcome, LogsInsightsError>>,
    window: &Window,
    account_id: &str,
    region: &str,
) -> Result<LogsHarvest, LogsInsightsError> {
    let mut result = LogsHarvest {
        stats: vec![BTreeMap::new(); function_count],
        queried: vec![false; function_count],
        unreadable: vec![BTreeSet::new(); function_count],
        ..LogsHarvest::default()
    };
    let mut first_failure = None;
    let mut succeeded = 0;
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => {
                succeeded += 1;
                result.absorb(outcome, window, account_id, region);
            }
            Err(e) => {
                result.problems.push(e.to_string());
                first_failure.get_or_insert(e);
            }
        }
    }
    if let (0, Some(failure)) = (succeeded, first_failure) {
        return Err(failure);
    }
    result.missing_groups.sort();
    Ok(result)
}

struct BatchOutcome {
    groups: Vec<(String, usize)>,
    rows: Vec<ResultRow>,
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
        let rows: Vec<ResultRow> = output
            .results()
            .iter()
            .map(|row| {
                row.iter()
                    .map(|f| (f.field().unwrap_or_default().to_string(), f.value().unwrap_or_default().to_string()))
                    .collect()
            })
            .collect();
        match read_answer(&query_id, output.status(), rows) {
            Answer::Pending => {}
            Answer::Complete(rows) => {
                if let Some(statistics) = output.statistics() {
                    outcome.bytes_scanned += statistics.bytes_scanned();
                    outcome.records_scanned += statistics.records_scanned();
                }
                outcome.rows = rows;
                outcome.groups = groups;
                return Ok(outcome);
            }
            Answer::Ended(reason) => {
                let names: Vec<&str> = groups.iter().map(|(g, _)| g.as_str()).take(5).collect();
                let more = groups.len().saturating_sub(names.len());
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                return Err(failed(
                    actions::LOGS_GET_QUERY_RESULTS,
                    format!("{reason} (log groups {}{more})", names.join(", ")),
                ));
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
}
