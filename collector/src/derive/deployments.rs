//! Deployments: the code and configuration changes ListFunctions shows, as
//! [`DeploymentDocument`]s (`{prefix}-deployments`). Pure: the store stage
//! ([`crate::store::deployments`]) reads the previous inventory documents and writes what this
//! returns; the alert engine judges them later ([`super::regression`]).
//!
//! A function's `LastModified` moves with every code or configuration update
//! (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html: "The date and
//! time that the function was last updated, in ISO-8601 format (YYYY-MM-DDThh:mm:ss.sTZD)"), so
//! it dates the change, and `{function_arn}|{last_modified}` names it however often it is seen.
//! A change is recorded only when a field LFM compares differs from the previous inventory
//! document: an update of something else (environment variables, description, tags) moves
//! LastModified without making a deployment, and a function seen for the first time has
//! nothing to compare with.

use chrono::{DateTime, Utc};
use lfm_schema::alerts::{deployment_document_id, deployments_index, verdict, DeploymentChange, DeploymentDocument};
use lfm_schema::documents::InventoryDocument;

use super::rfc3339;
use crate::discover::functions::parse_last_modified;
use crate::store::IndexedDocument;

/// The fields a change is made of, in the order documents list them.
pub const COMPARED_FIELDS: &[&str] = &["code_sha256", "memory_mb", "timeout_s", "runtime", "architecture", "package_type"];

/// Whether a function may have changed since the pair's previous collection: its LastModified
/// is at or after the start of the earliest window this run collects for its account and
/// region (`None`: no window, nothing collected, no candidate). Only candidates cost a read of
/// their previous inventory document.
pub fn is_candidate(current: &InventoryDocument, earliest_window_start: Option<DateTime<Utc>>) -> bool {
    match (last_modified(current), earliest_window_start) {
        (Some(modified), Some(start)) => modified >= start,
        _ => false,
    }
}

/// The change from `previous` (the function's inventory document as the last collection wrote
/// it) to `current` (this collection's), or `None`: first sight (no previous document), or no
/// compared field differs. Verdict pending, no comparisons yet.
pub fn deployment(previous: Option<&InventoryDocument>, current: &InventoryDocument, period_seconds: u32) -> Option<DeploymentDocument> {
    let previous = previous?;
    let changes: Vec<DeploymentChange> = COMPARED_FIELDS
        .iter()
        .filter_map(|field| {
            let (from, to) = (field_value(previous, field), field_value(current, field));
            // A field an older document did not record (code_sha256 before it existed) is no change.
            (from.is_some() && from != to).then(|| DeploymentChange { field: field.to_string(), from, to })
        })
        .collect();
    if changes.is_empty() {
        return None;
    }
    let modified = last_modified(current)?;
    Some(DeploymentDocument {
        timestamp: rfc3339(&modified),
        first_seen_at: current.collected_at.clone(),
        account_id: current.account_id.clone(),
        region: current.region.clone(),
        function_name: current.function_name.clone(),
        function_arn: current.function_arn.clone(),
        code_sha256: current.code_sha256.clone(),
        version: current.version.clone(),
        changed_fields: changes.iter().map(|c| c.field.clone()).collect(),
        changes,
        verdict: verdict::PENDING.to_string(),
        comparisons: Vec::new(),
        summary: None,
        evaluated_at: None,
        period_seconds,
    })
}

/// The document ready for `_bulk`: `_id` `{function_arn}|{@timestamp}`.
pub fn indexed_deployment(prefix: &str, document: &DeploymentDocument) -> IndexedDocument {
    IndexedDocument::new(
        deployments_index(prefix),
        deployment_document_id(&document.function_arn, &document.timestamp),
        document,
    )
}

/// LastModified of an inventory document: RFC 3339 as LFM writes it, or Lambda's own format.
fn last_modified(document: &InventoryDocument) -> Option<DateTime<Utc>> {
    document.last_modified.as_deref().and_then(parse_last_modified)
}

fn field_value(document: &InventoryDocument, field: &str) -> Option<String> {
    match field {
        "code_sha256" => document.code_sha256.clone(),
        "memory_mb" => document.memory_mb.map(|v| v.to_string()),
        "timeout_s" => document.timeout_s.map(|v| v.to_string()),
        "runtime" => document.runtime.clone(),
        "architecture" => document.architecture.clone(),
        "package_type" => document.package_type.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::inventory_struct;
    use crate::discover::functions::function_record;
    use aws_sdk_lambda::types::{Architecture, FunctionConfiguration, PackageType, Runtime};

    /// The shape of one entry of a ListFunctions answer (`Functions[]`), as in the example of
    /// https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html, through the SDK type
    /// the collector receives.
    fn listed(sha: &str, memory: i32, last_modified: &str) -> FunctionConfiguration {
        FunctionConfiguration::builder()
            .function_name("orders-api")
            .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:orders-api")
            .runtime(Runtime::Python312)
            .handler("app.handler")
            .code_size(5797206)
            .code_sha256(sha)
            .description("")
            .timeout(30)
            .memory_size(memory)
            .last_modified(last_modified)
            .version("$LATEST")
            .package_type(PackageType::Zip)
            .architectures(Architecture::Arm64)
            .build()
    }

    fn inventory(f: &FunctionConfiguration, collected_at: &str) -> InventoryDocument {
        inventory_struct(&function_record("111122223333", "eu-west-1", f), &collected_at.parse().unwrap())
    }

    const SHA_A: &str = "YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=";
    const SHA_B: &str = "sU0cJ2/hOZevwV/lTxCuQqK3gDZP3i8gUoqUUVZmY6E=";

    #[test]
    fn code_deployment_from_list_functions() {
        let before = inventory(&listed(SHA_A, 512, "2026-11-26T09:12:44.000+0000"), "2026-11-26T14:00:07Z");
        let after = inventory(&listed(SHA_B, 512, "2026-11-26T14:05:00.000+0000"), "2026-11-26T14:15:07Z");
        let d = deployment(Some(&before), &after, 300).unwrap();
        assert_eq!(d.timestamp, "2026-11-26T14:05:00Z");
        assert_eq!(d.first_seen_at, "2026-11-26T14:15:07Z");
        assert_eq!(d.changed_fields, vec!["code_sha256"]);
        assert_eq!(d.changes[0].from.as_deref(), Some(SHA_A));
        assert_eq!(d.changes[0].to.as_deref(), Some(SHA_B));
        assert_eq!((d.verdict.as_str(), d.code_sha256.as_deref(), d.version.as_deref()), ("pending", Some(SHA_B), Some("$LATEST")));
        assert_eq!((d.function_name.as_str(), d.period_seconds), ("orders-api", 300));
        let doc = indexed_deployment("lfm", &d);
        assert_eq!(doc.index, "lfm-deployments");
        assert_eq!(doc.id, "arn:aws:lambda:eu-west-1:111122223333:function:orders-api|2026-11-26T14:05:00Z");
        assert_eq!(doc.body["@timestamp"], "2026-11-26T14:05:00Z");
        assert_eq!(doc.body["changes"][0]["field"], "code_sha256");
    }

    #[test]
    fn configuration_change_lists_every_field_from_to() {
        let before = inventory(&listed(SHA_A, 512, "2026-11-26T09:12:44.000+0000"), "2026-11-26T14:00:07Z");
        let mut f = listed(SHA_B, 1024, "2026-11-26T14:05:31.512+0000");
        f.timeout = Some(60);
        let after = inventory(&f, "2026-11-26T14:15:07Z");
        let d = deployment(Some(&before), &after, 300).unwrap();
        assert_eq!(d.changed_fields, vec!["code_sha256", "memory_mb", "timeout_s"]);
        assert_eq!(d.changes[1].from.as_deref(), Some("512"));
        assert_eq!(d.changes[1].to.as_deref(), Some("1024"));
        // Milliseconds of LastModified: the inventory keeps whole seconds, so does the id.
        assert_eq!(d.timestamp, "2026-11-26T14:05:31Z");
    }

    #[test]
    fn no_change_first_sight_and_fields_not_recorded_before() {
        let a = inventory(&listed(SHA_A, 512, "2026-11-26T09:12:44.000+0000"), "2026-11-26T14:00:07Z");
        // Same configuration, later collection; an environment-variable update moves
        // LastModified but changes no compared field.
        let same = inventory(&listed(SHA_A, 512, "2026-11-26T14:05:00.000+0000"), "2026-11-26T14:15:07Z");
        assert_eq!(deployment(Some(&a), &same, 300), None);
        assert_eq!(deployment(None, &same, 300), None);
        // An inventory document written before code_sha256 was recorded.
        let mut old = a.clone();
        old.code_sha256 = None;
        let changed = inventory(&listed(SHA_B, 512, "2026-11-26T14:05:00.000+0000"), "2026-11-26T14:15:07Z");
        assert_eq!(deployment(Some(&old), &changed, 300), None);
    }

    #[test]
    fn candidates_changed_inside_the_window() {
        let doc = inventory(&listed(SHA_A, 512, "2026-11-26T14:05:00.000+0000"), "2026-11-26T14:15:07Z");
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        assert!(is_candidate(&doc, at("2026-11-26T14:00:00Z")));
        assert!(is_candidate(&doc, at("2026-11-26T14:05:00Z")));
        assert!(!is_candidate(&doc, at("2026-11-26T14:10:00Z")));
        assert!(!is_candidate(&doc, None));
        let mut unknown = doc.clone();
        unknown.last_modified = None;
        assert!(!is_candidate(&unknown, at("2026-11-26T14:00:00Z")));
    }

    #[test]
    fn reads_lambda_last_modified_format() {
        let mut doc = inventory(&listed(SHA_A, 512, "2026-11-26T14:05:00.000+0000"), "2026-11-26T14:15:07Z");
        doc.last_modified = Some("2026-11-26T14:05:00.000+0000".into());
        assert_eq!(last_modified(&doc), Some("2026-11-26T14:05:00Z".parse().unwrap()));
    }
}
