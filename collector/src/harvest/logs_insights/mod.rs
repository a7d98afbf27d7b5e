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
//!
//! One concern per file: [`query`] (the query text and its row), [`answer`] (checks of the
//! answers), [`poll`] (running one query), [`merge`] (a region's queries into one harvest);
//! [`harvest`] here wires them per account and region.

mod answer;
mod merge;
mod poll;
mod query;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use aws_types::region::Region;

pub use answer::{assign_rows, parse_insights_timestamp, parse_row, read_answer, Answer, AssignedRows, ResultRow, RowError, Unreadable};
pub use merge::LogsHarvest;
pub use poll::{missing_group_in, PollBackoff, QUERY_DEADLINE};
pub use query::{groups_per_query, query_string, LogPeriodStats, MAX_GROUPS_PER_QUERY, MAX_ROWS_PER_QUERY};

use self::merge::merge;
use self::poll::{run_batch, BatchOutcome};
use crate::config::Window;
use crate::discover::{AccountSession, FunctionRecord};
use crate::metering::{skipped, ApiCallCounter};

/// Queries of one account and region in flight at once (AWS allows 30 per account).
pub const MAX_CONCURRENT_QUERIES: usize = 4;

/// What to check when AWS answers StartQuery or GetQueryResults with an error (not when no
/// answer came: the sentence of [`crate::aws_error`] then says what to do).
pub const LOGS_INSIGHTS_ADVICE: &str =
    "Check that the role grants logs:StartQuery and logs:GetQueryResults on the functions' log groups";

/// `reason`: the sentence of [`crate::aws_error`] (with [`LOGS_INSIGHTS_ADVICE`] when AWS
/// answered), or what was wrong with the answer.
#[derive(Debug, thiserror::Error)]
#[error("account {account_id} region {region}: {action} failed: {reason}")]
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
