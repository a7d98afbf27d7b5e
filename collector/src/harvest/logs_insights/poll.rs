//! Running one query: StartQuery (dropping log groups that do not exist and starting again),
//! then GetQueryResults polled with backoff ([`PollBackoff`]) until it completes, ends or
//! passes [`QUERY_DEADLINE`]. Every call is counted in the run's metering.

use std::time::Duration;

use super::answer::{read_answer, Answer, ResultRow};
use super::query::MAX_ROWS_PER_QUERY;
use super::LogsInsightsError;
use crate::config::Window;
use crate::discover::AccountSession;
use crate::metering::{actions, ApiCallCounter};

/// A query still running after this long is abandoned (its periods get estimated costs).
pub const QUERY_DEADLINE: Duration = Duration::from_secs(600);

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

/// What one query produced: the groups it read (after dropping missing ones), its rows and
/// its statistics.
pub(super) struct BatchOutcome {
    pub(super) groups: Vec<(String, usize)>,
    pub(super) rows: Vec<ResultRow>,
    pub(super) queries: u64,
    pub(super) bytes_scanned: f64,
    pub(super) records_scanned: f64,
    pub(super) missing: Vec<String>,
}

/// Runs the query over one batch of `(log group, function index)`.
pub(super) async fn run_batch(
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
                let described = crate::aws_error::describe(e, Some(region));
                let reason = described.to_string();
                match missing_group_in(&reason).filter(|_| not_found) {
                    Some(missing) if groups.iter().any(|(g, _)| g == missing) => {
                        let missing = missing.to_string();
                        groups.retain(|(g, _)| *g != missing);
                        outcome.missing.push(missing);
                    }
                    _ => return Err(failed(actions::LOGS_START_QUERY, crate::aws_error::with_advice(&described, super::LOGS_INSIGHTS_ADVICE))),
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
            .map_err(|e| failed(actions::LOGS_GET_QUERY_RESULTS, crate::aws_error::with_advice(&crate::aws_error::describe(e, Some(region)), super::LOGS_INSIGHTS_ADVICE)))?;
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
