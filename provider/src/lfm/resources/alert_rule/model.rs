//! The pure part of `lfm_alert_rule`: the document built from a plan, its checks (every rule
//! check is `lfm_schema::alerts::validate_rule`, the one the collector applies; this file maps
//! its fields to attributes and adds what only the provider knows: destination IDs of the same
//! OpenSearch target), the plan's ID, and the state read back from a document. No I/O here;
//! all unit-tested in `tests.rs`.

use crate::framework::{AttrPath, Diagnostics, Value};
use crate::lfm::opensearch_target::{self, parse_document_id, url_trimmed, Target};
use lfm_schema::alerts::{kind, regression_metric, validate_rule, AlertRuleDocument, DEFAULT_MIN_INVOCATIONS, DEFAULT_RENOTIFY_MINUTES};
use lfm_schema::contract::DEFAULT_INDEX_PREFIX;
use serde_json::Value as Json;

pub const RESOURCE: &str = "lfm_alert_rule";

/// The rule's own attributes, each the document field of the same name (but
/// `destination_ids`, whose names are the document's `destinations`).
pub const RULE_ATTRIBUTES: &[&str] = &[
    "name",
    "kind",
    "enabled",
    "description",
    "metric",
    "comparison",
    "threshold",
    "datapoints_to_alarm",
    "evaluation_periods",
    "min_invocations",
    "account_ids",
    "regions",
    "function_name_pattern",
    "runtimes",
    "severity",
    "destination_ids",
    "renotify_minutes",
    "regression_metrics",
];

/// Every attribute of the resource, in schema order (state objects carry all of them).
pub fn attributes() -> Vec<&'static str> {
    let mut all = vec!["id"];
    all.extend(RULE_ATTRIBUTES);
    all.extend(opensearch_target::ATTRIBUTES);
    all
}

pub const DEFAULT_KIND: &str = kind::THRESHOLD;
pub const DEFAULT_SEVERITY: &str = lfm_schema::alerts::severity::WARNING;

/// The index of rule documents.
pub fn index(prefix: &str) -> String {
    lfm_schema::alerts::alert_rules_index(prefix)
}

/// The attribute a document field is set by (`destinations` -> `destination_ids`), keeping an
/// index suffix: `destinations[1]` -> `destination_ids[1]`.
pub fn attribute_path(field: &str) -> AttrPath {
    let (base, index) = match field.split_once('[') {
        Some((base, rest)) => (base, rest.trim_end_matches(']').parse::<i64>().ok()),
        None => (field, None),
    };
    let attribute = if base == "destinations" { "destination_ids" } else { base };
    let path = AttrPath::attr(attribute);
    match index {
        Some(i) => path.then_index(i),
        None => path,
    }
}

/// Strings of a list attribute; `None` while unknown.
fn strings(v: &Value) -> Vec<String> {
    v.strings()
}

/// Destination names of `destination_ids`, each checked to be an ID of the rule's target.
/// Unknown IDs (destinations not created yet) are skipped; `None` in their place.
pub fn destination_names(v: &Value) -> (Vec<Option<String>>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let url = v.get("opensearch_url").as_str().map(url_trimmed);
    let prefix = match v.get("index_prefix") {
        Value::Null => Some(DEFAULT_INDEX_PREFIX.to_owned()),
        other => other.as_str().map(str::to_owned),
    };
    let mut names = Vec::new();
    for (i, id) in v.get("destination_ids").elements().iter().enumerate() {
        let Some(id) = id.as_str() else {
            names.push(None);
            continue;
        };
        let path = AttrPath::attr("destination_ids").then_index(i as i64);
        match parse_document_id(id) {
            Err(why) => {
                diags.extend(Diagnostics::attribute_error(
                    path,
                    format!("destination_ids[{i}] is not an lfm_alert_destination ID"),
                    format!("\"{id}\" {why}. Use the destination's id, e.g. lfm_alert_destination.oncall.id."),
                ));
                names.push(None);
            }
            Ok(parsed) => {
                let other_url = url.as_deref().is_some_and(|u| u != parsed.opensearch_url);
                let other_prefix = prefix.as_deref().is_some_and(|p| p != parsed.index_prefix);
                if other_url || other_prefix {
                    diags.extend(Diagnostics::attribute_error(
                        path,
                        format!("destination_ids[{i}] belongs to another OpenSearch target"),
                        format!(
                            "Destination \"{}\" is stored at {}|{}, this rule at {}|{}: the collector reading this rule would not find it. Use a destination with the rule's opensearch_url and index_prefix.",
                            parsed.name,
                            parsed.opensearch_url,
                            parsed.index_prefix,
                            url.as_deref().unwrap_or("?"),
                            prefix.as_deref().unwrap_or("?"),
                        ),
                    ));
                }
                names.push(Some(parsed.name));
            }
        }
    }
    (names, diags)
}

/// The document of a plan or state whose rule attributes are known (`None` otherwise).
/// Null attributes get the documented defaults.
pub fn document(v: &Value, updated_at: String) -> Option<AlertRuleDocument> {
    if RULE_ATTRIBUTES.iter().any(|a| v.get(a).contains_unknown()) {
        return None;
    }
    let (names, _) = destination_names(v);
    let text = |a: &str| v.get(a).as_str().map(str::to_owned);
    let int = |a: &str| v.get(a).as_f64();
    Some(AlertRuleDocument {
        name: text("name").unwrap_or_default(),
        kind: text("kind").unwrap_or_else(|| DEFAULT_KIND.to_owned()),
        enabled: v.get("enabled").as_bool().unwrap_or(true),
        description: text("description"),
        metric: text("metric"),
        comparison: text("comparison"),
        threshold: v.get("threshold").as_f64(),
        datapoints_to_alarm: int("datapoints_to_alarm").map(|n| n as u32),
        evaluation_periods: int("evaluation_periods").map(|n| n as u32),
        min_invocations: int("min_invocations").map_or(DEFAULT_MIN_INVOCATIONS, |n| n as u64),
        account_ids: strings(v.get("account_ids")),
        regions: strings(v.get("regions")),
        function_name_pattern: text("function_name_pattern"),
        runtimes: strings(v.get("runtimes")),
        severity: text("severity").unwrap_or_else(|| DEFAULT_SEVERITY.to_owned()),
        destinations: names.into_iter().flatten().collect(),
        renotify_minutes: int("renotify_minutes").map_or(DEFAULT_RENOTIFY_MINUTES, |n| n as u64),
        // Unset on a deploy_regression rule: all four comparisons.
        regression_metrics: match (v.get("regression_metrics"), v.get("kind").as_str()) {
            (Value::Null, Some(kind::DEPLOY_REGRESSION)) => regression_metric::ALL.iter().map(|m| (*m).to_owned()).collect(),
            (list, _) => strings(list),
        },
        updated_at,
    })
}

/// Every plan-time check: the target's authentication, the destination IDs, then the rule
/// itself through `validate_rule` (the collector's own check, so the message is the one it
/// would give), each error naming the attribute. A rule with unknown attributes is checked
/// once they are known (in the plan, else at apply).
pub fn validate(v: &Value) -> Diagnostics {
    let mut diags = opensearch_target::validate_auth(v);
    let (_, destination_diags) = destination_names(v);
    diags.extend(destination_diags);
    if let Some(doc) = document(v, String::new()) {
        diags.extend(rule_errors(&doc));
    }
    diags
}

/// `validate_rule`'s findings as diagnostics naming the attribute.
pub fn rule_errors(doc: &AlertRuleDocument) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for lfm_schema::alerts::RuleProblem { field, message } in validate_rule(doc) {
        let path = attribute_path(field);
        let attribute = match field.strip_prefix("destinations") {
            Some(rest) => format!("destination_ids{rest}"),
            None => field.to_owned(),
        };
        diags.extend(Diagnostics::attribute_error(path, format!("Invalid alert rule: {attribute}"), message));
    }
    diags
}

/// The plan's computed `id`.
pub fn plan(mut planned: Value) -> Value {
    let id = match (planned.get("opensearch_url").as_str(), planned.get("index_prefix").as_str(), planned.get("name").as_str()) {
        (Some(u), Some(p), Some(n)) => Value::string(format!("{}|{p}|{n}", url_trimmed(u))),
        _ => Value::Unknown,
    };
    planned.set("id", id);
    planned
}

/// A JSON value of a document as a Terraform value (strings, numbers, bools, lists of them).
fn from_json(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or_default()),
        Json::String(s) => Value::string(s),
        Json::Array(items) => Value::List(items.iter().map(from_json).collect()),
        Json::Object(_) => Value::string(j.to_string()),
    }
}

/// `current` refreshed from the document found: an attribute keeps its value while the
/// document's field is what that value writes (so unset attributes stay unset), and takes the
/// document's value where it differs (changed outside Terraform: the plan shows it).
pub fn state_from_document(current: &Value, target: &Target, found: &Json) -> Value {
    let mut state = current.clone();
    for attr in attributes().iter().chain(opensearch_target::BLOCKS) {
        if state.get(attr).is_null() {
            state.set(attr, Value::Null);
        }
    }
    // The kind first: the other fields' defaults depend on it (regression_metrics).
    if let Some(found_kind) = found["kind"].as_str() {
        if state.get("kind").as_str().unwrap_or(DEFAULT_KIND) != found_kind {
            state.set("kind", Value::string(found_kind));
        }
    }
    let expected = document(&state, String::new()).and_then(|d| serde_json::to_value(d).ok()).unwrap_or(Json::Null);
    for attr in RULE_ATTRIBUTES {
        let field = if *attr == "destination_ids" { "destinations" } else { *attr };
        let (want, got) = (&expected[field], &found[field]);
        if want == got || (want.is_null() && got.as_array().is_some_and(Vec::is_empty)) || (got.is_null() && want.as_array().is_some_and(Vec::is_empty)) {
            continue;
        }
        let value = if *attr == "destination_ids" {
            Value::string_list(got.as_array().into_iter().flatten().filter_map(Json::as_str).map(|name| target.resource_id(name)))
        } else {
            from_json(got)
        };
        state.set(attr, value);
    }
    state.set("id", Value::string(target.resource_id(found["name"].as_str().unwrap_or_default())));
    state
}

/// Attributes with a default that an import fills in (the configuration plans them).
pub fn import_defaults(state: &mut Value) {
    state.set("kind", Value::string(DEFAULT_KIND));
    state.set("enabled", Value::Bool(true));
    state.set("min_invocations", Value::Number(DEFAULT_MIN_INVOCATIONS as f64));
    state.set("renotify_minutes", Value::Number(DEFAULT_RENOTIFY_MINUTES as f64));
    state.set("severity", Value::string(DEFAULT_SEVERITY));
}
