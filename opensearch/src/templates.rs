//! The index templates of `lfm-schema`, installed the one way both halves use: `PUT
//! _index_template/{name}` for each, then the template's mapping put onto the indices that
//! already exist (a template applies only to indices created after it: today's metrics index
//! and the inventory would otherwise keep their strict old mapping and reject documents with new
//! fields). New fields are added; existing ones are never changed.
//!
//! The mapping upgrade uses `allow_no_indices=true&ignore_unavailable=true&expand_wildcards=all`:
//! - `expand_wildcards=all` (not `open`): closed indices take mapping updates too, and an index
//!   closed now and reopened later (by hand, or after a snapshot restore) must accept the current
//!   documents. Checked on the test bed's OpenSearch 2.19: with `open`, a closed
//!   `{prefix}-metrics-*` index kept its old strict mapping and, reopened, refused a document
//!   with the new field (`strict_dynamic_mapping_exception`); with `all` it took the field.
//! - `ignore_unavailable=true`: a template whose patterns include a concrete name (the
//!   inventory) is upgraded even when that index does not exist yet; without it the whole PUT
//!   answers 404 `index_not_found_exception` and no matching index is upgraded.
//! - `allow_no_indices=true`: no matching index is nothing to do, not an error.

use serde_json::Value as Json;

use crate::{Client, Error};

/// What [`install`] did. A failed mapping upgrade does not undo the templates: the caller
/// decides whether it is fatal (the provider: yes; the collector: documents for those indices
/// fail one by one with OpenSearch's reason).
#[derive(Debug)]
pub struct Installed {
    pub names: Vec<String>,
    pub mapping_upgrades_failed: Vec<Error>,
}

/// The template names and bodies for `prefix`, from `lfm-schema`.
pub fn desired(prefix: &str) -> Vec<(String, Json)> {
    lfm_schema::documents::index_templates(prefix)
}

/// Installs every template of `prefix` (idempotent) and upgrades the mappings of existing indices.
pub async fn install(client: &Client, prefix: &str) -> Result<Installed, Error> {
    let mut installed = Installed { names: Vec::new(), mapping_upgrades_failed: Vec::new() };
    for (name, body) in desired(prefix) {
        client
            .request(reqwest::Method::PUT, &format!("_index_template/{name}"))
            .action(format!("installing index template {name}"))
            .json(&body)
            .send()
            .await?
            .success()?;
        if let Err(e) = upgrade_mappings(client, &name, &body).await {
            installed.mapping_upgrades_failed.push(e);
        }
        installed.names.push(name);
    }
    Ok(installed)
}

/// Puts `template`'s mapping on the existing indices its patterns match (see the module doc).
pub async fn upgrade_mappings(client: &Client, name: &str, template: &Json) -> Result<(), Error> {
    let patterns: Vec<&str> = template["index_patterns"].as_array().into_iter().flatten().filter_map(Json::as_str).collect();
    let mappings = &template["template"]["mappings"];
    if patterns.is_empty() || mappings.is_null() {
        return Ok(());
    }
    let path = format!("{}/_mapping?{}", patterns.join(","), MAPPING_UPGRADE_QUERY);
    let response = client
        .request(reqwest::Method::PUT, &path)
        .action(format!("putting index template {name}'s mapping onto the existing indices"))
        .json(mappings)
        .send()
        .await?;
    // 404: no index exists yet (older OpenSearch versions say so despite allow_no_indices).
    if response.is_success() || response.status == 404 {
        return Ok(());
    }
    Err(response.error())
}

/// The query of the mapping upgrade (see the module doc for each parameter).
pub const MAPPING_UPGRADE_QUERY: &str = "allow_no_indices=true&ignore_unavailable=true&expand_wildcards=all";

/// The installed template `name` (its `index_template` object), `None` when absent.
pub async fn get(client: &Client, name: &str) -> Result<Option<Json>, Error> {
    let response = client
        .request(reqwest::Method::GET, &format!("_index_template/{name}"))
        .action(format!("reading index template {name}"))
        .send()
        .await?;
    if response.status == 404 {
        return Ok(None);
    }
    let response = response.success()?;
    let body = response.json();
    Ok(body["index_templates"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .map(|t| t["index_template"].clone()))
}

/// Deletes template `name`; absent already is as good as deleted.
pub async fn delete(client: &Client, name: &str) -> Result<(), Error> {
    client.delete(&format!("_index_template/{name}"), format!("deleting index template {name}")).await
}
