//! The pure part of `lfm_dashboard_bundle`: the target read from a plan or state, IDs, the
//! desired templates / ISM policy / saved objects and their hashes, template comparison, and
//! the plan's computed attributes. No I/O here; all unit-tested.

use crate::framework::{AttrPath, Diagnostics, Value};
use crate::lfm::opensearch_target::{auth_from_value, url_trimmed, validate_auth};
use lfm_schema::dashboards::{bundle, BUNDLE_VERSION};
use lfm_schema::contract::DEFAULT_INDEX_PREFIX;
use lfm_schema::documents::index_templates;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every attribute of the resource, in schema order (state objects carry all of them).
pub const ATTRIBUTES: &[&str] = &[
    "id",
    "opensearch_url",
    "dashboards_url",
    "index_prefix",
    "retention_days",
    "ism",
    "username",
    "password",
    "request_timeout_seconds",
    "max_retries",
    "template_names",
    "template_hashes",
    "saved_object_ids",
    "saved_objects_hash",
    "saved_objects_fingerprint",
    "bundle_version",
    "ism_policy_id",
    "retention_mode",
];
/// Nested blocks (null when absent).
pub const BLOCKS: &[&str] = &["sigv4"];

/// Basic-auth credentials used when the configuration or state has no auth block, the
/// authentication itself and its checks: shared with the alert resources.
pub use crate::lfm::opensearch_target::{Auth, ENV_PASSWORD, ENV_USERNAME};

pub const RETENTION_ISM: &str = "ism";
pub const RETENTION_COLLECTOR: &str = "collector";
pub const RETENTION_NONE: &str = "none";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsmMode {
    Auto,
    On,
    Off,
}

/// Where the bundle goes and how to talk to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub opensearch_url: String,
    pub dashboards_url: Option<String>,
    pub index_prefix: String,
    pub retention_days: Option<u32>,
    pub ism: IsmMode,
    pub auth: Auth,
    pub timeout: Duration,
    pub max_retries: u32,
}


impl Target {
    /// From a known plan or state object (defaults where attributes are null), with basic
    /// auth from `LFM_OPENSEARCH_USERNAME` / `LFM_OPENSEARCH_PASSWORD` when neither auth block
    /// is set (an imported state has none: `terraform import` reads with these).
    pub fn from_value(v: &Value) -> Result<Target, Diagnostics> {
        Self::from_value_with_env(v, |name| std::env::var(name).ok().filter(|s| !s.is_empty()))
    }

    pub fn from_value_with_env(
        v: &Value,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Target, Diagnostics> {
        let opensearch_url = v
            .get("opensearch_url")
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Diagnostics::attribute_error(
                    AttrPath::attr("opensearch_url"),
                    "opensearch_url is not known",
                    "lfm_dashboard_bundle needs a known opensearch_url at apply time.",
                )
            })?;
        let auth = auth_from_value(v, env);
        Ok(Target {
            opensearch_url: url_trimmed(opensearch_url),
            dashboards_url: v.get("dashboards_url").as_str().map(url_trimmed),
            index_prefix: v
                .get("index_prefix")
                .as_str()
                .unwrap_or(DEFAULT_INDEX_PREFIX)
                .to_owned(),
            retention_days: v.get("retention_days").as_i64().map(|d| d as u32),
            ism: match v.get("ism").as_str() {
                Some("on") => IsmMode::On,
                Some("off") => IsmMode::Off,
                _ => IsmMode::Auto,
            },
            auth,
            timeout: Duration::from_secs(
                v.get("request_timeout_seconds").as_i64().unwrap_or(30) as u64
            ),
            max_retries: v.get("max_retries").as_i64().unwrap_or(3) as u32,
        })
    }
}

/// Cross-attribute checks (per-attribute validators run first, generically). They run at
/// validation, where values from module variables or other resources may still be unknown, and
/// again in the plan (`modify_plan`), where they are known: an unknown value is neither set nor
/// missing, so `username = var.username` with a null variable and a `dynamic "sigv4"` block
/// in one module do not conflict before Terraform knows which is used.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = validate_auth(config);
    if config.get("ism").as_str() == Some("on") && config.get("retention_days").is_null() {
        diags.extend(Diagnostics::attribute_error(
            AttrPath::attr("retention_days"),
            "ism = \"on\" needs retention_days",
            "The ISM policy deletes indices older than retention_days: set retention_days (e.g. 30), or leave ism at \"auto\".",
        ));
    }
    diags
}

/// Validator of `opensearch_url` / `dashboards_url` (the alert resources' too).
pub use crate::lfm::opensearch_target::http_url;

/// Validator of `index_prefix`: the contract's [`lfm_schema::contract::IndexPrefix`], the same
/// rules as `lfm_collector` and the collector CLI.
pub use crate::lfm::contract::index_prefix;

/// `<opensearch_url>|<index_prefix>`, the resource ID.
pub fn resource_id(opensearch_url: &str, prefix: &str) -> String {
    format!("{}|{prefix}", url_trimmed(opensearch_url))
}

/// Import ID: `<opensearch_url>|<index_prefix>` or `<opensearch_url>|<index_prefix>|<dashboards_url>`.
pub fn parse_import_id(id: &str) -> Result<(String, String, Option<String>), Diagnostics> {
    let parts: Vec<&str> = id.split('|').collect();
    let valid = |url: &str| http_url(&Value::string(url)).is_ok();
    let ok = matches!(parts.len(), 2 | 3)
        && valid(parts[0])
        && index_prefix(&Value::string(parts[1])).is_ok()
        && parts.get(2).into_iter().all(|d| valid(d));
    if !ok {
        return Err(Diagnostics::error(
            format!("Invalid import ID {} for lfm_dashboard_bundle", crate::protocol::hcl::render(&Value::string(id))),
            "Accepted formats: OPENSEARCH_URL|INDEX_PREFIX or OPENSEARCH_URL|INDEX_PREFIX|DASHBOARDS_URL, e.g. \
             `terraform import lfm_dashboard_bundle.main 'https://search.example.com|lfm|https://dashboards.example.com'`. \
             Authentication (username/password, sigv4) comes from the configuration, or from LFM_OPENSEARCH_USERNAME / LFM_OPENSEARCH_PASSWORD.",
        ));
    }
    Ok((
        url_trimmed(parts[0]),
        parts[1].to_owned(),
        parts.get(2).map(|d| url_trimmed(d)),
    ))
}

/// The state object an import starts from; `read` fills in what is installed.
pub fn import_state(opensearch_url: &str, prefix: &str, dashboards_url: Option<&str>) -> Value {
    let mut state = Value::object(ATTRIBUTES.iter().chain(BLOCKS).map(|a| (*a, Value::Null)));
    state.set("id", Value::string(resource_id(opensearch_url, prefix)));
    state.set("opensearch_url", Value::string(opensearch_url));
    state.set("dashboards_url", Value::opt_string(dashboards_url));
    state.set("index_prefix", Value::string(prefix));
    state.set("ism", Value::string("auto"));
    state.set("request_timeout_seconds", Value::Number(30.0));
    state.set("max_retries", Value::Number(3.0));
    state
}

/// JSON with object keys sorted at every level: the text hashes are taken of.
pub fn canonical_json(v: &Json) -> String {
    let mut text = String::new();
    write_canonical(v, &mut text);
    text
}

fn write_canonical(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&m[*k], out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `saved_objects_hash` becomes when a read finds objects edited inside Dashboards.
pub const SAVED_OBJECTS_EDITED: &str = "edited";

/// SHA-256 over the saved objects as Dashboards stores them (`_bulk_get` answers), limited to
/// the attributes the bundle sets on each object: an edit of a title, a visualisation's state
/// or a dashboard's panels changes it; what Dashboards adds by itself (migrations, an index
/// pattern's cached `fields`, `updated_at`, `version`) does not, because it is read back after
/// each import and compared read to read. A missing object counts as `missing`.
pub fn saved_objects_fingerprint(bundle: &lfm_schema::dashboards::Bundle, stored: &[Json]) -> String {
    let mut text = String::new();
    for object in &bundle.objects {
        text.push_str(&object.key());
        text.push('\n');
        let found = stored.iter().find(|s| {
            s["type"] == object.object_type.as_str()
                && s["id"] == object.id.as_str()
                && s.get("error").is_none()
        });
        let Some(found) = found else {
            text.push_str("missing\n");
            continue;
        };
        for key in object.attributes.as_object().into_iter().flat_map(|m| m.keys()) {
            text.push_str(key);
            text.push('=');
            text.push_str(&canonical_json(&found["attributes"][key]));
            text.push('\n');
        }
    }
    sha256_hex(text.as_bytes())
}

/// SHA-256 of the template body's canonical JSON.
pub fn template_hash(body: &Json) -> String {
    sha256_hex(canonical_json(body).as_bytes())
}

/// The templates the collector installs, by name: the same `lfm_schema` text.
pub fn desired_templates(prefix: &str) -> Vec<(String, Json)> {
    index_templates(prefix)
}

/// A template as OpenSearch returns it and as it was sent compare equal after this: settings
/// flattened under `index.` with string values, an empty `composed_of` dropped.
pub fn normalize_template(t: &Json) -> Json {
    fn flatten(prefix: &str, v: &Json, out: &mut serde_json::Map<String, Json>) {
        match v {
            Json::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            Json::String(s) => {
                out.insert(prefix.to_owned(), Json::String(s.clone()));
            }
            other => {
                out.insert(prefix.to_owned(), Json::String(other.to_string()));
            }
        }
    }
    let mut t = t.clone();
    if let Some(obj) = t.as_object_mut() {
        if obj
            .get("composed_of")
            .and_then(Json::as_array)
            .is_some_and(Vec::is_empty)
        {
            obj.remove("composed_of");
        }
    }
    if let Some(settings) = t.pointer("/template/settings").cloned() {
        let mut flat = serde_json::Map::new();
        flatten("", &settings, &mut flat);
        let flat: serde_json::Map<String, Json> = flat
            .into_iter()
            .map(|(k, v)| {
                (
                    if k.starts_with("index.") {
                        k
                    } else {
                        format!("index.{k}")
                    },
                    v,
                )
            })
            .collect();
        t["template"]["settings"] = Json::Object(flat);
    }
    t
}

pub fn templates_equivalent(desired: &Json, installed: &Json) -> bool {
    canonical_json(&normalize_template(desired)) == canonical_json(&normalize_template(installed))
}

/// ID of the retention ISM policy of `prefix`.
pub fn ism_policy_id(prefix: &str) -> String {
    format!("{prefix}-retention")
}

/// The ISM policy: indices of `prefix` (metrics, runs) are deleted `days` after creation; the
/// `ism_template` attaches it to new indices of the pattern (ISM docs: "Policies" and
/// "ISM template"). Inventory and state hold the latest values only and are never deleted.
pub fn ism_policy(prefix: &str, days: u32) -> Json {
    json!({
        "policy": {
            "description": format!("LFM retention: delete {prefix}-metrics-* indices {days} days after creation (managed by terraform-provider-lfm)."),
            "default_state": "hot",
            "states": [
                { "name": "hot", "actions": [], "transitions": [{ "state_name": "delete", "conditions": { "min_index_age": format!("{days}d") } }] },
                { "name": "delete", "actions": [{ "delete": {} }], "transitions": [] }
            ],
            "ism_template": [{ "index_patterns": [lfm_schema::documents::metrics_index_pattern(prefix)], "priority": 100 }]
        }
    })
}

/// The desired `template_hashes`.
pub fn desired_template_hashes(prefix: &str) -> BTreeMap<String, String> {
    desired_templates(prefix)
        .iter()
        .map(|(name, body)| (name.clone(), template_hash(body)))
        .collect()
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// Fill the computed attributes of a plan from the configuration (and `prior` for what only
/// apply can find out: whether the ISM plugin exists).
pub fn plan(mut planned: Value, prior: Option<&Value>) -> Value {
    let prior_attr = |name: &str| prior.map(|p| p.get(name).clone()).unwrap_or(Value::Null);
    planned.set("bundle_version", Value::string(BUNDLE_VERSION));
    let (url, prefix) = (
        planned.get("opensearch_url").clone(),
        planned.get("index_prefix").clone(),
    );
    let Some(prefix) = prefix.as_str().map(str::to_owned) else {
        for a in [
            "id",
            "template_names",
            "template_hashes",
            "saved_object_ids",
            "saved_objects_hash",
            "saved_objects_fingerprint",
            "ism_policy_id",
        ] {
            planned.set(a, Value::Unknown);
        }
        return planned;
    };
    planned.set(
        "id",
        url.as_str()
            .map(|u| Value::string(resource_id(u, &prefix)))
            .unwrap_or(Value::Unknown),
    );
    let hashes = desired_template_hashes(&prefix);
    planned.set("template_names", Value::string_list(hashes.keys().cloned()));
    planned.set("template_hashes", string_map(&hashes));
    match planned.get("dashboards_url") {
        Value::Unknown => {
            planned.set("saved_object_ids", Value::Unknown);
            planned.set("saved_objects_hash", Value::Unknown);
            planned.set("saved_objects_fingerprint", Value::Unknown);
        }
        Value::Null => {
            planned.set("saved_object_ids", Value::List(Vec::new()));
            planned.set("saved_objects_hash", Value::Null);
            planned.set("saved_objects_fingerprint", Value::Null);
        }
        _ => {
            let b = bundle(&prefix);
            planned.set(
                "saved_object_ids",
                Value::string_list(b.objects.iter().map(|o| o.key())),
            );
            // The fingerprint stays only while the same objects stay where they are;
            // a re-import (new bundle, edited or missing objects, another Dashboards) reads
            // it afresh.
            let same = prior_attr("saved_objects_hash").as_str() == Some(b.content_hash.as_str())
                && prior_attr("dashboards_url") == *planned.get("dashboards_url")
                && prior_attr("index_prefix").as_str() == Some(prefix.as_str());
            let fingerprint = match prior_attr("saved_objects_fingerprint") {
                Value::String(f) if same => Value::String(f),
                _ => Value::Unknown,
            };
            planned.set("saved_objects_hash", Value::string(b.content_hash));
            planned.set("saved_objects_fingerprint", fingerprint);
        }
    }
    let mode = match (planned.get("retention_days"), planned.get("ism").as_str()) {
        (Value::Unknown, _) => Value::Unknown,
        (Value::Null, _) => Value::string(RETENTION_NONE),
        (_, Some("off")) => Value::string(RETENTION_COLLECTOR),
        (_, Some("on")) => Value::string(RETENTION_ISM),
        _ => match prior_attr("retention_mode").as_str() {
            // auto: whether the plugin exists is known after the first apply.
            Some(m) if m == RETENTION_ISM || m == RETENTION_COLLECTOR => Value::string(m),
            _ => Value::Unknown,
        },
    };
    let policy = match mode.as_str() {
        Some(RETENTION_ISM) => Value::string(ism_policy_id(&prefix)),
        Some(_) => Value::Null,
        None => Value::Unknown,
    };
    planned.set("retention_mode", mode);
    planned.set("ism_policy_id", policy);
    planned
}
