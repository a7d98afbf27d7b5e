//! A run's time limit: the Lambda entry ([`crate::lambda_entry`]) gives [`crate::run_with_limit`]
//! the invocation's deadline (`Lambda-Runtime-Deadline-Ms`); the CLI runs without one.
//!
//! Lambda ends an invocation at its deadline without warning: whatever was harvested but not
//! written is lost, and no checkpoint moves (checkpoints move only after their documents are
//! written, see [`crate::checkpoint`]), so the next run collects it all again. Stopping a little
//! earlier keeps the work done: two moments before the deadline, with margins that grow with
//! the time the invocation had (at most 90 s and 30 s before it, for Lambda's 15 minutes):
//!
//! 1. [`TimeLimit::should_stop`]: no new account, region or window chunk starts;
//! 2. [`TimeLimit::abort_reached`]: work still in flight (a slow Logs Insights query) is
//!    dropped; the time left writes the documents already harvested, the checkpoints of what
//!    was collected in full, and the run record. (A Logs Insights query dropped this way
//!    still runs to its end in AWS, and is billed; nothing reads its answer.)
//!
//! Pure but for the clock; unit-tested below.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Time to write what was harvested, the checkpoints and the run record: an eighth of the time
/// the invocation had, between these bounds.
const FINISH_MARGIN: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));
/// Added to the finish margin before nothing new starts: in-flight work normally ends in it.
const STOP_MARGIN: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// No limit ([`TimeLimit::NONE`]), or a deadline with its two moments (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeLimit(Option<Limit>);

#[derive(Debug, Clone, Copy)]
struct Limit {
    deadline: DateTime<Utc>,
    stop_starting: Instant,
    abort: Instant,
}

impl TimeLimit {
    pub const NONE: TimeLimit = TimeLimit(None);

    /// A limit ending at `deadline`, with margins taken from the time left at `now`.
    pub fn until(deadline: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let left = (deadline - now).to_std().unwrap_or(Duration::ZERO);
        let part = |(min, max): (Duration, Duration)| (left / 8).clamp(min, max);
        let finish = part(FINISH_MARGIN);
        let stop = finish + part(STOP_MARGIN);
        let start = Instant::now();
        TimeLimit(Some(Limit {
            deadline,
            stop_starting: start + left.saturating_sub(stop),
            abort: start + left.saturating_sub(finish),
        }))
    }

    /// The deadline itself, when there is one.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        self.0.map(|l| l.deadline)
    }

    /// True once no new work may start.
    pub fn should_stop(&self) -> bool {
        self.0.is_some_and(|l| Instant::now() >= l.stop_starting)
    }

    /// Completes when work in flight must be dropped; never without a limit.
    pub async fn abort_reached(&self) {
        match self.0 {
            Some(limit) => tokio::time::sleep_until(limit.abort.into()).await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn no_limit_never_stops() {
        assert!(!TimeLimit::NONE.should_stop());
        assert_eq!(TimeLimit::NONE.deadline(), None);
    }

    #[test]
    fn fifteen_minutes_stop_ninety_seconds_before() {
        let now = Utc::now();
        let limit = TimeLimit::until(now + TimeDelta::seconds(900), now);
        assert!(!limit.should_stop());
        let l = limit.0.unwrap();
        let stop_in = l.stop_starting.saturating_duration_since(Instant::now()).as_secs_f64();
        let abort_in = l.abort.saturating_duration_since(Instant::now()).as_secs_f64();
        assert!((809.0..=810.0).contains(&stop_in), "{stop_in}");
        assert!((869.0..=870.0).contains(&abort_in), "{abort_in}");
    }

    #[tokio::test]
    async fn a_short_limit_keeps_a_second_for_each_margin() {
        let now = Utc::now();
        let limit = TimeLimit::until(now + TimeDelta::milliseconds(2500), now);
        assert!(!limit.should_stop());
        tokio::time::timeout(Duration::from_secs(3), limit.abort_reached()).await.expect("aborts before the deadline");
        assert!(limit.should_stop());
        assert!(Utc::now() < now + TimeDelta::milliseconds(2500));
        // A deadline already passed stops at once.
        assert!(TimeLimit::until(now - TimeDelta::seconds(1), now).should_stop());
    }
}
