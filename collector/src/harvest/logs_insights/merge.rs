//! Merging the outcomes of a region's queries into one [`LogsHarvest`]: each query's checked
//! rows go to their functions, a failed query leaves only its own groups unread, and the
//! region fails only when every query failed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::answer::{assign_rows, Unreadable};
use super::poll::BatchOutcome;
use super::query::LogPeriodStats;
use super::LogsInsightsError;
use crate::config::Window;

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

/// The region's harvest from the outcomes of its queries: failed queries leave their groups
/// unread and are reported; the others keep their numbers. Errors only when every query failed.
pub(super) fn merge(
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
