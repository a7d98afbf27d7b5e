//! When a run without `--start/--end` collects, and how far back it catches up.
//!
//! - The window ends at the last period boundary at or before `now - settle_delay`: CloudWatch
//!   publishes Lambda datapoints with a delay of a minute or two and late ones can trickle in for
//!   a few minutes more, so a period is only "complete" once it has settled. Default 5 minutes
//!   (at the default period of 300 s that is one period; at 60 s, five). A period collected too
//!   early would be final: the checkpoint moves past it.
//! - Without a checkpoint a run collects [`INITIAL_LOOKBACK`] (one hour) up to that end; with
//!   one, everything from the checkpoint, but at most `backfill_horizon` (default 3 h; `--backfill
//!   24h`). An older gap is reported in the summary and the run record, not collected.
//! - With `--start/--end` the window is exactly what was asked (`explicit_window`).

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::{ConfigError, Window};

pub const DEFAULT_SETTLE_DELAY: TimeDelta = TimeDelta::minutes(5);
pub const DEFAULT_BACKFILL_HORIZON: TimeDelta = TimeDelta::hours(3);
/// What a pair without a checkpoint collects (the collector's historical default window).
pub const INITIAL_LOOKBACK: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// `--start/--end` given: collect `Config.window` for every pair, checkpoint or not.
    pub explicit_window: bool,
    /// How far back a run catches up from an old checkpoint.
    pub backfill_horizon: TimeDelta,
    /// How long a period must be over before it is collected.
    pub settle_delay: TimeDelta,
}

impl Default for Schedule {
    /// An explicit window (what a library caller that builds `Config.window` itself means).
    fn default() -> Self {
        Self { explicit_window: true, backfill_horizon: DEFAULT_BACKFILL_HORIZON, settle_delay: DEFAULT_SETTLE_DELAY }
    }
}

/// `[end - INITIAL_LOOKBACK, end)` with `end` the last period boundary at or before
/// `now - settle_delay`.
pub fn default_window(now: DateTime<Utc>, period_seconds: u32, settle_delay: TimeDelta) -> Result<Window, ConfigError> {
    let probe = Window::new(now - INITIAL_LOOKBACK, now, period_seconds)?; // validates the period
    let step = TimeDelta::seconds(i64::from(probe.period_seconds));
    let end = (now - settle_delay)
        .duration_trunc(step)
        .map_err(|e| ConfigError::Invalid(format!("settle delay {settle_delay}: {e}")))?;
    Window::new(end - INITIAL_LOOKBACK, end, period_seconds)
}

/// Parses `90s`, `15m`, `3h`, `2d` or sums of them (`1h30m`); `0` and `0s` are zero.
pub fn parse_duration(name: &str, text: &str) -> Result<TimeDelta, ConfigError> {
    let invalid = || ConfigError::Invalid(format!("{name} {text:?}: write a duration like 90s, 15m, 3h, 1h30m or 2d"));
    let text = text.trim();
    if text == "0" {
        return Ok(TimeDelta::zero());
    }
    let mut total = TimeDelta::zero();
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| invalid())?;
        digits.clear();
        let unit = match c {
            's' => TimeDelta::try_seconds(n),
            'm' => TimeDelta::try_minutes(n),
            'h' => TimeDelta::try_hours(n),
            'd' => TimeDelta::try_days(n),
            _ => None,
        };
        total = total.checked_add(&unit.ok_or_else(invalid)?).ok_or_else(invalid)?;
    }
    if !digits.is_empty() || text.is_empty() {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("backfill", "24h").unwrap(), TimeDelta::hours(24));
        assert_eq!(parse_duration("backfill", "1h30m").unwrap(), TimeDelta::minutes(90));
        assert_eq!(parse_duration("settle", "0s").unwrap(), TimeDelta::zero());
        assert_eq!(parse_duration("settle", "0").unwrap(), TimeDelta::zero());
        assert_eq!(parse_duration("backfill", "2d").unwrap(), TimeDelta::days(2));
        for bad in ["", "3", "h", "3x", "-3h", "3 h"] {
            let err = parse_duration("backfill", bad).unwrap_err().to_string();
            assert!(err.contains("backfill") && err.contains("3h"), "{bad}: {err}");
        }
    }

    #[test]
    fn default_window_ends_at_the_last_settled_boundary() {
        let w = default_window(t("2026-11-26T16:20:00Z"), 300, DEFAULT_SETTLE_DELAY).unwrap();
        assert_eq!((w.start, w.end), (t("2026-11-26T15:15:00Z"), t("2026-11-26T16:15:00Z")));
        let w = default_window(t("2026-11-26T16:24:59Z"), 300, DEFAULT_SETTLE_DELAY).unwrap();
        assert_eq!(w.end, t("2026-11-26T16:15:00Z"), "16:20-16:25 has not settled");
        let w = default_window(t("2026-11-26T16:20:00Z"), 300, TimeDelta::zero()).unwrap();
        assert_eq!(w.end, t("2026-11-26T16:20:00Z"));
        assert!(default_window(t("2026-11-26T16:20:00Z"), 90, TimeDelta::zero()).is_err());
    }
}
