//! Retention done by the collector: which daily metrics indices are past `retention_days`.
//! Pure; [`super::opensearch::OpenSearchStore::apply_retention`] lists and deletes them.

use chrono::NaiveDate;

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
