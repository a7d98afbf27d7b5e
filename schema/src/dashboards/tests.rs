//! Offline checks of the bundle: IDs, references, ndjson, and every field against the index
//! templates as written. The same checks against a real OpenSearch node, plus the searches,
//! are in `schema/tests/dashboards_live.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::implied::{has_results, implied_search, FieldNeed};
use super::*;
use crate::documents::index_templates;

/// `field -> mapping type` of the template an index pattern's indices get.
fn template_mapping(prefix: &str, index_pattern_id: &str) -> BTreeMap<String, String> {
    let (_, body) = index_templates(prefix).into_iter().find(|(name, _)| name == index_pattern_id).expect("a template per index pattern");
    body["template"]["mappings"]["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(field, m)| (field.clone(), m["type"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

#[test]
fn ids_are_unique_and_every_reference_resolves() {
    let b = bundle("lfm");
    let keys: BTreeSet<String> = b.objects.iter().map(SavedObject::key).collect();
    assert_eq!(keys.len(), b.objects.len(), "duplicate IDs");
    for o in &b.objects {
        for r in &o.references {
            assert!(b.get(&r.object_type, &r.id).is_some(), "{}: reference {} -> {}/{} is not in the bundle", o.id, r.name, r.object_type, r.id);
        }
    }
}

#[test]
fn index_patterns_have_stable_ids_titles_and_time_field() {
    let b = bundle("lfm");
    let metrics = b.get("index-pattern", "lfm-metrics").unwrap();
    assert_eq!(metrics.title(), "lfm-metrics-*");
    assert_eq!(metrics.attributes["timeFieldName"], "@timestamp");
    assert_eq!(b.get("index-pattern", "lfm-inventory").unwrap().title(), "lfm-inventory");
    let acme = bundle("acme");
    assert_eq!(acme.get("index-pattern", "acme-metrics").unwrap().title(), "acme-metrics-*");
    assert!(acme.objects.iter().all(|o| o.id.starts_with("acme-")));
}

#[test]
fn every_visualization_is_on_a_dashboard_and_every_dashboard_has_panels() {
    let b = bundle("lfm");
    let on_dashboards: BTreeSet<&str> = b
        .objects
        .iter()
        .filter(|o| o.object_type == "dashboard")
        .flat_map(|d| d.references.iter().map(|r| r.id.as_str()))
        .collect();
    for v in b.visualizations() {
        assert!(on_dashboards.contains(v.id.as_str()), "{} is on no dashboard", v.id);
    }
    for d in b.objects.iter().filter(|o| o.object_type == "dashboard") {
        let panels: Vec<Value> = serde_json::from_str(d.attributes["panelsJSON"].as_str().unwrap()).unwrap();
        assert!(!panels.is_empty(), "{}", d.id);
        for p in &panels {
            let name = p["panelRefName"].as_str().unwrap();
            assert!(d.references.iter().any(|r| r.name == name), "{}: {name}", d.id);
        }
    }
}

#[test]
fn ndjson_is_one_saved_object_per_line() {
    let b = bundle("lfm");
    let text = b.to_ndjson();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), b.objects.len());
    for (line, object) in lines.iter().zip(&b.objects) {
        let parsed: SavedObject = serde_json::from_str(line).unwrap();
        assert_eq!(&parsed, object);
        let raw: Value = serde_json::from_str(line).unwrap();
        for key in ["type", "id", "attributes", "references"] {
            assert!(raw.get(key).is_some(), "{key} missing in {line}");
        }
    }
    // Index patterns before the visualisations that use them, those before the dashboards.
    let order: Vec<&str> = b.objects.iter().map(|o| o.object_type.as_str()).collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|t| ["index-pattern", "visualization", "dashboard"].iter().position(|x| x == t));
    assert_eq!(order, sorted);
}

#[test]
fn content_hash_follows_the_content() {
    assert_eq!(bundle("lfm").content_hash, bundle("lfm").content_hash);
    assert_ne!(bundle("lfm").content_hash, bundle("acme").content_hash);
    assert_eq!(bundle("lfm").content_hash, fnv1a_hex(&bundle("lfm").to_ndjson()));
    assert_eq!(fnv1a_hex(""), "cbf29ce484222325");
}

#[test]
fn every_field_a_visualization_uses_is_mapped_with_the_type_it_needs() {
    let b = bundle("lfm");
    for v in b.visualizations() {
        let search = implied_search(v).unwrap();
        let mapping = template_mapping("lfm", &search.index_pattern_id);
        for use_ in &search.fields {
            let ty = mapping.get(&use_.field).unwrap_or_else(|| panic!("{}: field {} is not in template {}", v.id, use_.field, search.index_pattern_id));
            assert!(use_.need.accepts(ty), "{}: {} needs {:?} for {}, template maps {ty}", v.id, use_.field, use_.need, use_.used_by);
        }
    }
}

#[test]
fn implied_search_nests_buckets_and_keeps_filters() {
    let b = bundle("lfm");
    let v = b.get("visualization", "lfm-vis-errors-top-functions").unwrap();
    let s = implied_search(v).unwrap();
    assert_eq!(s.index_pattern_id, "lfm-metrics");
    let filters = s.body["query"]["bool"]["filter"].as_array().unwrap();
    assert_eq!(filters[0]["range"]["@timestamp"]["gte"], "now-24h");
    assert_eq!(filters[1]["range"]["errors"]["gt"], 0.0);
    let terms = &s.body["aggs"]["4"];
    assert_eq!(terms["terms"]["field"], "function_name");
    assert_eq!(terms["terms"]["order"]["1"], "desc");
    assert_eq!(terms["aggs"]["1"]["sum"]["field"], "errors");
    assert_eq!(terms["aggs"]["2"]["max"]["field"], "error_rate");
    assert!(s.fields.iter().any(|f| f.field == "errors" && f.need == FieldNeed::Numeric && f.used_by == "range filter"));

    let over_time = implied_search(b.get("visualization", "lfm-vis-fleet-invocations-over-time").unwrap()).unwrap();
    assert_eq!(over_time.body["aggs"]["2"]["date_histogram"]["field"], "@timestamp");
    assert_eq!(over_time.body["aggs"]["2"]["aggs"]["3"]["terms"]["field"], "account_id");
    assert_eq!(over_time.body["aggs"]["2"]["aggs"]["3"]["aggs"]["1"]["sum"]["field"], "invocations");
}

#[test]
fn a_wrong_field_type_or_unknown_aggregation_is_caught() {
    assert!(!FieldNeed::Keyword.accepts("text"));
    assert!(!FieldNeed::Numeric.accepts("keyword"));
    assert!(FieldNeed::Numeric.accepts("integer") && FieldNeed::Date.accepts("date"));
    let mut v = bundle("lfm").get("visualization", "lfm-vis-runtime-distribution").unwrap().clone();
    let broken = v.attributes["visState"].as_str().unwrap().replace("\"terms\"", "\"significant_terms\"");
    v.attributes["visState"] = Value::String(broken);
    assert!(implied_search(&v).unwrap_err().contains("significant_terms"));
}

#[test]
fn results_need_documents_and_values_on_some_path() {
    let body = serde_json::json!({ "aggs": { "2": { "terms": {}, "aggs": { "1": { "sum": {} } } } } });
    let hit = |v: u64| serde_json::json!({ "value": v });
    let full = serde_json::json!({ "hits": { "total": hit(3) }, "aggregations": { "2": { "buckets": [{ "doc_count": 3, "1": { "value": 5.0 } }] } } });
    assert!(has_results(&full, &body));
    let empty = serde_json::json!({ "hits": { "total": hit(0) }, "aggregations": { "2": { "buckets": [] } } });
    assert!(!has_results(&empty, &body));
    let null_metric = serde_json::json!({ "hits": { "total": hit(3) }, "aggregations": { "2": { "buckets": [{ "doc_count": 3, "1": { "value": null } }] } } });
    assert!(!has_results(&null_metric, &body));
}

#[test]
fn every_dashboard_the_issue_asks_for_exists_and_shows_its_numbers() {
    let b = bundle("lfm");
    let dashboards: BTreeMap<&str, &SavedObject> = b.objects.iter().filter(|o| o.object_type == "dashboard").map(|o| (o.id.as_str(), o)).collect();
    let wanted: &[(&str, &[&str])] = &[
        ("lfm-dashboard-fleet-overview", &["invocations"]),
        ("lfm-dashboard-errors-and-throttles", &["errors", "throttles"]),
        ("lfm-dashboard-duration-and-timeouts", &["timeout_proximity_max", "timeouts", "duration_p99_ms"]),
        ("lfm-dashboard-cold-starts", &["cold_starts", "init_duration_max_ms"]),
        ("lfm-dashboard-memory", &["memory_utilization", "max_memory_used_mb", "recommendation_kinds"]),
        ("lfm-dashboard-cost", &["cost_usd", "account_id", "function_name"]),
        ("lfm-dashboard-runtimes", &["runtime", "runtime_status", "runtime_days_to_deprecation"]),
    ];
    for (id, fields) in wanted {
        let dashboard = dashboards.get(id).unwrap_or_else(|| panic!("dashboard {id} missing"));
        let used: BTreeSet<String> = dashboard
            .references
            .iter()
            .flat_map(|r| implied_search(b.get(&r.object_type, &r.id).unwrap()).unwrap().fields)
            .map(|f| f.field)
            .collect();
        for field in *fields {
            assert!(used.contains(*field), "{id} shows no panel using {field}: {used:?}");
        }
    }
}
