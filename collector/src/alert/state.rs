//! The alert state machine (pure), with hysteresis against flapping (ALERTS.md, Evaluation 4):
//!
//! - none/resolved -> pending: 1 <= breaching < M (recorded, not notified)
//! - none/resolved/pending -> firing: breaching >= M (notified)
//! - pending -> cleared (the state is forgotten): breaching == 0 (recorded, not notified)
//! - firing -> resolved: ZERO breaching slots in the last N, not merely fewer than M (notified)
//! - firing, and the last notification at least `renotify_minutes` ago (0 = never) -> renotify
//!
//! So a metric alternating between breaching and ok stays firing, and a fire/resolve cycle
//! takes at least N + M periods. Part of [`crate::alert`].

/// Where a (rule, function) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Firing,
    Resolved,
    Cleared,
}

/// A transition, as written to `{p}-alerts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Pending,
    Firing,
    Renotify,
    Resolved,
    Cleared,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => lfm_schema::alerts::status::PENDING,
            Status::Firing => lfm_schema::alerts::status::FIRING,
            Status::Resolved => lfm_schema::alerts::status::RESOLVED,
            // A cleared state is forgotten: it reads as resolved (not open, not notified).
            Status::Cleared => lfm_schema::alerts::status::RESOLVED,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Status::Pending, Status::Firing, Status::Resolved].into_iter().find(|s| s.as_str() == text)
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        use lfm_schema::alerts::transition as t;
        match self {
            Kind::Pending => t::PENDING,
            Kind::Firing => t::FIRING,
            Kind::Renotify => t::RENOTIFY,
            Kind::Resolved => t::RESOLVED,
            Kind::Cleared => t::CLEARED,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Kind::Pending, Kind::Firing, Kind::Renotify, Kind::Resolved, Kind::Cleared].into_iter().find(|k| k.as_str() == text)
    }

    /// Whether people are told (pending and cleared are only recorded).
    pub fn notifies(self) -> bool {
        matches!(self, Kind::Firing | Kind::Renotify | Kind::Resolved)
    }

    /// The state's status after this transition.
    pub fn status_after(self) -> Status {
        match self {
            Kind::Pending => Status::Pending,
            Kind::Firing | Kind::Renotify => Status::Firing,
            Kind::Resolved => Status::Resolved,
            Kind::Cleared => Status::Cleared,
        }
    }
}

/// What the stage knows of an open state (pending or firing) before this evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    pub status: Status,
    /// Unix seconds of the last notification delivered or attempted, else of the firing.
    pub last_notified_at: Option<i64>,
}

/// The transition of one (rule, function) this run, if any. `prior` is `None` for no state
/// (or a resolved or cleared one); `now` in unix seconds.
pub fn next(prior: Option<Prior>, breaching: u32, datapoints_to_alarm: u32, now: i64, renotify_minutes: u32) -> Option<Kind> {
    let m = datapoints_to_alarm.max(1);
    let status = prior.map(|p| p.status).filter(|s| matches!(s, Status::Pending | Status::Firing));
    match status {
        None if breaching >= m => Some(Kind::Firing),
        None if breaching >= 1 => Some(Kind::Pending),
        None => None,
        Some(Status::Pending) if breaching >= m => Some(Kind::Firing),
        Some(Status::Pending) if breaching == 0 => Some(Kind::Cleared),
        Some(Status::Pending) => None,
        Some(_) if breaching == 0 => Some(Kind::Resolved),
        Some(_) => {
            let last = prior.and_then(|p| p.last_notified_at);
            let due = renotify_minutes > 0 && last.is_some_and(|at| now - at >= i64::from(renotify_minutes) * 60);
            due.then_some(Kind::Renotify)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::evaluate::tests::{row, rule};
    use crate::alert::evaluate::evaluate;

    fn prior(status: Status, at: i64) -> Option<Prior> {
        Some(Prior { status, last_notified_at: Some(at) })
    }

    #[test]
    fn transitions() {
        assert_eq!(next(None, 0, 3, 0, 240), None);
        assert_eq!(next(None, 1, 3, 0, 240), Some(Kind::Pending));
        assert_eq!(next(None, 3, 3, 0, 240), Some(Kind::Firing));
        assert_eq!(next(prior(Status::Pending, 0), 2, 3, 0, 240), None);
        assert_eq!(next(prior(Status::Pending, 0), 3, 3, 0, 240), Some(Kind::Firing));
        assert_eq!(next(prior(Status::Pending, 0), 0, 3, 0, 240), Some(Kind::Cleared));
        // Firing stays firing while any slot breaches: hysteresis.
        assert_eq!(next(prior(Status::Firing, 0), 1, 3, 60, 240), None);
        assert_eq!(next(prior(Status::Firing, 0), 0, 3, 60, 240), Some(Kind::Resolved));
        // Renotify after the interval, never with 0.
        assert_eq!(next(prior(Status::Firing, 0), 2, 3, 240 * 60 - 1, 240), None);
        assert_eq!(next(prior(Status::Firing, 0), 2, 3, 240 * 60, 240), Some(Kind::Renotify));
        assert_eq!(next(prior(Status::Firing, 0), 2, 3, 10_000_000, 0), None);
        // A resolved or cleared state reads as none.
        assert_eq!(next(prior(Status::Resolved, 0), 1, 3, 0, 240), Some(Kind::Pending));
        assert_eq!(next(prior(Status::Cleared, 0), 3, 3, 0, 240), Some(Kind::Firing));
        assert!(Kind::Firing.notifies() && Kind::Renotify.notifies() && Kind::Resolved.notifies());
        assert!(!Kind::Pending.notifies() && !Kind::Cleared.notifies());
    }

    /// Runs the state machine once per period over `values` (one run per period, the history
    /// being every period so far) and returns the transitions in order.
    fn simulate(values: &[f64], m: u32, n: u32, renotify_minutes: u32) -> Vec<(usize, Kind)> {
        let threshold = rule(m, n);
        let mut rows = Vec::new();
        let mut state: Option<Prior> = None;
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let start = i as i64 * 300;
            rows.push(row(start, 100, Some(*v)));
            let now = start + 300 + 60;
            let e = evaluate(&threshold, &rows, None).unwrap();
            if let Some(kind) = next(state, e.breaching, m, now, renotify_minutes) {
                out.push((i, kind));
                let notified = if kind.notifies() { Some(now) } else { state.and_then(|s| s.last_notified_at) };
                state = Some(Prior { status: kind.status_after(), last_notified_at: notified });
            }
        }
        out
    }

    #[test]
    fn a_flapping_metric_fires_once_and_never_storms() {
        // Alternating breach / ok for 50 periods (250 minutes).
        let values: Vec<f64> = (0..50).map(|i| if i % 2 == 0 { 0.5 } else { 0.0 }).collect();
        // (M, N, firing, notifications): every window of 3 or 5 alternating periods holds enough
        // breaches to fire once and at least one breach, so it never resolves; 2 of 2 never sees
        // two breaches in a row (pending, never notified); 1 of 1 has no hysteresis (as in
        // CloudWatch: the user asked for every period).
        for (m, n, fired, notified) in [(2, 3, 1, 1), (3, 5, 1, 1), (2, 2, 0, 0), (1, 1, 25, 50)] {
            let transitions = simulate(&values, m, n, 0);
            let firing = transitions.iter().filter(|(_, k)| *k == Kind::Firing).count();
            let messages = transitions.iter().filter(|(_, k)| k.notifies()).count();
            assert_eq!((firing, messages), (fired, notified), "M={m} N={n}: {transitions:?}");
        }
        // With renotify every 2 hours, 250 minutes of flapping: one firing and one reminder.
        let transitions = simulate(&values, 3, 5, 120);
        let kinds: Vec<Kind> = transitions.iter().map(|(_, k)| *k).filter(|k| k.notifies()).collect();
        assert_eq!(kinds, vec![Kind::Firing, Kind::Renotify], "{transitions:?}");
    }

    #[test]
    fn a_fire_resolve_cycle_takes_at_least_n_plus_m_periods() {
        // Bad for 3 periods, good for 5, bad for 3 ...: M=3 N=5.
        let pattern = [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0];
        let values: Vec<f64> = pattern.iter().cycle().take(48).copied().collect();
        let transitions = simulate(&values, 3, 5, 0);
        let notified: Vec<(usize, Kind)> = transitions.into_iter().filter(|(_, k)| k.notifies()).collect();
        for pair in notified.windows(2) {
            if pair[0].1 == Kind::Firing {
                assert_eq!(pair[1].1, Kind::Resolved);
            }
            if let ((fired, Kind::Firing), (_, Kind::Resolved)) = (pair[0], pair[1]) {
                let next_fire = notified.iter().find(|(i, k)| *i > fired && *k == Kind::Firing);
                if let Some((again, _)) = next_fire {
                    assert!(again - fired >= 8, "{notified:?}");
                }
            }
        }
        assert_eq!(notified.iter().filter(|(_, k)| *k == Kind::Firing).count(), 6, "{notified:?}");
    }
}

/// How long a notification whose delivery failed is retried by the next runs, counted from the
/// start of the state it announces (`since`): a destination that was down for a while still
/// gets the firing and the resolve, a destination that stays broken stops costing a retry
/// per run after a day. Every attempt is in the run record.
pub const RETRY_FAILED_FOR_SECONDS: i64 = 24 * 3600;

/// Whether a state's notification still has to go out: left pending by a run that stopped
/// before delivering, or failed within [`RETRY_FAILED_FOR_SECONDS`] of `since`.
pub fn awaits_delivery(state: &lfm_schema::alerts::AlertStateDocument, now: i64) -> bool {
    use lfm_schema::alerts::notification_status as n;
    match state.notification_status.as_str() {
        n::PENDING => true,
        n::FAILED => chrono::DateTime::parse_from_rfc3339(&state.since)
            .is_ok_and(|since| now - since.timestamp() <= RETRY_FAILED_FOR_SECONDS),
        _ => false,
    }
}

