//! The LFM dashboards as OpenSearch Dashboards saved objects, built from the field constants of
//! [`crate::documents`] so that they cannot name a field the collector does not write.
//!
//! - [`spec`]: what each dashboard and visualisation shows (and what is not shown yet);
//! - [`vega`]: the Vega-Lite charts for what standard visualisations cannot compute (a ratio of
//!   sums per bucket, a ranking above a minimum number of invocations);
//! - [`encode`]: the saved-object shape Dashboards imports (`visState`, `searchSourceJSON`,
//!   `panelsJSON`, references), with stable IDs derived from the index prefix;
//! - [`implied`]: the fields and the OpenSearch search each visualisation implies, read back
//!   from the saved object, for checks against a real index mapping.
//!
//! Index patterns: `{prefix}-metrics-*` and, for the alerts and regressions dashboard,
//! `{prefix}-alerts` and `{prefix}-deployments` are time-based (`@timestamp`); the inventory,
//! `{prefix}-alert-state` and `{prefix}-alert-rules` are snapshots without a time field (see
//! [`encode::time_field`]). Text fields (a transition's `reason`, a deployment's `summary`) are
//! shown with a Top Hit metric (the newest document's value), as no bucket can split on text.
//!
//! [`bundle`] gives every object (index patterns first, then visualisations, then dashboards:
//! the order an import resolves references in) with a content hash; [`Bundle::to_ndjson`] is
//! the body of `POST api/saved_objects/_import`. Objects carry no `migrationVersion`: Dashboards
//! then runs its migrations, which leave this (already current) shape unchanged.

pub mod encode;
pub mod implied;
pub mod spec;
pub mod vega;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version of the bundle's shape and contents; the content hash tells two builds apart.
pub const BUNDLE_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedObjectReference {
    pub name: String,
    #[serde(rename = "type")]
    pub object_type: String,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedObject {
    #[serde(rename = "type")]
    pub object_type: String,
    pub id: String,
    pub attributes: Value,
    pub references: Vec<SavedObjectReference>,
}

impl SavedObject {
    /// `type/id`, as the saved-objects API addresses it.
    pub fn key(&self) -> String {
        format!("{}/{}", self.object_type, self.id)
    }

    pub fn title(&self) -> &str {
        self.attributes["title"].as_str().unwrap_or_default()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    pub version: String,
    /// FNV-1a 64 (hex) of [`Bundle::to_ndjson`]: changes whenever any object changes.
    pub content_hash: String,
    pub objects: Vec<SavedObject>,
}

impl Bundle {
    /// The saved-objects import format: one JSON object per line.
    pub fn to_ndjson(&self) -> String {
        ndjson(&self.objects)
    }

    pub fn get(&self, object_type: &str, id: &str) -> Option<&SavedObject> {
        self.objects.iter().find(|o| o.object_type == object_type && o.id == id)
    }

    pub fn visualizations(&self) -> impl Iterator<Item = &SavedObject> {
        self.objects.iter().filter(|o| o.object_type == "visualization")
    }
}

fn ndjson(objects: &[SavedObject]) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str(&serde_json::to_string(object).expect("saved objects serialize"));
        out.push('\n');
    }
    out
}

/// FNV-1a 64 in hex: stable across Rust releases and platforms (std's hasher is not).
pub fn fnv1a_hex(content: &str) -> String {
    let hash = content.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// Every saved object of the LFM dashboards for indices named `{prefix}-...`.
pub fn bundle(prefix: &str) -> Bundle {
    let mut objects: Vec<SavedObject> = spec::Source::ALL.iter().map(|s| encode::index_pattern(prefix, *s)).collect();
    objects.extend(spec::visualizations().iter().map(|v| encode::visualization(prefix, v)));
    objects.extend(spec::dashboards().iter().map(|d| encode::dashboard(prefix, d)));
    let content_hash = fnv1a_hex(&ndjson(&objects));
    Bundle { version: BUNDLE_VERSION.to_owned(), content_hash, objects }
}

#[cfg(test)]
mod tests;
