//! REPORT records are checked against CloudWatch before they are believed.
//!
//! Any function can print a line that reads like a platform REPORT record: a Python
//! `print("REPORT RequestId: ...\tDuration: 5000.00 ms\t...")` reaches the log group as it is,
//! and so does a printed `{"type":"platform.report",...}` object in the JSON log format. Logs
//! Insights discovers its fields like the platform's (`@type = "REPORT"`, `@duration` ...), so
//! the aggregates of `harvest::logs_insights` count it. One such line in one period made that
//! period's cost 77 times the truth, added a cold start with a 5 s init and put memory
//! utilisation at 100%.
//!
//! CloudWatch's `AWS/Lambda` metrics come from the platform alone. For the same function and
//! period the collector has both, so a period whose REPORT records disagree with them —
//! more records than CloudWatch's Sum of Invocations, or a Duration above its Maximum of
//! Duration — cannot be taken as true. The aggregate query cannot take single records out of a
//! sum, so [`disagreement`] names the reason and `enrich::apply_logs_and_cost` withholds every
//! REPORT-derived field of that period (null, `logs_withheld_reason` set, cost estimated from
//! the metrics); the run record counts such periods (`log_periods_withheld`).
//!
//! Known limit: a forged record that copies a real invocation's request ID and stays within
//! CloudWatch's numbers is still caught by the count, unless the platform lost a record of the
//! same period. An invocation whose REPORT lands in the next period (it ended after the
//! boundary) can make a period's records outnumber its invocations on a real fleet: that period's
//! log numbers are withheld too, never written wrong.

use lfm_schema::documents::logs_withheld_reason;

use crate::harvest::logs_insights::LogPeriodStats;

/// How far a REPORT Duration may lie above CloudWatch's Maximum and still be the same
/// measurement: text REPORT lines round Duration to two decimals. A millisecond of slack keeps
/// rounding on either side from withholding a true period; a forged record inside it is still
/// caught by the count.
pub const DURATION_TOLERANCE_MS: f64 = 1.0;

/// Why the period's REPORT records cannot all be the platform's (a
/// [`logs_withheld_reason`] value), or `None` when they agree with CloudWatch's `invocations`
/// (Sum of Invocations) and `cloudwatch_duration_max_ms` (Maximum of Duration). A Duration above
/// the maximum is named first: it tells which record is wrong, not only that one is.
pub fn disagreement(
    stats: &LogPeriodStats,
    invocations: u64,
    cloudwatch_duration_max_ms: Option<f64>,
) -> Option<&'static str> {
    if let (Some(report_max), Some(cloudwatch_max)) = (stats.duration_max_ms, cloudwatch_duration_max_ms) {
        if report_max > cloudwatch_max + DURATION_TOLERANCE_MS {
            return Some(logs_withheld_reason::DURATION_ABOVE_CLOUDWATCH_MAX);
        }
    }
    if stats.reports > invocations {
        return Some(logs_withheld_reason::REPORTS_EXCEED_INVOCATIONS);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(reports: u64, duration_max_ms: f64) -> LogPeriodStats {
        LogPeriodStats { reports, duration_max_ms: Some(duration_max_ms), ..LogPeriodStats::default() }
    }

    #[test]
    fn records_that_agree_with_cloudwatch_pass() {
        assert_eq!(disagreement(&stats(12, 480.25), 12, Some(480.25)), None);
        // Fewer records than invocations (a lost or late REPORT): not a forgery; the cost is
        // estimated elsewhere because the records do not cover every invocation.
        assert_eq!(disagreement(&stats(10, 480.25), 12, Some(480.25)), None);
        // Two decimals in a text REPORT against CloudWatch's value.
        assert_eq!(disagreement(&stats(1, 102.51), 1, Some(102.505)), None);
        assert_eq!(
            disagreement(&stats(1, 103.6), 1, Some(102.5)),
            Some(logs_withheld_reason::DURATION_ABOVE_CLOUDWATCH_MAX)
        );
        assert_eq!(disagreement(&LogPeriodStats::default(), 0, None), None);
    }

    #[test]
    fn one_record_more_than_invocations_is_withheld() {
        // A forged copy of a real invocation: same request ID, a duration CloudWatch saw.
        assert_eq!(
            disagreement(&stats(13, 480.25), 12, Some(480.25)),
            Some(logs_withheld_reason::REPORTS_EXCEED_INVOCATIONS)
        );
        // Records in a period without any invocation.
        assert_eq!(
            disagreement(&stats(1, 20.0), 0, None),
            Some(logs_withheld_reason::REPORTS_EXCEED_INVOCATIONS)
        );
    }

    #[test]
    fn a_duration_above_cloudwatchs_maximum_is_withheld_first() {
        // The forged 5 s record of a function whose longest invocation took 61.5 ms.
        assert_eq!(
            disagreement(&stats(9, 5000.0), 8, Some(61.5)),
            Some(logs_withheld_reason::DURATION_ABOVE_CLOUDWATCH_MAX)
        );
        // Even when the count agrees (the platform lost a record of the period).
        assert_eq!(
            disagreement(&stats(8, 5000.0), 8, Some(61.5)),
            Some(logs_withheld_reason::DURATION_ABOVE_CLOUDWATCH_MAX)
        );
    }
}
