//! The inventory document of one function: its configuration as the last collection saw it.

use chrono::{DateTime, Utc};
use lfm_schema::documents::{inventory_document_id, inventory_index, InventoryDocument};

use super::rfc3339;
use crate::discover::FunctionRecord;
use crate::store::IndexedDocument;

pub fn inventory_document(prefix: &str, function: &FunctionRecord, collected_at: &DateTime<Utc>) -> IndexedDocument {
    indexed_inventory_document(prefix, function, &inventory_struct(function, collected_at))
}

pub fn indexed_inventory_document(prefix: &str, function: &FunctionRecord, document: &InventoryDocument) -> IndexedDocument {
    IndexedDocument::new(
        inventory_index(prefix),
        inventory_document_id(&function.account_id, &function.region, &function.name),
        document,
    )
}

/// The configuration fields; runtime status and recommendations empty (see [`super::enrich`]).
pub fn inventory_struct(function: &FunctionRecord, collected_at: &DateTime<Utc>) -> InventoryDocument {
    InventoryDocument {
        timestamp: rfc3339(collected_at),
        collected_at: rfc3339(collected_at),
        account_id: function.account_id.clone(),
        region: function.region.clone(),
        function_name: function.name.clone(),
        function_arn: function.arn.clone(),
        runtime: function.runtime.clone(),
        memory_mb: function.memory_mb,
        timeout_s: function.timeout_s,
        architecture: function.architecture.clone(),
        package_type: function.package_type.clone(),
        last_modified: function.last_modified.as_ref().map(rfc3339),
        code_sha256: None,
        version: None,
        code_size_bytes: function.code_size_bytes,
        runtime_status: None,
        runtime_deprecation_date: None,
        runtime_days_to_deprecation: None,
        recommendations: Vec::new(),
        recommendation_kinds: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::test_support::{function, t};

    #[test]
    fn inventory_document_fields() {
        let mut image = function("resize");
        image.runtime = None;
        image.package_type = Some("Image".into());
        let doc = inventory_document("lfm", &image, &t("2026-11-26T16:00:07Z"));
        assert_eq!(doc.index, "lfm-inventory");
        assert_eq!(doc.id, "111122223333:eu-west-1:resize");
        assert!(doc.body["runtime"].is_null());
        assert_eq!(doc.body["last_modified"], "2026-11-01T08:00:00Z");
        assert_eq!(doc.body["memory_mb"], 256);
    }
}
