//! Metering: what a run asks of AWS and what that costs. The API-call counter (by IAM action,
//! [`actions`]), the parts of answers skipped ([`skipped`]) and the cost estimate at list
//! prices ([`CostEstimate`]). discover and harvest count into an [`ApiCallCounter`]; the run
//! summary ([`crate::summary`]) and the run record ([`crate::runrecord`]) read it. This module
//! imports nothing of the crate, so every stage can meter without depending on the summary.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// IAM action names of the AWS calls the collector makes; the API-call counters use them as keys
/// so that a run's bill and its required permissions read the same way.
pub mod actions {
    /// Made with the collector's own credentials, not in the member account.
    pub const STS_ASSUME_ROLE: &str = "sts:AssumeRole";
    pub const LAMBDA_LIST_FUNCTIONS: &str = "lambda:ListFunctions";
    pub const CLOUDWATCH_GET_METRIC_DATA: &str = "cloudwatch:GetMetricData";
    pub const CLOUDWATCH_LIST_METRICS: &str = "cloudwatch:ListMetrics";
    pub const LOGS_START_QUERY: &str = "logs:StartQuery";
    pub const LOGS_GET_QUERY_RESULTS: &str = "logs:GetQueryResults";

    /// Every action the collector counts.
    pub const COUNTED: &[&str] = &[
        STS_ASSUME_ROLE,
        LAMBDA_LIST_FUNCTIONS,
        CLOUDWATCH_GET_METRIC_DATA,
        CLOUDWATCH_LIST_METRICS,
        LOGS_START_QUERY,
        LOGS_GET_QUERY_RESULTS,
    ];
}

/// Requests sent, by IAM action. Counts logical calls (one per page or batch); the SDK's own
/// retries of a throttled call are not counted again. Also counts what the answers carried that
/// the collector skipped, by [`skipped`] reason (never silently: the summary and run record
/// show them).
#[derive(Debug, Default)]
pub struct ApiCallCounter {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    skipped: Mutex<BTreeMap<&'static str, u64>>,
}

/// Why parts of an AWS answer were skipped (keys of [`RunSummary::answers_skipped`]).
pub mod skipped {
    /// GetMetricData datapoints stamped outside the window asked for.
    pub const CLOUDWATCH_OUTSIDE_WINDOW: &str = "cloudwatch_datapoints_outside_window";
    /// GetMetricData values that are not finite numbers (no datapoint).
    pub const CLOUDWATCH_NON_FINITE: &str = "cloudwatch_values_not_finite";
    /// Logs Insights rows of periods outside the window (an event stamped at its end).
    pub const LOGS_INSIGHTS_OUTSIDE_WINDOW: &str = "logs_insights_rows_outside_window";
}

impl ApiCallCounter {
    pub fn record(&self, action: &'static str) {
        *self.counts.lock().expect("counter lock").entry(action).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().expect("counter lock").iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// Counts `n` parts of answers skipped for `reason` (one of [`skipped`]).
    pub fn record_skipped(&self, reason: &'static str, n: u64) {
        if n > 0 {
            *self.skipped.lock().expect("counter lock").entry(reason).or_default() += n;
        }
    }

    pub fn skipped_snapshot(&self) -> BTreeMap<String, u64> {
        self.skipped.lock().expect("counter lock").iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }
}

/// AWS list prices (us-east-1, USD) of what a run pays for, from
/// https://aws.amazon.com/cloudwatch/pricing/ (read 2026-11-26):
/// - GetMetricData: $0.01 per 1,000 metrics requested (always charged, no free tier);
/// - other CloudWatch API requests (ListMetrics ...): $0.01 per 1,000 requests (the first
///   million a month are free; not deducted here);
/// - Logs Insights: $0.005 per GB of data scanned (GB taken as 2^30 bytes);
/// - Lambda ListFunctions and STS AssumeRole are control-plane calls without charge
///   (https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/iam/pricing/).
pub mod prices {
    pub const GET_METRIC_DATA_PER_METRIC: f64 = 0.01 / 1000.0;
    pub const CLOUDWATCH_REQUEST: f64 = 0.01 / 1000.0;
    pub const LOGS_INSIGHTS_PER_GB: f64 = 0.005;
    pub const BYTES_PER_GB: f64 = 1_073_741_824.0;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    pub item: &'static str,
    pub quantity: u64,
    pub usd: f64,
}

/// The AWS cost a run caused, by item.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostEstimate {
    pub lines: Vec<CostLine>,
    pub total_usd: f64,
}

impl CostEstimate {
    /// From metrics requested, API calls by IAM action and Logs Insights bytes scanned.
    pub fn of(metrics_requested: u64, api_calls: &std::collections::BTreeMap<String, u64>, logs_bytes_scanned: u64) -> Self {
        let other_cloudwatch: u64 = api_calls
            .iter()
            .filter(|(action, _)| action.starts_with("cloudwatch:") && action.as_str() != actions::CLOUDWATCH_GET_METRIC_DATA)
            .map(|(_, n)| n)
            .sum();
        let lines = vec![
            CostLine {
                item: "cloudwatch:GetMetricData metrics requested",
                quantity: metrics_requested,
                usd: metrics_requested as f64 * prices::GET_METRIC_DATA_PER_METRIC,
            },
            CostLine {
                item: "other CloudWatch API requests",
                quantity: other_cloudwatch,
                usd: other_cloudwatch as f64 * prices::CLOUDWATCH_REQUEST,
            },
            CostLine {
                item: "Logs Insights bytes scanned",
                quantity: logs_bytes_scanned,
                usd: logs_bytes_scanned as f64 / prices::BYTES_PER_GB * prices::LOGS_INSIGHTS_PER_GB,
            },
        ];
        let total_usd = lines.iter().map(|l| l.usd).sum();
        Self { lines, total_usd }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_action() {
        let counter = ApiCallCounter::default();
        counter.record(actions::LAMBDA_LIST_FUNCTIONS);
        counter.record(actions::LAMBDA_LIST_FUNCTIONS);
        counter.record(actions::CLOUDWATCH_GET_METRIC_DATA);
        let snapshot = counter.snapshot();
        assert_eq!(snapshot["lambda:ListFunctions"], 2);
        assert_eq!(snapshot["cloudwatch:GetMetricData"], 1);
        counter.record_skipped(skipped::CLOUDWATCH_OUTSIDE_WINDOW, 2);
        counter.record_skipped(skipped::CLOUDWATCH_OUTSIDE_WINDOW, 1);
        counter.record_skipped(skipped::CLOUDWATCH_NON_FINITE, 0);
        assert_eq!(counter.skipped_snapshot(), [("cloudwatch_datapoints_outside_window".to_string(), 3)].into());
        assert_eq!(counter.snapshot().len(), 2, "skipped parts are not API calls");
    }

    /// The monitoring role the provider creates grants exactly `COLLECTOR_ACTIONS`; a call the
    /// collector makes in a member account without it would fail with AccessDenied in production.
    #[test]
    fn every_member_account_action_is_granted_by_the_monitoring_role() {
        for action in actions::COUNTED {
            if *action == actions::STS_ASSUME_ROLE {
                continue; // made with the collector's own credentials
            }
            assert!(
                lfm_schema::iam::COLLECTOR_ACTIONS.contains(action),
                "{action} is called by the collector but missing from lfm_schema::iam::COLLECTOR_ACTIONS"
            );
        }
    }

    #[test]
    fn cost_of_a_run() {
        let calls: BTreeMap<String, u64> = [
            ("cloudwatch:GetMetricData".to_string(), 4),
            ("cloudwatch:ListMetrics".to_string(), 2_000),
            ("lambda:ListFunctions".to_string(), 100),
            ("sts:AssumeRole".to_string(), 10),
        ]
        .into();
        // 30,000 metrics requested = $0.30; 2,000 ListMetrics = $0.02; 2 GiB scanned = $0.01.
        let cost = CostEstimate::of(30_000, &calls, 2 * 1_073_741_824);
        let usd: Vec<f64> = cost.lines.iter().map(|l| l.usd).collect();
        assert!((usd[0] - 0.30).abs() < 1e-12, "{usd:?}");
        assert!((usd[1] - 0.02).abs() < 1e-12, "{usd:?}");
        assert!((usd[2] - 0.01).abs() < 1e-12, "{usd:?}");
        assert!((cost.total_usd - 0.33).abs() < 1e-12);
        assert_eq!(cost.lines[1].quantity, 2_000, "GetMetricData calls are billed per metric, not per request");
        assert_eq!(CostEstimate::of(0, &BTreeMap::new(), 0).total_usd, 0.0);
    }
}
