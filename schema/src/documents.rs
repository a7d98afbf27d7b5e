//! The OpenSearch documents LFM writes: index names, document IDs, field names, and the index
//! templates that map them.
//!
//! Two document kinds exist today:
//!
//! - [`MetricDocument`]: one per function per period in which the function had any datapoint,
//!   written to the daily index [`metrics_index`] (`{prefix}-metrics-YYYY.MM.DD`, UTC date of the
//!   period start). ID: [`metric_document_id`].
//! - [`InventoryDocument`]: one per function (its latest configuration), written to
//!   [`inventory_index`] (`{prefix}-inventory`). ID: [`inventory_document_id`].
//!
//! The templates are JSON files under `schema/templates/`, compiled in with `include_str!`, so
//! the collector (which installs them before writing) and the provider (dashboards) read the
//! same text. Every mapping is `dynamic: strict`: a field written here but not mapped there is a
//! bug that OpenSearch rejects, and the tests below keep the structs and templates in step.
//!
//! Timestamps are RFC 3339 strings in UTC (`2026-11-26T15:05:00Z`) so this crate needs no date
//! library; the collector formats them.

use serde::{Deserialize, Serialize};

/// Default prefix of every LFM index and template name (defined in [`crate::contract`]).
pub use crate::contract::DEFAULT_INDEX_PREFIX;

/// Field names shared by both document kinds.
pub mod fields {
    pub const TIMESTAMP: &str = "@timestamp";
    pub const COLLECTED_AT: &str = "collected_at";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const REGION: &str = "region";
    pub const FUNCTION_NAME: &str = "function_name";
    pub const FUNCTION_ARN: &str = "function_arn";

    // Metrics.
    pub const PERIOD_SECONDS: &str = "period_seconds";
    pub const INVOCATIONS: &str = "invocations";
    pub const ERRORS: &str = "errors";
    pub const THROTTLES: &str = "throttles";
    pub const ERROR_RATE: &str = "error_rate";
    pub const DURATION_AVG_MS: &str = "duration_avg_ms";
    pub const DURATION_MAX_MS: &str = "duration_max_ms";

    // Metrics: CloudWatch percentiles, concurrency and the metrics only some functions publish.
    pub const DURATION_P50_MS: &str = "duration_p50_ms";
    pub const DURATION_P90_MS: &str = "duration_p90_ms";
    pub const DURATION_P99_MS: &str = "duration_p99_ms";
    pub const CONCURRENCY_MAX: &str = "concurrency_max";
    pub const PROVISIONED_CONCURRENCY_UTILIZATION_MAX: &str = "provisioned_concurrency_utilization_max";
    pub const PROVISIONED_CONCURRENCY_SPILLOVER: &str = "provisioned_concurrency_spillover";
    pub const ITERATOR_AGE_MAX_MS: &str = "iterator_age_max_ms";
    pub const ASYNC_EVENTS_DROPPED: &str = "async_events_dropped";
    pub const ASYNC_EVENT_AGE_MAX_MS: &str = "async_event_age_max_ms";
    pub const DEAD_LETTER_ERRORS: &str = "dead_letter_errors";
    pub const DESTINATION_DELIVERY_FAILURES: &str = "destination_delivery_failures";

    // Metrics from REPORT log records (Logs Insights), and cost.
    pub const COLD_STARTS: &str = "cold_starts";
    pub const COLD_START_RATE: &str = "cold_start_rate";
    pub const INIT_DURATION_AVG_MS: &str = "init_duration_avg_ms";
    pub const INIT_DURATION_MAX_MS: &str = "init_duration_max_ms";
    pub const SNAPSTART_RESTORES: &str = "snapstart_restores";
    pub const MAX_MEMORY_USED_MB: &str = "max_memory_used_mb";
    pub const MEMORY_UTILIZATION: &str = "memory_utilization";
    pub const TIMEOUTS: &str = "timeouts";
    pub const TIMEOUT_PROXIMITY_MAX: &str = "timeout_proximity_max";
    pub const TIMEOUT_PROXIMITY_P99: &str = "timeout_proximity_p99";
    pub const BILLED_DURATION_MS_SUM: &str = "billed_duration_ms_sum";
    pub const GB_SECONDS: &str = "gb_seconds";
    pub const REQUEST_COST_USD: &str = "request_cost_usd";
    pub const COMPUTE_COST_USD: &str = "compute_cost_usd";
    pub const COST_USD: &str = "cost_usd";
    /// `billed` (from REPORT billed durations) or `estimated` (from CloudWatch metrics).
    pub const COST_BASIS: &str = "cost_basis";
    /// `logs_insights`, `lambda_insights`, or null when no log-derived number is present.
    pub const LOGS_SOURCE: &str = "logs_source";
    /// Where `cold_starts`, `init_duration_*`, `max_memory_used_mb` and `memory_utilization`
    /// came from: `lambda_insights` (the function publishes Lambda Insights metrics) or
    /// `logs_insights` (REPORT records); null when none of them is present.
    pub const COLD_START_SOURCE: &str = "cold_start_source";
    /// Why the period's REPORT-derived fields are null although its REPORT records were read:
    /// they disagree with CloudWatch's metrics of the same period (values in
    /// [`super::logs_withheld_reason`]); null when nothing was withheld.
    pub const LOGS_WITHHELD_REASON: &str = "logs_withheld_reason";

    // Inventory.
    pub const RUNTIME: &str = "runtime";
    pub const MEMORY_MB: &str = "memory_mb";
    pub const TIMEOUT_S: &str = "timeout_s";
    pub const ARCHITECTURE: &str = "architecture";
    pub const PACKAGE_TYPE: &str = "package_type";
    pub const LAST_MODIFIED: &str = "last_modified";
    pub const CODE_SIZE_BYTES: &str = "code_size_bytes";

    // Inventory: runtime deprecation and recommendations.
    /// `supported`, `deprecating`, `deprecated`, `unknown` or `image`.
    pub const RUNTIME_STATUS: &str = "runtime_status";
    pub const RUNTIME_DEPRECATION_DATE: &str = "runtime_deprecation_date";
    pub const RUNTIME_DAYS_TO_DEPRECATION: &str = "runtime_days_to_deprecation";
    /// Object array (not nested): `recommendations.kind` aggregates directly in Dashboards.
    pub const RECOMMENDATIONS: &str = "recommendations";
    pub const RECOMMENDATIONS_KIND: &str = "recommendations.kind";
    /// Keyword array of the kinds above, for terms aggregations and filters.
    pub const RECOMMENDATION_KINDS: &str = "recommendation_kinds";
}

/// Values of [`fields::COST_BASIS`].
pub mod cost_basis {
    pub const BILLED: &str = "billed";
    pub const ESTIMATED: &str = "estimated";
}

/// Values of [`fields::LOGS_SOURCE`].
pub mod logs_source {
    pub const LOGS_INSIGHTS: &str = "logs_insights";
    pub const LAMBDA_INSIGHTS: &str = "lambda_insights";
}

/// Values of [`fields::LOGS_WITHHELD_REASON`]. Any function can print a line that reads like a
/// REPORT record (a `print("REPORT RequestId: ...")` reaches its log as it is), and Logs Insights
/// counts it like the platform's; CloudWatch's `AWS/Lambda` metrics come from the platform only.
pub mod logs_withheld_reason {
    /// More REPORT records than CloudWatch's Sum of Invocations for the period.
    pub const REPORTS_EXCEED_INVOCATIONS: &str = "reports_exceed_invocations";
    /// A REPORT Duration above CloudWatch's Maximum of Duration for the period.
    pub const DURATION_ABOVE_CLOUDWATCH_MAX: &str = "report_duration_above_cloudwatch_max";
}

/// Values of [`fields::COLD_START_SOURCE`].
pub mod cold_start_source {
    pub const LAMBDA_INSIGHTS: &str = "lambda_insights";
    pub const LOGS_INSIGHTS: &str = "logs_insights";
}

/// Numbers of one function over one period (`@timestamp` = period start).
///
/// `error_rate` is `errors / invocations`, and `null` (never 0, never NaN) when the period had
/// no invocations. Durations are `null` when CloudWatch had no Duration datapoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDocument {
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub period_seconds: u32,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    pub error_rate: Option<f64>,
    pub duration_avg_ms: Option<f64>,
    pub duration_max_ms: Option<f64>,

    // --- CloudWatch percentiles, concurrency, feature metrics (harvest::cloudwatch) ---
    /// Percentile statistics of Duration as CloudWatch serves them; `null` without data.
    pub duration_p50_ms: Option<f64>,
    pub duration_p90_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    /// Maximum of ConcurrentExecutions in the period.
    pub concurrency_max: Option<u64>,
    /// The fields below are `null` when the function does not publish the metric (no
    /// provisioned concurrency, no stream trigger, no async invocations, no dead-letter queue,
    /// no destination). Counts are 0 in periods without a datapoint when it does; maxima stay
    /// `null`. Provisioned concurrency is combined over aliases and versions (max, sum).
    pub provisioned_concurrency_utilization_max: Option<f64>,
    pub provisioned_concurrency_spillover: Option<u64>,
    pub iterator_age_max_ms: Option<f64>,
    pub async_events_dropped: Option<u64>,
    pub async_event_age_max_ms: Option<f64>,
    pub dead_letter_errors: Option<u64>,
    pub destination_delivery_failures: Option<u64>,
    // --- end CloudWatch block ---

    // --- REPORT log records (Logs Insights: harvest::logs_insights, derive::enrich) and cost (derive::cost) ---
    /// Log-derived fields are `null` when the logs were not read (query failed, no log group)
    /// or the period had no REPORT record; `logs_source` says where they came from.
    pub cold_starts: Option<u64>,
    /// `cold_starts / invocations`; `null` without invocations or logs.
    pub cold_start_rate: Option<f64>,
    pub init_duration_avg_ms: Option<f64>,
    pub init_duration_max_ms: Option<f64>,
    pub snapstart_restores: Option<u64>,
    pub max_memory_used_mb: Option<f64>,
    /// `max_memory_used_mb / configured memory`.
    pub memory_utilization: Option<f64>,
    pub timeouts: Option<u64>,
    /// `duration_max_ms / (timeout_s * 1000)` and the same with `duration_p99_ms`.
    pub timeout_proximity_max: Option<f64>,
    pub timeout_proximity_p99: Option<f64>,
    /// Sum of REPORT "Billed Duration" (ms); `null` when the cost is estimated.
    pub billed_duration_ms_sum: Option<u64>,
    pub gb_seconds: Option<f64>,
    pub request_cost_usd: Option<f64>,
    pub compute_cost_usd: Option<f64>,
    pub cost_usd: Option<f64>,
    /// [`cost_basis::BILLED`] or [`cost_basis::ESTIMATED`]; `null` without a price.
    pub cost_basis: Option<String>,
    /// [`logs_source::LOGS_INSIGHTS`], [`logs_source::LAMBDA_INSIGHTS`] or `null`.
    pub logs_source: Option<String>,
    /// [`cold_start_source::LAMBDA_INSIGHTS`] when cold starts, init durations, max memory and
    /// utilisation come from Lambda Insights metrics, [`cold_start_source::LOGS_INSIGHTS`] when
    /// from REPORT records, `null` when neither was read. SnapStart restores and timeouts
    /// always come from REPORT records (Lambda Insights has no metric for them).
    #[serde(default)]
    pub cold_start_source: Option<String>,
    /// [`logs_withheld_reason`] when the period's REPORT records disagree with CloudWatch's
    /// metrics (forged records): its REPORT-derived fields are then null and its cost estimated
    /// from the metrics, never computed from records that cannot be true.
    #[serde(default)]
    pub logs_withheld_reason: Option<String>,
    // --- end REPORT block ---
    pub collected_at: String,
}

/// One recommendation on an inventory document, with the window's numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendationEntry {
    /// `memory_decrease`, `memory_increase`, `timeout_decrease`, `timeout_at_risk`,
    /// `arm64_candidate`, `runtime_upgrade`.
    pub kind: String,
    pub message: String,
    pub suggested_memory_mb: Option<u32>,
    pub suggested_timeout_s: Option<u32>,
    pub evidence: RecommendationEvidence,
}

/// The evidence window of a recommendation (the run's collection window).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecommendationEvidence {
    pub window_start: String,
    pub window_end: String,
    pub invocations: u64,
    pub max_memory_used_mb: Option<f64>,
    pub memory_utilization: Option<f64>,
    pub duration_max_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub timeouts: Option<u64>,
    pub compute_cost_usd: Option<f64>,
}

/// The configuration of one function as the last collection saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryDocument {
    /// Same as `collected_at`: the inventory is a snapshot at collection time.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub collected_at: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    /// `None` for container images (package type `Image`), which have no managed runtime.
    pub runtime: Option<String>,
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub architecture: Option<String>,
    pub package_type: Option<String>,
    pub last_modified: Option<String>,
    /// Base64 SHA-256 of the deployment package (ListFunctions `CodeSha256`): a new value is a
    /// code deployment (see [`crate::alerts::DeploymentDocument`]). `null` in documents
    /// written before it was recorded.
    #[serde(default)]
    pub code_sha256: Option<String>,
    /// `$LATEST` or a published version number (ListFunctions `Version`).
    #[serde(default)]
    pub version: Option<String>,
    pub code_size_bytes: Option<u64>,
    /// `supported`, `deprecating` (within the configured warning days), `deprecated`,
    /// `unknown` (not in the runtime table) or `image` (container image).
    pub runtime_status: Option<String>,
    /// `YYYY-MM-DD` from the runtime table; `null` for images and unknown runtimes.
    pub runtime_deprecation_date: Option<String>,
    /// Days from the collection date to the deprecation date (negative once deprecated).
    pub runtime_days_to_deprecation: Option<i64>,
    #[serde(default)]
    pub recommendations: Vec<RecommendationEntry>,
    #[serde(default)]
    pub recommendation_kinds: Vec<String>,
}

/// Daily metrics index for a period starting on the UTC date `year-month-day`.
pub fn metrics_index(prefix: &str, year: i32, month: u32, day: u32) -> String {
    format!("{prefix}-metrics-{year:04}.{month:02}.{day:02}")
}

/// Pattern matching every metrics index of `prefix` (templates, searches, dashboards).
pub fn metrics_index_pattern(prefix: &str) -> String {
    format!("{prefix}-metrics-*")
}

/// The single inventory index of `prefix`.
pub fn inventory_index(prefix: &str) -> String {
    format!("{prefix}-inventory")
}

/// `{account}:{region}:{function}:{period_start_epoch_seconds}:{period_seconds}`: collecting
/// the same window twice overwrites the same documents instead of adding duplicates.
pub fn metric_document_id(
    account_id: &str,
    region: &str,
    function_name: &str,
    period_start_epoch_seconds: i64,
    period_seconds: u32,
) -> String {
    format!("{account_id}:{region}:{function_name}:{period_start_epoch_seconds}:{period_seconds}")
}

/// `{account}:{region}:{function}`: one inventory document per function, replaced each run.
pub fn inventory_document_id(account_id: &str, region: &str, function_name: &str) -> String {
    format!("{account_id}:{region}:{function_name}")
}

const METRICS_TEMPLATE: &str = include_str!("../templates/metrics.json");
const ALERT_RULES_TEMPLATE: &str = include_str!("../templates/alert-rules.json");
const ALERT_DESTINATIONS_TEMPLATE: &str = include_str!("../templates/alert-destinations.json");
const ALERT_STATE_TEMPLATE: &str = include_str!("../templates/alert-state.json");
const ALERTS_TEMPLATE: &str = include_str!("../templates/alerts.json");
const DEPLOYMENTS_TEMPLATE: &str = include_str!("../templates/deployments.json");
const INVENTORY_TEMPLATE: &str = include_str!("../templates/inventory.json");

/// Placeholder for the index prefix inside the template files' `index_patterns`.
const PREFIX_PLACEHOLDER: &str = "{prefix}";

/// The composable index templates for `prefix`, as `(template name, body)` pairs ready for
/// `PUT _index_template/{name}`. Names: `{prefix}-metrics`, `{prefix}-inventory`,
/// `{prefix}-checkpoints` (for the state index), `{prefix}-runs`, and those of alerting
/// ([`crate::alerts`]): `{prefix}-alert-rules`, `{prefix}-alert-destinations`,
/// `{prefix}-alert-state`, `{prefix}-alerts`, `{prefix}-deployments`.
pub fn index_templates(prefix: &str) -> Vec<(String, serde_json::Value)> {
    [
        ("metrics", METRICS_TEMPLATE),
        ("inventory", INVENTORY_TEMPLATE),
        ("checkpoints", CHECKPOINTS_TEMPLATE),
        ("runs", RUNS_TEMPLATE),
        ("alert-rules", ALERT_RULES_TEMPLATE),
        ("alert-destinations", ALERT_DESTINATIONS_TEMPLATE),
        ("alert-state", ALERT_STATE_TEMPLATE),
        ("alerts", ALERTS_TEMPLATE),
        ("deployments", DEPLOYMENTS_TEMPLATE),
    ]
        .into_iter()
        .map(|(kind, text)| {
            let mut body: serde_json::Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("schema/templates/{kind}.json is not valid JSON: {e}"));
            if let Some(patterns) = body.get_mut("index_patterns").and_then(|p| p.as_array_mut()) {
                for pattern in patterns {
                    if let Some(text) = pattern.as_str() {
                        *pattern = text.replace(PREFIX_PLACEHOLDER, prefix).into();
                    }
                }
            }
            (format!("{prefix}-{kind}"), body)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Collector state and run records: the checkpoint per account and region ([`CheckpointDocument`]
// in [`state_index`]) and one [`RunDocument`] per run in [`runs_index`]. Owned by the
// checkpoint/run-record work; metric and inventory fields live above.
// ---------------------------------------------------------------------------------------------

const CHECKPOINTS_TEMPLATE: &str = include_str!("../templates/checkpoints.json");
const RUNS_TEMPLATE: &str = include_str!("../templates/runs.json");

/// The collector's state index (checkpoints): `{prefix}-state`.
pub fn state_index(prefix: &str) -> String {
    format!("{prefix}-state")
}

/// The run-record index: `{prefix}-runs`.
pub fn runs_index(prefix: &str) -> String {
    format!("{prefix}-runs")
}

/// `checkpoint:{account}:{region}`: one checkpoint per account and region, replaced as it advances.
pub fn checkpoint_document_id(account_id: &str, region: &str) -> String {
    format!("checkpoint:{account_id}:{region}")
}

/// `kind` of a [`CheckpointDocument`] (the state index may hold other kinds later).
pub const CHECKPOINT_KIND: &str = "checkpoint";

/// Every period before `complete_until` was collected and written in full for this account
/// and region; the next run without `--start/--end` starts there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointDocument {
    /// When the checkpoint was written.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub kind: String,
    pub account_id: String,
    pub region: String,
    /// End (exclusive) of the last window collected in full, RFC 3339.
    pub complete_until: String,
    pub period_seconds: u32,
    /// The run that moved the checkpoint here.
    pub run_id: String,
}

/// One `[start, end)` collected (or skipped, in [`RunDocument::gaps`]) for an account and region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunWindow {
    pub account_id: String,
    pub region: String,
    pub start: String,
    pub end: String,
}

/// One account's outcome in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAccount {
    pub account_id: String,
    /// `ok`, `partial` or `failed`.
    pub status: String,
    pub functions: u64,
    /// Short classes of the errors (`assume_role_denied`, `throttled`, `region_disabled`,
    /// `access_denied`, `documents_failed`, `other`), for aggregations.
    pub reasons: Vec<String>,
    /// The full error lines.
    pub errors: Vec<String>,
}

/// What retention did after a run (`--retention-days`): the daily metrics indices deleted, and
/// why any expired index is still there. A retention error does not fail the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRetention {
    pub retention_days: u32,
    pub deleted: Vec<String>,
    pub errors: Vec<String>,
}

/// What one collector run did, as its summary says it (`{prefix}-runs`, `_id` = `run_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDocument {
    /// = `started_at`.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub run_id: String,
    pub started_at: String,
    pub ended_at: String,
    pub duration_ms: u64,
    pub succeeded: bool,
    pub dry_run: bool,
    pub period_seconds: u32,
    pub windows: Vec<RunWindow>,
    /// Missed windows older than the backfill horizon: reported, not collected.
    pub gaps: Vec<RunWindow>,
    pub accounts_ok: u64,
    pub accounts_failed: u64,
    pub accounts: Vec<RunAccount>,
    pub functions: u64,
    pub functions_active: u64,
    /// Requests by IAM action (`cloudwatch:GetMetricData` ...).
    pub api_calls: std::collections::BTreeMap<String, u64>,
    pub api_calls_total: u64,
    /// Parts of AWS answers the collector skipped, by reason (`cloudwatch_datapoints_outside_window`,
    /// `cloudwatch_values_not_finite`, `logs_insights_rows_outside_window`); empty when none.
    pub answers_skipped: std::collections::BTreeMap<String, u64>,
    /// GetMetricData metric queries: CloudWatch's billing unit.
    pub metrics_requested: u64,
    pub logs_insights_bytes_scanned: u64,
    /// Function periods whose REPORT-derived fields were withheld because the REPORT records
    /// disagree with CloudWatch's metrics (see [`MetricDocument::logs_withheld_reason`]).
    #[serde(default)]
    pub log_periods_withheld: u64,
    /// The run's AWS API cost at list prices (see the collector's `runrecord` price table).
    pub estimated_cost_usd: f64,
    pub documents_written: u64,
    pub documents_failed: u64,
    pub bulk_requests: u64,
    pub checkpoints_advanced: u64,
    /// `None` without `retention_days`, in a dry run, or when the run stopped before writing.
    pub retention: Option<RunRetention>,
    pub fatal_error: Option<String>,
    /// Why the run stopped before collecting everything (its time limit: the Lambda
    /// invocation's deadline); what it collected is written and checkpointed.
    pub cut_short: Option<String>,
    /// What the alert stage did; `None` in a dry run or when the run stopped before it.
    #[serde(default)]
    pub alerts: Option<RunAlerts>,
}

/// Transitions of one run, by kind ([`crate::alerts::transition`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunAlertTransitions {
    pub pending: u64,
    pub firing: u64,
    pub renotify: u64,
    pub resolved: u64,
    pub cleared: u64,
}

/// The alert stage of one run: rules read, what they found, what was sent, what it cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunAlerts {
    /// Enabled rules evaluated, and rule documents skipped as invalid (listed in `errors`).
    pub rules: u64,
    pub rules_invalid: u64,
    /// (rule, function) pairs evaluated.
    pub evaluated: u64,
    pub transitions: RunAlertTransitions,
    /// Messages (one per rule and destination) delivered and failed.
    pub notifications_sent: u64,
    pub notifications_failed: u64,
    /// Changes recorded in `{prefix}-deployments` by this run, judged by it, and found to be regressions.
    pub deployments_recorded: u64,
    pub deployments_judged: u64,
    pub regressions: u64,
    /// OpenSearch requests of the alert stage (reads, refresh, history, writes).
    pub opensearch_requests: u64,
    /// Documents of earlier periods the history query returned.
    pub history_documents: u64,
    pub evaluation_ms: u64,
    pub delivery_ms: u64,
    pub errors: Vec<String>,
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use std::collections::BTreeSet;

    fn template(name: &str) -> serde_json::Value {
        index_templates("acme").into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no template {name}")).1
    }

    fn mapped(template: &serde_json::Value) -> BTreeSet<String> {
        template["template"]["mappings"]["properties"].as_object().unwrap().keys().cloned().collect()
    }

    fn serialized<T: Serialize>(doc: &T) -> BTreeSet<String> {
        serde_json::to_value(doc).unwrap().as_object().unwrap().keys().cloned().collect()
    }

    fn window() -> RunWindow {
        RunWindow { account_id: "111122223333".into(), region: "us-east-1".into(), start: "2026-11-26T15:00:00Z".into(), end: "2026-11-26T16:00:00Z".into() }
    }

    #[test]
    fn checkpoint_document_matches_its_template() {
        let doc = CheckpointDocument {
            timestamp: "2026-11-26T16:10:00Z".into(),
            kind: CHECKPOINT_KIND.into(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            complete_until: "2026-11-26T16:00:00Z".into(),
            period_seconds: 300,
            run_id: "r1".into(),
        };
        let t = template("acme-checkpoints");
        assert_eq!(serialized(&doc), mapped(&t));
        assert_eq!(t["index_patterns"][0], state_index("acme"));
        assert_eq!(checkpoint_document_id("111122223333", "us-east-1"), "checkpoint:111122223333:us-east-1");
    }

    #[test]
    fn run_document_matches_its_template() {
        let doc = RunDocument {
            timestamp: "2026-11-26T16:10:00Z".into(),
            run_id: "r1".into(),
            started_at: "2026-11-26T16:10:00Z".into(),
            ended_at: "2026-11-26T16:10:02Z".into(),
            duration_ms: 2000,
            succeeded: true,
            dry_run: false,
            period_seconds: 300,
            windows: vec![window()],
            gaps: vec![window()],
            accounts_ok: 1,
            accounts_failed: 0,
            accounts: vec![RunAccount { account_id: "111122223333".into(), status: "ok".into(), functions: 3, reasons: vec![], errors: vec![] }],
            functions: 3,
            functions_active: 2,
            api_calls: [("cloudwatch:GetMetricData".to_string(), 1)].into(),
            api_calls_total: 1,
            answers_skipped: [("cloudwatch_datapoints_outside_window".to_string(), 2)].into(),
            metrics_requested: 18,
            logs_insights_bytes_scanned: 0,
            log_periods_withheld: 1,
            estimated_cost_usd: 0.00018,
            documents_written: 10,
            documents_failed: 0,
            bulk_requests: 1,
            checkpoints_advanced: 1,
            retention: Some(RunRetention {
                retention_days: 30,
                deleted: vec!["acme-metrics-2026.10.01".into()],
                errors: vec!["retention 30 days: deleting index acme-metrics-2026.10.02 failed: HTTP 403".into()],
            }),
            fatal_error: None,
            cut_short: None,
            alerts: Some(RunAlerts { errors: vec!["rule x: ...".into()], ..RunAlerts::default() }),
        };
        let t = template("acme-runs");
        assert_eq!(serialized(&doc), mapped(&t));
        assert_eq!(t["index_patterns"][0], runs_index("acme"));
        let windows: BTreeSet<String> = t["template"]["mappings"]["properties"]["windows"]["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(serialized(&window()), windows);
        let accounts: BTreeSet<String> = t["template"]["mappings"]["properties"]["accounts"]["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(serialized(&doc.accounts[0]), accounts);
        let retention = &t["template"]["mappings"]["properties"]["retention"];
        let mapped_retention: BTreeSet<String> = retention["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(serialized(doc.retention.as_ref().unwrap()), mapped_retention);
        assert_eq!(retention["properties"]["deleted"]["type"], "keyword", "index names are filtered and counted, not searched as text");
        assert_eq!(retention["properties"]["errors"]["type"], "text");
        let alerts = &t["template"]["mappings"]["properties"]["alerts"];
        let mapped_alerts: BTreeSet<String> = alerts["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(serialized(doc.alerts.as_ref().unwrap()), mapped_alerts);
        let mapped_transitions: BTreeSet<String> = alerts["properties"]["transitions"]["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(serialized(&RunAlertTransitions::default()), mapped_transitions);
        // A run without retention writes null, which the strict mapping accepts.
        let without = RunDocument { retention: None, ..doc };
        assert!(serde_json::to_value(&without).unwrap()["retention"].is_null());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn mapped_fields(template: &serde_json::Value) -> BTreeSet<String> {
        template["template"]["mappings"]["properties"]
            .as_object()
            .expect("template has mappings.properties")
            .keys()
            .cloned()
            .collect()
    }

    fn serialized_fields<T: Serialize>(doc: &T) -> BTreeSet<String> {
        serde_json::to_value(doc).unwrap().as_object().unwrap().keys().cloned().collect()
    }

    fn template(prefix: &str, name: &str) -> serde_json::Value {
        index_templates(prefix)
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no template {name}"))
            .1
    }

    fn sample_metric() -> MetricDocument {
        MetricDocument {
            timestamp: "2026-11-26T15:05:00Z".into(),
            period_seconds: 300,
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            function_name: "orders".into(),
            function_arn: "arn:aws:lambda:us-east-1:111122223333:function:orders".into(),
            invocations: 10,
            errors: 1,
            throttles: 0,
            error_rate: Some(0.1),
            duration_avg_ms: Some(12.5),
            duration_max_ms: Some(40.0),
            duration_p50_ms: Some(11.0),
            duration_p90_ms: Some(30.0),
            duration_p99_ms: Some(40.0),
            concurrency_max: Some(2),
            provisioned_concurrency_utilization_max: None,
            provisioned_concurrency_spillover: None,
            iterator_age_max_ms: Some(1200.0),
            async_events_dropped: None,
            async_event_age_max_ms: None,
            dead_letter_errors: None,
            destination_delivery_failures: None,
            cold_starts: Some(1),
            cold_start_rate: Some(0.1),
            init_duration_avg_ms: Some(180.5),
            init_duration_max_ms: Some(180.5),
            snapstart_restores: Some(0),
            max_memory_used_mb: Some(64.0),
            memory_utilization: Some(0.5),
            timeouts: Some(0),
            timeout_proximity_max: Some(40.0 / 3000.0),
            timeout_proximity_p99: Some(40.0 / 3000.0),
            billed_duration_ms_sum: Some(126),
            gb_seconds: Some(0.01575),
            request_cost_usd: Some(0.000002),
            compute_cost_usd: Some(0.0000002625),
            cost_usd: Some(0.0000022625),
            cost_basis: Some(cost_basis::BILLED.into()),
            logs_source: Some(logs_source::LOGS_INSIGHTS.into()),
            cold_start_source: Some(cold_start_source::LOGS_INSIGHTS.into()),
            logs_withheld_reason: Some(logs_withheld_reason::REPORTS_EXCEED_INVOCATIONS.into()),
            collected_at: "2026-11-26T16:00:05Z".into(),
        }
    }

    fn sample_recommendation() -> RecommendationEntry {
        RecommendationEntry {
            kind: "memory_decrease".into(),
            message: "peak memory use 64 MB is 25% of the configured 256 MB over 120 invocations".into(),
            suggested_memory_mb: Some(128),
            suggested_timeout_s: None,
            evidence: RecommendationEvidence {
                window_start: "2026-11-26T15:00:00Z".into(),
                window_end: "2026-11-26T16:00:00Z".into(),
                invocations: 120,
                max_memory_used_mb: Some(64.0),
                memory_utilization: Some(0.25),
                duration_max_ms: Some(40.0),
                duration_p99_ms: Some(38.0),
                timeouts: Some(0),
                compute_cost_usd: Some(0.0001),
            },
        }
    }

    fn sample_inventory() -> InventoryDocument {
        InventoryDocument {
            timestamp: "2026-11-26T16:00:05Z".into(),
            collected_at: "2026-11-26T16:00:05Z".into(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            function_name: "orders".into(),
            function_arn: "arn:aws:lambda:us-east-1:111122223333:function:orders".into(),
            runtime: None,
            memory_mb: Some(128),
            timeout_s: Some(3),
            architecture: Some("arm64".into()),
            package_type: Some("Image".into()),
            last_modified: Some("2026-11-01T10:00:00Z".into()),
            code_sha256: Some("x8sbLtBLzG3Mk8B8Qmq3D8xC0i0iW8DK1ZRHxmNtXQw=".into()),
            version: Some("$LATEST".into()),
            code_size_bytes: Some(0),
            runtime_status: Some("image".into()),
            runtime_deprecation_date: None,
            runtime_days_to_deprecation: None,
            recommendations: vec![sample_recommendation()],
            recommendation_kinds: vec!["memory_decrease".into()],
        }
    }

    fn properties(template: &serde_json::Value, path: &[&str]) -> BTreeSet<String> {
        let mut node = &template["template"]["mappings"];
        for p in path {
            node = &node["properties"][*p];
        }
        node["properties"].as_object().unwrap_or_else(|| panic!("{path:?} has properties")).keys().cloned().collect()
    }

    #[test]
    fn recommendation_objects_match_the_template_mapping() {
        let t = template("lfm", "lfm-inventory");
        let entry = sample_recommendation();
        assert_eq!(serialized_fields(&entry), properties(&t, &[fields::RECOMMENDATIONS]));
        assert_eq!(serialized_fields(&entry.evidence), properties(&t, &[fields::RECOMMENDATIONS, "evidence"]));
        // Object (not nested), so a terms aggregation on recommendations.kind works in Dashboards.
        let mapping = &t["template"]["mappings"]["properties"][fields::RECOMMENDATIONS];
        assert_eq!(mapping["type"], "object");
        assert_eq!(mapping["properties"]["kind"]["type"], "keyword");
        assert_eq!(t["template"]["mappings"]["properties"][fields::RECOMMENDATION_KINDS]["type"], "keyword");
    }

    #[test]
    fn templates_carry_the_version_of_the_log_derived_fields() {
        // Bumped with the REPORT/cost/runtime fields so existing installs are upgraded.
        assert!(template("lfm", "lfm-metrics")["version"].as_u64().unwrap() >= 3);
        // Bumped again with cold_start_source (Lambda Insights or Logs Insights).
        assert!(template("lfm", "lfm-metrics")["version"].as_u64().unwrap() >= 4);
        // And with logs_withheld_reason (REPORT records that disagree with CloudWatch).
        assert!(template("lfm", "lfm-metrics")["version"].as_u64().unwrap() >= 5);
        assert!(template("lfm", "lfm-inventory")["version"].as_u64().unwrap() >= 2);
    }

    #[test]
    fn documents_written_before_the_log_fields_still_deserialize() {
        let old = serde_json::json!({
            "@timestamp": "2026-11-26T16:00:05Z", "collected_at": "2026-11-26T16:00:05Z",
            "account_id": "1", "region": "r", "function_name": "f", "function_arn": "a",
            "runtime": null, "memory_mb": 128, "timeout_s": 3, "architecture": null,
            "package_type": null, "last_modified": null, "code_size_bytes": null
        });
        let doc: InventoryDocument = serde_json::from_value(old).unwrap();
        assert!(doc.recommendations.is_empty() && doc.runtime_status.is_none());
    }

    #[test]
    fn metric_document_fields_match_the_template_mapping() {
        assert_eq!(serialized_fields(&sample_metric()), mapped_fields(&template("lfm", "lfm-metrics")));
    }

    #[test]
    fn inventory_document_fields_match_the_template_mapping() {
        assert_eq!(
            serialized_fields(&sample_inventory()),
            mapped_fields(&template("lfm", "lfm-inventory"))
        );
    }

    #[test]
    fn field_constants_are_mapped() {
        use fields::*;
        let metrics = mapped_fields(&template("lfm", "lfm-metrics"));
        let inventory = mapped_fields(&template("lfm", "lfm-inventory"));
        for f in [TIMESTAMP, COLLECTED_AT, ACCOUNT_ID, REGION, FUNCTION_NAME, FUNCTION_ARN] {
            assert!(metrics.contains(f) && inventory.contains(f), "{f}");
        }
        for f in [PERIOD_SECONDS, INVOCATIONS, ERRORS, THROTTLES, ERROR_RATE, DURATION_AVG_MS, DURATION_MAX_MS] {
            assert!(metrics.contains(f), "{f}");
        }
        for f in [
            DURATION_P50_MS,
            DURATION_P90_MS,
            DURATION_P99_MS,
            CONCURRENCY_MAX,
            PROVISIONED_CONCURRENCY_UTILIZATION_MAX,
            PROVISIONED_CONCURRENCY_SPILLOVER,
            ITERATOR_AGE_MAX_MS,
            ASYNC_EVENTS_DROPPED,
            ASYNC_EVENT_AGE_MAX_MS,
            DEAD_LETTER_ERRORS,
            DESTINATION_DELIVERY_FAILURES,
        ] {
            assert!(metrics.contains(f), "{f}");
        }
        for f in [
            COLD_STARTS,
            COLD_START_RATE,
            INIT_DURATION_AVG_MS,
            INIT_DURATION_MAX_MS,
            SNAPSTART_RESTORES,
            MAX_MEMORY_USED_MB,
            MEMORY_UTILIZATION,
            TIMEOUTS,
            TIMEOUT_PROXIMITY_MAX,
            TIMEOUT_PROXIMITY_P99,
            BILLED_DURATION_MS_SUM,
            GB_SECONDS,
            REQUEST_COST_USD,
            COMPUTE_COST_USD,
            COST_USD,
            COST_BASIS,
            LOGS_SOURCE,
            COLD_START_SOURCE,
            LOGS_WITHHELD_REASON,
        ] {
            assert!(metrics.contains(f), "{f}");
        }
        for f in [RUNTIME, MEMORY_MB, TIMEOUT_S, ARCHITECTURE, PACKAGE_TYPE, LAST_MODIFIED, CODE_SIZE_BYTES] {
            assert!(inventory.contains(f), "{f}");
        }
        for f in [RUNTIME_STATUS, RUNTIME_DEPRECATION_DATE, RUNTIME_DAYS_TO_DEPRECATION, RECOMMENDATIONS, RECOMMENDATION_KINDS] {
            assert!(inventory.contains(f), "{f}");
        }
        assert_eq!(RECOMMENDATIONS_KIND, format!("{RECOMMENDATIONS}.kind"));
    }

    #[test]
    fn templates_are_strict_single_shard_without_replicas_and_use_the_prefix() {
        let templates = index_templates("acme");
        assert_eq!(templates.len(), 9);
        for (name, body) in &templates {
            assert_eq!(body["template"]["mappings"]["dynamic"], "strict", "{name}");
            assert_eq!(body["template"]["settings"]["number_of_shards"], 1, "{name}");
            assert_eq!(body["template"]["settings"]["number_of_replicas"], 0, "{name}");
        }
        assert_eq!(template("acme", "acme-metrics")["index_patterns"][0], metrics_index_pattern("acme"));
        assert_eq!(template("acme", "acme-inventory")["index_patterns"][0], inventory_index("acme"));
    }

    #[test]
    fn index_names_and_ids() {
        assert_eq!(metrics_index("lfm", 2026, 1, 5), "lfm-metrics-2026.01.05");
        assert_eq!(inventory_index("lfm"), "lfm-inventory");
        assert_eq!(
            metric_document_id("111122223333", "eu-west-1", "orders", 1_795_705_500, 300),
            "111122223333:eu-west-1:orders:1795705500:300"
        );
        assert_eq!(inventory_document_id("111122223333", "eu-west-1", "orders"), "111122223333:eu-west-1:orders");
    }

    #[test]
    fn not_applicable_feature_metrics_serialize_as_null() {
        let doc = serde_json::to_value(sample_metric()).unwrap();
        assert!(doc["provisioned_concurrency_spillover"].is_null());
        assert!(doc["dead_letter_errors"].is_null());
        assert_eq!(doc["iterator_age_max_ms"], 1200.0);
    }

    #[test]
    fn null_error_rate_serializes_as_null() {
        let mut doc = sample_metric();
        doc.invocations = 0;
        doc.error_rate = None;
        assert!(serde_json::to_value(&doc).unwrap()["error_rate"].is_null());
    }
}
