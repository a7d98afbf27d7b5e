//! Retention done by the collector: which daily metrics indices are past `retention_days`
//! (pure), and what deleting them did ([`RetentionReport`], in the run record and summary).
//! [`super::opensearch::OpenSearchStore::apply_retention`] lists and deletes them.
//!
//! A failure to list or delete is reported and never fails the run: the index stays and the
//! next run tries again.

use chrono::NaiveDate;
use serde::Serialize;

/// What retention did after one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetentionReport {
    pub retention_days: u32,
    /// Indices deleted, ascending (oldest first).
    pub deleted: Vec<String>,
    /// Expired indices that are still there, each with OpenSearch's reason, or why the indices
    /// could not be listed. Each line names the request and what to check.
    pub errors: Vec<String>,
}

impl RetentionReport {
    pub fn new(retention_days: u32) -> Self {
        Self {
            retention_days,
            ..Self::default()
        }
    }

    /// Records that listing the metrics indices failed (nothing was deleted).
    pub fn listing_failed(&mut self, pattern: &str, reason: &str) {
        self.errors.push(format!(
            "retention {} days: listing {pattern} failed: {reason}. No index was deleted; check that the OpenSearch user may \
             read _cat/indices; the next run tries again",
            self.retention_days
        ));
    }

    /// Records the outcome of deleting one expired index.
    pub fn deletion(&mut self, index: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.deleted.push(index.to_string()),
            Err(reason) => self.errors.push(format!(
                "retention {} days: deleting index {index} failed: {reason}. The index stays; check that the OpenSearch \
                 user may delete indices (indices:admin/delete) and that the index has no write block \
                 (index.blocks.read_only); the next run tries again",
                self.retention_days
            )),
        }
    }
}

/// The date of a daily metrics index `{prefix}-metrics-YYYY.MM.DD`; `None` for any other name
/// (another prefix, a suffix, a date that does not exist).
pub fn metrics_index_date(prefix: &str, index: &str) -> Option<NaiveDate> {
    let date = index.strip_prefix(prefix)?.strip_prefix("-metrics-")?;
    if date.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y.%m.%d").ok()
}

/// Indices of `prefix` whose date is more than `retention_days` before `today`: with 30 days
/// on 2026-11-26, 2026-10-27 is kept and 2026-10-26 is deleted.
pub fn expired_metrics_indices<'a>(
    prefix: &str,
    indices: impl IntoIterator<Item = &'a str>,
    today: NaiveDate,
    retention_days: u32,
) -> Vec<String> {
    let Some(oldest_kept) = today.checked_sub_days(chrono::Days::new(u64::from(retention_days)))
    else {
        return Vec::new();
    };
    let mut expired: Vec<String> = indices
        .into_iter()
        .filter(|index| metrics_index_date(prefix, index).is_some_and(|date| date < oldest_kept))
        .map(str::to_string)
        .collect();
    expired.sort();
    expired
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn back_dated_indices_past_retention_are_selected() {
        let names = [
            "lfm-metrics-2026.11.26",
            "lfm-metrics-2026.10.27",
            "lfm-metrics-2026.10.26",
            "lfm-metrics-2025.01.01",
            "lfm-inventory",
            "lfm-runs",
            "lfmx-metrics-2020.01.01",
            "lfm-metrics-2020.01.01-restored",
            "lfm-metrics-2020.02.30",
            "other-metrics-2020.01.01",
        ];
        assert_eq!(
            expired_metrics_indices("lfm", names, day("2026-11-26"), 30),
            vec![
                "lfm-metrics-2025.01.01".to_string(),
                "lfm-metrics-2026.10.26".to_string()
            ]
        );
        assert!(expired_metrics_indices("lfm", names, day("2026-11-26"), 100_000).is_empty());
    }

    #[test]
    fn a_failed_deletion_is_reported_beside_the_ones_that_worked() {
        let mut report = RetentionReport::new(30);
        report.deletion("lfm-metrics-2025.01.01", Ok(()));
        report.deletion(
            "lfm-metrics-2025.01.02",
            Err("HTTP 403 Forbidden: {\"error\":{\"type\":\"security_exception\"}}".into()),
        );
        report.deletion("lfm-metrics-2025.01.03", Ok(()));
        assert_eq!(
            report.deleted,
            ["lfm-metrics-2025.01.01", "lfm-metrics-2025.01.03"]
        );
        assert_eq!(report.errors.len(), 1);
        let error = &report.errors[0];
        for part in [
            "retention 30 days",
            "lfm-metrics-2025.01.02",
            "HTTP 403",
            "security_exception",
            "indices:admin/delete",
        ] {
            assert!(error.contains(part), "{part} missing from {error}");
        }
    }

    #[test]
    fn a_listing_failure_names_the_pattern() {
        let mut report = RetentionReport::new(7);
        report.listing_failed("lfm-metrics-*", "HTTP 503: unavailable");
        assert!(report.deleted.is_empty());
        assert!(
            report.errors[0].contains("lfm-metrics-*") && report.errors[0].contains("HTTP 503"),
            "{:?}",
            report.errors
        );
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({"retention_days": 7, "deleted": [], "errors": [report.errors[0].clone()]})
        );
    }

    #[test]
    fn prefixes_that_contain_each_other_are_kept_apart() {
        assert_eq!(
            metrics_index_date("lfm", "lfm-test-metrics-2020.01.01"),
            None
        );
        assert_eq!(
            metrics_index_date("lfm-test", "lfm-test-metrics-2020.01.01"),
            Some(day("2020-01-01"))
        );
    }
}
