//! The collection window: which periods to harvest, aligned to the period as CloudWatch does.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::ConfigError;

/// A half-open interval `[start, end)` of whole periods, aligned to multiples of
/// `period_seconds` since the Unix epoch (AWS aligns GetMetricData buckets the same way, so an
/// unaligned StartTime would shift every bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub period_seconds: u32,
}

impl Window {
    /// Aligns `start` down and `end` up to the period. Errors when the window is empty or the
    /// period is not one CloudWatch accepts for standard-resolution metrics.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>, period_seconds: u32) -> Result<Self, ConfigError> {
        #[allow(clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87; the workspace supports 1.80
        if period_seconds == 0 || period_seconds % 60 != 0 {
            return Err(ConfigError::Invalid(format!(
                "period {period_seconds}s: Lambda metrics are standard resolution, use a multiple of 60 seconds (e.g. --period 300)"
            )));
        }
        let step = TimeDelta::seconds(i64::from(period_seconds));
        let aligned_start = start.duration_trunc(step).map_err(|e| ConfigError::Invalid(format!("start {start}: {e}")))?;
        let mut aligned_end = end.duration_trunc(step).map_err(|e| ConfigError::Invalid(format!("end {end}: {e}")))?;
        if aligned_end < end {
            aligned_end += step;
        }
        if aligned_start >= aligned_end {
            return Err(ConfigError::Invalid(format!(
                "window start {} is not before end {}: give --start earlier than --end",
                start.to_rfc3339(),
                end.to_rfc3339()
            )));
        }
        Ok(Self { start: aligned_start, end: aligned_end, period_seconds })
    }

    /// The last complete hour before `now`: `[hh-1:00, hh:00)`.
    pub fn last_complete_hour(now: DateTime<Utc>, period_seconds: u32) -> Result<Self, ConfigError> {
        let end = now.duration_trunc(TimeDelta::hours(1)).expect("hour truncation of a valid time");
        Self::new(end - TimeDelta::hours(1), end, period_seconds)
    }

    pub fn period_count(&self) -> i64 {
        (self.end - self.start).num_seconds() / i64::from(self.period_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn aligns_start_down_and_end_up() {
        let w = Window::new(t("2026-11-26T15:02:10Z"), t("2026-11-26T15:58:00Z"), 300).unwrap();
        assert_eq!(w.start, t("2026-11-26T15:00:00Z"));
        assert_eq!(w.end, t("2026-11-26T16:00:00Z"));
        assert_eq!(w.period_count(), 12);
    }

    #[test]
    fn last_complete_hour() {
        let w = Window::last_complete_hour(t("2026-11-26T16:20:00Z"), 300).unwrap();
        assert_eq!((w.start, w.end), (t("2026-11-26T15:00:00Z"), t("2026-11-26T16:00:00Z")));
    }

    #[test]
    fn rejects_empty_window_and_odd_period() {
        assert!(Window::new(t("2026-11-26T16:00:00Z"), t("2026-11-26T15:00:00Z"), 300).is_err());
        assert!(Window::new(t("2026-11-26T15:00:00Z"), t("2026-11-26T16:00:00Z"), 90).is_err());
    }
}
