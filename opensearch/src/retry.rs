//! When to try a request (or one `_bulk` item) again, and how long to wait first: the policy is
//! data ([`RetryPolicy`]), the decision a small pure function of what happened ([`decide`]).
//!
//! Retried (time may fix it):
//! - **429 Too Many Requests**: OpenSearch rejects work when a thread-pool queue is full
//!   (`rejected_execution_exception`) or a circuit breaker trips (`circuit_breaking_exception`);
//!   its docs ("Bulk" API, `429` per item; "Error Log: HTTP 429 Too many requests") say to retry
//!   with exponential backoff. Amazon OpenSearch Service throttles with 429 as well.
//! - **502 Bad Gateway, 503 Service Unavailable, 504 Gateway Timeout**: 503 is what OpenSearch
//!   answers while it has no elected cluster manager, no shard available, or a cluster block
//!   during recovery; 502/504 come from the load balancer in front of an Amazon OpenSearch
//!   Service domain ("HTTP 504 gateway timeout": the request did not complete within the idle
//!   timeout; blue/green deployments and node replacements answer 502/503 for a while).
//! - no connection, or no answer in time (the node may be restarting): bounded like the rest.
//!
//! Not retried: **500** and the other 5xx. OpenSearch maps an unexpected exception to 500; the
//! same request meets the same exception again (a script error, a bug, `illegal_state_exception`),
//! so repeating it only delays the report. 501 (not implemented) and 505 never change either.
//! All 4xx but 429 are the request's fault (mapping conflict, authentication, a bad name).

use std::time::Duration;

/// How many attempts and how long between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request (or per `_bulk` item), the first included; at least 1.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, initial_backoff: Duration::from_millis(200), max_backoff: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    /// Wait before attempt `attempt + 1` (attempt counts from 1): doubling, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// An HTTP answer with this status.
    Answered(u16),
    /// No connection (refused, reset, DNS, TLS), or the connect timeout passed.
    NotConnected,
    /// Connected, but no (complete) answer within the per-attempt timeout.
    TimedOut,
    /// The request could not be built or signed (no AWS credentials, bad URL): it never left.
    NotSent,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Done,
    /// Transient: try again after [`RetryPolicy::backoff`], while attempts remain.
    Retry,
    /// Permanent: report it.
    Fail,
}

/// The one retry decision (see the module doc for why these statuses).
pub fn decide(attempt: Attempt) -> Decision {
    match attempt {
        Attempt::Answered(status) => decide_status(status),
        Attempt::NotConnected | Attempt::TimedOut => Decision::Retry,
        Attempt::NotSent => Decision::Fail,
    }
}

/// [`decide`] for an HTTP status (also a `_bulk` item's status).
pub fn decide_status(status: u16) -> Decision {
    match status {
        200..=299 => Decision::Done,
        429 | 502 | 503 | 504 => Decision::Retry,
        _ => Decision::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for done in [200, 201, 204] {
            assert_eq!(decide_status(done), Decision::Done, "{done}");
        }
        for retry in [429, 502, 503, 504] {
            assert_eq!(decide_status(retry), Decision::Retry, "{retry}");
        }
        for fail in [400, 401, 403, 404, 409, 413, 500, 501, 505] {
            assert_eq!(decide_status(fail), Decision::Fail, "{fail}");
        }
    }

    #[test]
    fn transport_outcomes() {
        assert_eq!(decide(Attempt::NotConnected), Decision::Retry);
        assert_eq!(decide(Attempt::TimedOut), Decision::Retry);
        assert_eq!(decide(Attempt::NotSent), Decision::Fail);
        assert_eq!(decide(Attempt::Answered(503)), Decision::Retry);
        assert_eq!(decide(Attempt::Answered(500)), Decision::Fail);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(400));
        assert_eq!(policy.backoff(4), Duration::from_millis(1600));
        assert_eq!(policy.backoff(30), Duration::from_secs(10));
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(10));
    }
}
