//! Checks of what GetQueryResults answers, never trusted: a row is parsed ([`parse_row`]) and
//! tied to exactly one queried group and period ([`assign_rows`]) or its periods become
//! unreadable; a status is read into what the poll loop does next ([`read_answer`]).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::query::{LogPeriodStats, MAX_ROWS_PER_QUERY};
use crate::config::Window;

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
