//! When to retry a bulk item or request, and how long to wait: policy as data, decisions as
//! small pure functions.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per document, the first included.
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
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// What to do with a document (or a whole request) after a response status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Done,
    /// Transient: the cluster is overloaded (429) or failed internally (5xx).
    Retry,
    /// Permanent: the document or request is wrong (mapping conflict, auth, bad index name).
    Fail,
}

pub fn decide(status: u16) -> Decision {
    match status {
        200..=299 => Decision::Done,
        429 | 500..=599 => Decision::Retry,
        _ => Decision::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        assert_eq!(decide(201), Decision::Done);
        assert_eq!(decide(200), Decision::Done);
        assert_eq!(decide(429), Decision::Retry);
        assert_eq!(decide(503), Decision::Retry);
        assert_eq!(decide(400), Decision::Fail);
        assert_eq!(decide(403), Decision::Fail);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(400));
        assert_eq!(policy.backoff(4), Duration::from_millis(1600));
        assert_eq!(policy.backoff(30), Duration::from_secs(10));
    }
}
