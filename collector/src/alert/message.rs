//! The words of a notification (pure): values formatted per metric, one line per function,
//! the subject (at most 100 ASCII characters: SNS's Subject limit) and the idempotency key.
//! Part of [`crate::alert`]; [`super::group`] assembles them.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::state::Kind;

/// SNS Subject: at most 100 characters, ASCII (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
pub const SUBJECT_MAX: usize = 100;

/// `0.061` -> `6.1%` for ratios, `1234 ms` for durations, `$0.0123` for amounts, counts whole.
pub fn format_value(metric: &str, value: f64) -> String {
    let trimmed = |v: f64, decimals: usize| {
        let text = format!("{v:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if is_ratio(metric) {
        format!("{}%", trimmed(value * 100.0, if (value * 100.0).abs() < 1.0 { 2 } else { 1 }))
    } else if metric.ends_with("_ms") {
        format!("{} ms", trimmed(value, if value.abs() < 10.0 { 1 } else { 0 }))
    } else if metric.ends_with("_usd") {
        format!("${}", trimmed(value, 6))
    } else {
        trimmed(value, 2)
    }
}

/// Metrics that are fractions of 1, shown in percent.
pub fn is_ratio(metric: &str) -> bool {
    metric.ends_with("_rate") || metric == "memory_utilization" || metric.starts_with("timeout_proximity")
}

/// `14:00-14:15 UTC` (dates shown when the span crosses midnight or is not today's).
pub fn span(from: i64, to: i64) -> String {
    let at = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    let (a, b) = (at(from), at(to));
    if a.date_naive() == b.date_naive() || (b - a).num_seconds() <= 86_400 && b.format("%H:%M").to_string() == "00:00" {
        format!("{}-{} UTC", a.format("%H:%M"), b.format("%H:%M"))
    } else {
        format!("{}-{} UTC", a.format("%Y-%m-%d %H:%M"), b.format("%Y-%m-%d %H:%M"))
    }
}

/// `FIRING`, `RESOLVED` ... as the line starts.
pub fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Pending => "PENDING",
        Kind::Firing => "FIRING",
        Kind::Renotify => "STILL FIRING",
        Kind::Resolved => "RESOLVED",
        Kind::Cleared => "CLEARED",
    }
}

/// `fn-a (123456789012 eu-west-1)`.
pub fn function_label(function_name: &str, account_id: &str, region: &str) -> String {
    format!("{function_name} ({account_id} {region})")
}

/// What a threshold rule says: `error_rate > 5%`.
pub fn condition(metric: &str, symbol: &str, threshold: f64) -> String {
    format!("{metric} {symbol} {}", format_value(metric, threshold))
}

/// The reason of a threshold transition, without the function:
/// `error_rate 6.1% > 5% in 3 of 3 periods (14:00-14:15 UTC)`.
#[allow(clippy::too_many_arguments)]
pub fn threshold_reason(
    kind: Kind,
    metric: &str,
    symbol: &str,
    threshold: f64,
    value: Option<f64>,
    breaching: u32,
    n: u32,
    from: i64,
    to: i64,
) -> String {
    let shown = value.map_or("no value".to_string(), |v| format_value(metric, v));
    let limit = format_value(metric, threshold);
    match kind {
        Kind::Resolved | Kind::Cleared => {
            format!("{metric} {shown}, {breaching} of {n} periods {symbol} {limit} ({})", span(from, to))
        }
        _ => format!("{metric} {shown} {symbol} {limit} in {breaching} of {n} periods ({})", span(from, to)),
    }
}

/// One line of the text: `FIRING error_rate 6.1% > 5% in 3 of 3 periods (14:00-14:15 UTC): fn-a (123456789012 eu-west-1)`.
pub fn line(kind: Kind, reason: &str, function: &str) -> String {
    format!("{} {reason}: {function}", kind_word(kind))
}

/// `[LFM critical] high-errors: 3 firing, 1 resolved (error_rate > 5%)`, cut to
/// [`SUBJECT_MAX`] and made ASCII.
pub fn subject(severity: &str, rule: &str, firing: usize, renotify: usize, resolved: usize, what: &str) -> String {
    let mut counts = Vec::new();
    if firing > 0 {
        counts.push(format!("{firing} firing"));
    }
    if renotify > 0 {
        counts.push(format!("{renotify} still firing"));
    }
    if resolved > 0 {
        counts.push(format!("{resolved} resolved"));
    }
    let text = format!("[LFM {severity}] {rule}: {} ({what})", counts.join(", "));
    let ascii: String = text.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).collect();
    if ascii.len() <= SUBJECT_MAX {
        ascii
    } else {
        format!("{}...", &ascii[..SUBJECT_MAX - 3])
    }
}

/// Hex SHA-256 of the rule name and the sorted `dedup_key|transition|period_end` lines: the
/// same evaluation gives the same key, whatever the order the functions came in.
pub fn idempotency_key(rule: &str, items: &[(String, Kind, String)]) -> String {
    let mut lines: Vec<String> = items.iter().map(|(key, kind, end)| format!("{key}|{}|{end}", kind.as_str())).collect();
    lines.sort();
    let mut hasher = Sha256::new();
    hasher.update(rule.as_bytes());
    for line in lines {
        hasher.update(b"\n");
        hasher.update(line.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_metric() {
        assert_eq!(format_value("error_rate", 0.061), "6.1%");
        assert_eq!(format_value("error_rate", 0.05), "5%");
        assert_eq!(format_value("error_rate", 0.004), "0.4%");
        assert_eq!(format_value("cold_start_rate", 0.0012), "0.12%");
        assert_eq!(format_value("duration_p99_ms", 1234.4), "1234 ms");
        assert_eq!(format_value("duration_avg_ms", 2.25), "2.2 ms");
        assert_eq!(format_value("cost_usd", 0.0123), "$0.0123");
        assert_eq!(format_value("throttles", 12.0), "12");
        assert_eq!(format_value("timeout_proximity_max", 0.9), "90%");
    }

    #[test]
    fn the_line_reads_as_in_the_design() {
        let from = "2026-11-26T14:00:00Z".parse::<DateTime<Utc>>().unwrap().timestamp();
        let reason = threshold_reason(Kind::Firing, "error_rate", ">", 0.05, Some(0.061), 3, 3, from, from + 900);
        assert_eq!(reason, "error_rate 6.1% > 5% in 3 of 3 periods (14:00-14:15 UTC)");
        let text = line(Kind::Firing, &reason, &function_label("fn-a", "123456789012", "eu-west-1"));
        assert_eq!(text, "FIRING error_rate 6.1% > 5% in 3 of 3 periods (14:00-14:15 UTC): fn-a (123456789012 eu-west-1)");
        let resolved = threshold_reason(Kind::Resolved, "error_rate", ">", 0.05, Some(0.001), 0, 3, from, from + 900);
        assert_eq!(resolved, "error_rate 0.1%, 0 of 3 periods > 5% (14:00-14:15 UTC)");
        assert_eq!(span(from - 3600, from + 86_400), "2026-11-26 13:00-2026-11-27 14:00 UTC");
        assert_eq!(span(from + 9 * 3600 + 1800, from + 10 * 3600), "23:30-00:00 UTC");
    }

    #[test]
    fn subjects_are_short_ascii() {
        assert_eq!(subject("critical", "high-errors", 3, 0, 1, "error_rate > 5%"), "[LFM critical] high-errors: 3 firing, 1 resolved (error_rate > 5%)");
        let long = subject("warning", &"r".repeat(64), 300, 12, 7, "duration_p99_ms >= 2500 ms élan");
        assert!(long.len() <= SUBJECT_MAX && long.is_ascii() && long.ends_with("..."), "{long}");
    }

    #[test]
    fn idempotency_keys_ignore_order_and_see_every_item() {
        let a = ("r|arn:a".to_string(), Kind::Firing, "2026-11-26T14:15:00Z".to_string());
        let b = ("r|arn:b".to_string(), Kind::Resolved, "2026-11-26T14:15:00Z".to_string());
        let key = idempotency_key("r", &[a.clone(), b.clone()]);
        assert_eq!(key.len(), 64);
        assert_eq!(key, idempotency_key("r", &[b.clone(), a.clone()]));
        assert_ne!(key, idempotency_key("r", &[a.clone()]));
        assert_ne!(key, idempotency_key("s", &[a, b]));
    }
}
