//! Retrying IAM's eventual consistency: a role or principal created seconds ago may not be
//! visible yet to the next call. The SDK already retries throttling and transport errors;
//! this covers the errors only time fixes, within a bounded time.

use super::session::AwsError;
use std::future::Future;
use std::time::{Duration, Instant};

/// Exponential backoff, bounded in total time.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Give up (returning the last error) once this much time has passed.
    pub max_elapsed: Duration,
}

impl RetryPolicy {
    /// For IAM writes: AWS documents propagation "within a few seconds", sometimes longer.
    pub const IAM: RetryPolicy =
        RetryPolicy { first_delay: Duration::from_millis(500), max_delay: Duration::from_secs(8), max_elapsed: Duration::from_secs(120) };

    /// IAM's policy with the total time a resource's configuration allows
    /// (`propagation_timeout_s`).
    pub fn iam_within(max_elapsed: Duration) -> RetryPolicy {
        RetryPolicy { max_elapsed, ..RetryPolicy::IAM }
    }

    /// Delay before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Errors IAM returns while a just-created entity propagates.
pub fn is_iam_propagation_error(err: &AwsError) -> bool {
    match err.code.as_deref() {
        // A trust policy naming a principal (role/user) created moments ago.
        Some("MalformedPolicyDocument") => err.message.contains("Invalid principal"),
        Some("ConcurrentModification") => true,
        _ => false,
    }
}

/// Run `op` until it succeeds, fails with an error `retryable` rejects, or time runs out.
pub async fn retry<T, F, Fut>(policy: RetryPolicy, retryable: impl Fn(&AwsError) -> bool, mut op: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if retryable(&e) && start.elapsed() + policy.delay(attempt) < policy.max_elapsed => {
                tracing::debug!(error = %e, attempt, "IAM not consistent yet, retrying");
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str) -> AwsError {
        AwsError { code: Some(code.into()), message: message.into() }
    }

    #[test]
    fn classifies_propagation_errors() {
        assert!(is_iam_propagation_error(&err("MalformedPolicyDocument", "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/x\"")));
        assert!(is_iam_propagation_error(&err("ConcurrentModification", "")));
        assert!(!is_iam_propagation_error(&err("MalformedPolicyDocument", "Syntax errors in policy.")));
        assert!(!is_iam_propagation_error(&err("AccessDenied", "")));
        assert!(!is_iam_propagation_error(&AwsError { code: None, message: "timeout".into() }));
    }

    #[test]
    fn delays_grow_and_cap() {
        let p = RetryPolicy::IAM;
        assert_eq!(p.delay(0), Duration::from_millis(500));
        assert_eq!(p.delay(2), Duration::from_secs(2));
        assert_eq!(p.delay(10), Duration::from_secs(8));
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(8));
    }

    #[tokio::test]
    async fn retries_until_success_and_stops_on_other_errors() {
        let fast = RetryPolicy { first_delay: Duration::from_millis(1), max_delay: Duration::from_millis(2), max_elapsed: Duration::from_secs(5) };
        let mut calls = 0;
        let r = retry(fast, is_iam_propagation_error, || {
            calls += 1;
            let n = calls;
            async move { if n < 3 { Err(err("ConcurrentModification", "")) } else { Ok(n) } }
        })
        .await;
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<(), _> = retry(fast, is_iam_propagation_error, || {
            calls += 1;
            async { Err(err("AccessDenied", "no")) }
        })
        .await;
        assert!(r.unwrap_err().is("AccessDenied"));
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_elapsed() {
        let short = RetryPolicy { first_delay: Duration::from_millis(5), max_delay: Duration::from_millis(5), max_elapsed: Duration::from_millis(30) };
        let r: Result<(), _> = retry(short, |_| true, || async { Err(err("ConcurrentModification", "")) }).await;
        assert!(r.is_err());
    }
}
