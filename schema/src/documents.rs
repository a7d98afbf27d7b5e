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

/// Default prefix of every LFM index and template name.
pub const DEFAULT_INDEX_PREFIX: &str = "lfm";

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

    // Inventory.
    pub const RUNTIME: &str = "runtime";
    pub const MEMORY_MB: &str = "memory_mb";
    pub const TIMEOUT_S: &str = "timeout_s";
    pub const ARCHITECTURE: &str = "architecture";
    pub const PACKAGE_TYPE: &str = "package_type";
    pub const LAST_MODIFIED: &str = "last_modified";
    pub const CODE_SIZE_BYTES: &str = "code_size_bytes";
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
    pub collected_at: String,
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
    pub code_size_bytes: Option<u64>,
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
const INVENTORY_TEMPLATE: &str = include_str!("../templates/inventory.json");

/// Placeholder for the index prefix inside the template files' `index_patterns`.
const PREFIX_PLACEHOLDER: &str = "{prefix}";

/// The composable index templates for `prefix`, as `(template name, body)` pairs ready for
/// `PUT _index_template/{name}`. Names: `{prefix}-metrics`, `{prefix}-inventory`.
pub fn index_templates(prefix: &str) -> Vec<(String, serde_json::Value)> {
    [("metrics", METRICS_TEMPLATE), ("inventory", INVENTORY_TEMPLATE)]
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
            collected_at: "2026-11-26T16:00:05Z".into(),
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
            code_size_bytes: Some(0),
        }
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
        for f in [RUNTIME, MEMORY_MB, TIMEOUT_S, ARCHITECTURE, PACKAGE_TYPE, LAST_MODIFIED, CODE_SIZE_BYTES] {
            assert!(inventory.contains(f), "{f}");
        }
    }

    #[test]
    fn templates_are_strict_single_shard_without_replicas_and_use_the_prefix() {
        let templates = index_templates("acme");
        assert_eq!(templates.len(), 2);
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
    fn null_error_rate_serializes_as_null() {
        let mut doc = sample_metric();
        doc.invocations = 0;
        doc.error_rate = None;
        assert!(serde_json::to_value(&doc).unwrap()["error_rate"].is_null());
    }
}
