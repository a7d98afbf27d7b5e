//! Derive: pure functions from harvested datapoints and inventory to the documents of
//! `lfm-schema`. No I/O; every rule is unit-tested on recorded payloads (GetMetricData
//! responses, REPORT lines).
//!
//! One file per document kind or derived number: [`metrics`] (CloudWatch numbers per period),
//! [`inventory`] (function configuration), [`enrich`] (REPORT numbers, cost, runtime status and
//! recommendations put on those documents), [`lambda_insights`] (cold starts and memory from Lambda
//! Insights where the function publishes it, and which source they came from).

pub mod inventory;
pub mod metrics;

// Deploy-aware regressions: the changes ListFunctions shows, and the before/after statistics.
pub mod deployments;
pub mod regression;

// Numbers AWS/Lambda metrics lack: REPORT records, runtime status, cost, recommendations.
pub mod cost;
pub mod enrich;
pub mod lambda_insights;
pub mod recommend;
pub mod report_check;
pub mod runtime;

use chrono::{DateTime, SecondsFormat, Utc};

pub use inventory::{indexed_inventory_document, inventory_document, inventory_struct};
pub use metrics::{error_rate, indexed_metric_document, metric_documents, metric_rows, period_metrics, PeriodMetrics};

/// Timestamps in documents: RFC 3339, UTC, whole seconds (`2026-11-26T15:05:00Z`).
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{DateTime, Utc};

    use crate::discover::FunctionRecord;

    pub fn function(name: &str) -> FunctionRecord {
        FunctionRecord {
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            name: name.into(),
            arn: format!("arn:aws:lambda:eu-west-1:111122223333:function:{name}"),
            runtime: Some("python3.12".into()),
            memory_mb: Some(256),
            timeout_s: Some(30),
            architecture: Some("arm64".into()),
            package_type: Some("Zip".into()),
            last_modified: Some("2026-11-01T08:00:00Z".parse().unwrap()),
            code_sha256: Some("kQ4KsWyy5gmXNr3BzVIJUPZyYzOSAvt4tu3ncyAzYVk=".into()),
            version: Some("$LATEST".into()),
            code_size_bytes: Some(4096),
            log_group: format!("/aws/lambda/{name}"),
        }
    }

    pub fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
}
