//! Runtime status of a function from the dated deprecation table shipped in `lfm-schema`
//! ([`lfm_schema::reference::RuntimeTable`]): AWS publishes the schedule only as a web page.

use chrono::NaiveDate;
use lfm_schema::reference::{RuntimeInfo, RuntimeTable};

/// How many days ahead a deprecation counts as "deprecating" unless configured otherwise.
pub const DEFAULT_WARNING_DAYS: u32 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeStatus {
    Supported,
    /// Deprecated within the warning window from the reference day.
    Deprecating,
    Deprecated,
    /// Container image: the runtime is in the image, Lambda has no schedule for it.
    Image,
    /// A runtime id the table does not know (newer than the table, or a typo in an override).
    Unknown,
}

impl RuntimeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Supported => "supported",
            Self::Deprecating => "deprecating",
            Self::Deprecated => "deprecated",
            Self::Image => "image",
            Self::Unknown => "unknown",
        }
    }
}

/// Status of `runtime` (None for container images) on `today`, with its table entry.
pub fn runtime_status<'t>(
    table: &'t RuntimeTable,
    runtime: Option<&str>,
    package_type: Option<&str>,
    today: NaiveDate,
    warning_days: u32,
) -> (RuntimeStatus, Option<&'t RuntimeInfo>) {
    let Some(runtime) = runtime.filter(|r| !r.is_empty()) else {
        return (if package_type == Some("Image") || package_type.is_none() { RuntimeStatus::Image } else { RuntimeStatus::Unknown }, None);
    };
    let Some(info) = table.get(runtime) else { return (RuntimeStatus::Unknown, None) };
    let Ok(deprecation) = NaiveDate::parse_from_str(&info.deprecation, "%Y-%m-%d") else {
        return (RuntimeStatus::Unknown, Some(info));
    };
    let status = if deprecation <= today {
        RuntimeStatus::Deprecated
    } else if (deprecation - today).num_days() <= i64::from(warning_days) {
        RuntimeStatus::Deprecating
    } else {
        RuntimeStatus::Supported
    };
    (status, Some(info))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn statuses_on_a_given_day() {
        let table = RuntimeTable::shipped();
        let today = day("2026-11-26");
        let status = |r: Option<&str>, p: &str| runtime_status(&table, r, Some(p), today, 90).0;
        assert_eq!(status(Some("python3.12"), "Zip"), RuntimeStatus::Supported);
        assert_eq!(status(Some("python3.9"), "Zip"), RuntimeStatus::Deprecated);
        assert_eq!(status(Some("nodejs20.x"), "Zip"), RuntimeStatus::Deprecated);
        assert_eq!(status(Some("go1.x"), "Zip"), RuntimeStatus::Deprecated);
        assert_eq!(status(Some("dotnet8"), "Zip"), RuntimeStatus::Deprecated); // 2026-11-10
        assert_eq!(status(Some("ruby3.3"), "Zip"), RuntimeStatus::Supported); // 2027-03-31: 125 days
        assert_eq!(status(None, "Image"), RuntimeStatus::Image);
        assert_eq!(status(Some("cobol85"), "Zip"), RuntimeStatus::Unknown);
        assert_eq!(runtime_status(&table, Some("ruby3.3"), Some("Zip"), today, 125).0, RuntimeStatus::Deprecating);
        assert_eq!(runtime_status(&table, Some("ruby3.3"), Some("Zip"), today, 124).0, RuntimeStatus::Supported);
    }

    #[test]
    fn the_deprecation_day_itself_is_deprecated() {
        let table = RuntimeTable::shipped();
        let (s, info) = runtime_status(&table, Some("python3.9"), Some("Zip"), day("2025-12-15"), 90);
        assert_eq!(s, RuntimeStatus::Deprecated);
        assert_eq!(info.unwrap().deprecation, "2025-12-15");
        let (s, _) = runtime_status(&table, Some("python3.9"), Some("Zip"), day("2025-12-14"), 90);
        assert_eq!(s, RuntimeStatus::Deprecating);
    }
}
