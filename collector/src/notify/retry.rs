//! The retry decision of one delivery attempt, as data: what came back ([`Outcome`]) and how
//! much time is left -> [`Decision`]. Pure; the webhook and SNS senders ([`super::webhook`],
//! [`super::sns`]) act on it.
//!
//! - 2xx: delivered;
//! - 408, 429, 5xx, no connection, no answer in time: tried again after 1 s, 2 s, 4 s (at most
//!   [`MAX_ATTEMPTS`] attempts), as long as the wait and one more attempt fit in the time left;
//! - any other status (a 4xx, a redirect): failed at once with the receiver's answer,
//!   truncated to [`ANSWER_CHARS`] characters (the receiver refused the message; sending it again
//!   would not change that).

use std::time::Duration;

/// Attempts of one delivery, the first included (waits of 1 s, 2 s and 4 s between them).
pub const MAX_ATTEMPTS: u32 = 4;
/// The receiver's answer is quoted up to this many characters in an error.
pub const ANSWER_CHARS: usize = 300;
/// Time an attempt needs at least to be worth starting.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(500);

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An answer: its status and (the start of) its body or AWS's error message.
    Answer { status: u16, text: String },
    /// No connection (refused, DNS, TLS) or the connection broke: the cause.
    Unreachable(String),
    /// No answer within the attempt's timeout.
    TimedOut(Duration),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Delivered,
    /// Wait, then try again.
    Retry(Duration),
    /// Stop: why (a sentence without the destination's name, which the caller adds).
    Fail(String),
}

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s.
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1 << attempts.saturating_sub(1).min(5))
}

/// The decision after `attempts` attempts (>= 1), the last of which got `outcome`, with `left`
/// until the delivery budget or the deadline ends.
pub fn decide(outcome: &Outcome, attempts: u32, left: Duration) -> Decision {
    let why = match outcome {
        Outcome::Answer { status, .. } if (200..300).contains(status) => return Decision::Delivered,
        Outcome::Answer { status, text } if !retryable(*status) => {
            return Decision::Fail(format!("the receiver refused the message with HTTP {status}{}", quoted(text)));
        }
        Outcome::Answer { status, text } => format!("HTTP {status}{}", quoted(text)),
        Outcome::Unreachable(cause) => format!("no connection ({cause})"),
        Outcome::TimedOut(after) => format!("no answer within {:.1} s", after.as_secs_f64()),
    };
    let tries = if attempts == 1 { "1 attempt".to_string() } else { format!("{attempts} attempts") };
    if attempts >= MAX_ATTEMPTS {
        return Decision::Fail(format!("{why}; gave up after {tries}"));
    }
    let wait = backoff(attempts);
    if wait + MIN_ATTEMPT > left {
        return Decision::Fail(format!(
            "{why}; gave up after {tries}: {:.1} s of the delivery budget left, too little for another attempt \
             (raise alert_delivery_timeout_seconds)",
            left.as_secs_f64()
        ));
    }
    Decision::Retry(wait)
}

/// 408 Request Timeout, 429 Too Many Requests and every 5xx are worth another attempt.
pub fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// `: "answer"` (single line, at most [`ANSWER_CHARS`] characters), or nothing for an empty answer.
fn quoted(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return String::new();
    }
    let count = flat.chars().count();
    if count <= ANSWER_CHARS {
        format!(": \"{flat}\"")
    } else {
        let head: String = flat.chars().take(ANSWER_CHARS).collect();
        format!(": \"{head}...\" ({count} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLENTY: Duration = Duration::from_secs(30);

    fn answer(status: u16, text: &str) -> Outcome {
        Outcome::Answer { status, text: text.into() }
    }

    #[test]
    fn two_hundreds_are_delivered() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(decide(&answer(status, ""), 1, PLENTY), Decision::Delivered);
        }
        // Even on the last attempt, with no time left.
        assert_eq!(decide(&answer(200, ""), MAX_ATTEMPTS, Duration::ZERO), Decision::Delivered);
    }

    #[test]
    fn transient_failures_back_off_one_two_four_seconds() {
        for outcome in [
            answer(503, "busy"),
            answer(500, ""),
            answer(429, "slow down"),
            answer(408, ""),
            Outcome::Unreachable("connection refused".into()),
            Outcome::TimedOut(Duration::from_secs(10)),
        ] {
            let waits: Vec<Decision> = (1..MAX_ATTEMPTS).map(|n| decide(&outcome, n, PLENTY)).collect();
            assert_eq!(
                waits,
                [Decision::Retry(Duration::from_secs(1)), Decision::Retry(Duration::from_secs(2)), Decision::Retry(Duration::from_secs(4))],
                "{outcome:?}"
            );
            let Decision::Fail(why) = decide(&outcome, MAX_ATTEMPTS, PLENTY) else { panic!("{outcome:?} must fail at the end") };
            assert!(why.ends_with("gave up after 4 attempts"), "{why}");
        }
    }

    #[test]
    fn the_budget_caps_the_retries() {
        let Decision::Fail(why) = decide(&answer(503, "busy"), 2, Duration::from_millis(2400)) else { panic!() };
        assert_eq!(
            why,
            "HTTP 503: \"busy\"; gave up after 2 attempts: 2.4 s of the delivery budget left, too little for another \
             attempt (raise alert_delivery_timeout_seconds)"
        );
        assert_eq!(decide(&answer(503, ""), 2, Duration::from_millis(2500)), Decision::Retry(Duration::from_secs(2)));
    }

    #[test]
    fn other_answers_fail_at_once_with_the_receivers_words() {
        let Decision::Fail(why) = decide(&answer(400, "{\"error\": \"invalid_payload\"}\n"), 1, PLENTY) else { panic!() };
        assert_eq!(why, "the receiver refused the message with HTTP 400: \"{\"error\": \"invalid_payload\"}\"");
        let Decision::Fail(why) = decide(&answer(404, ""), 1, PLENTY) else { panic!() };
        assert_eq!(why, "the receiver refused the message with HTTP 404");
        assert!(matches!(decide(&answer(301, "moved"), 1, PLENTY), Decision::Fail(_)), "redirects are not followed");
        let long = "x".repeat(1000);
        let Decision::Fail(why) = decide(&answer(403, &long), 1, PLENTY) else { panic!() };
        assert!(why.ends_with(&format!("{}...\" (1000 characters)", "x".repeat(10))), "{why}");
        assert!(why.chars().count() < ANSWER_CHARS + 80, "{}", why.len());
    }
}
