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
    for (id, time_field) in
        [("lfm-alert-state", None), ("lfm-alerts", Some("@timestamp")), ("lfm-deployments", Some("@timestamp")), ("lfm-alert-rules", None)]
    {
        let pattern = b.get("index-pattern", id).unwrap_or_else(|| panic!("index pattern {id} missing"));
        assert_eq!(pattern.title(), id);
        assert_eq!(pattern.attributes["timeFieldName"].as_str(), time_field, "{id}");
    }
    assert_eq!(b.objects.iter().filter(|o| o.object_type == "index-pattern").count(), spec::Source::ALL.len());
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
        let search = implied_search(&b, v).unwrap();
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
    let s = implied_search(&b, v).unwrap();
    assert_eq!(s.index_pattern_id, "lfm-metrics");
    let filters = s.body["query"]["bool"]["filter"].as_array().unwrap();
    assert_eq!(filters[0]["range"]["@timestamp"]["gte"], "now-24h");
    assert_eq!(filters[1]["range"]["errors"]["gt"], 0.0);
    let terms = &s.body["aggs"]["3"];
    assert_eq!(terms["terms"]["field"], "function_name");
    assert_eq!(terms["terms"]["order"]["1"], "desc");
    assert_eq!(terms["aggs"]["1"]["sum"]["field"], "errors");
    assert_eq!(terms["aggs"]["2"]["sum"]["field"], "invocations");
    assert!(s.fields.iter().any(|f| f.field == "errors" && f.need == FieldNeed::Numeric && f.used_by == "range filter"));

    let over_time = implied_search(&b, b.get("visualization", "lfm-vis-fleet-invocations-over-time").unwrap()).unwrap();
    assert_eq!(over_time.body["aggs"]["2"]["date_histogram"]["field"], "@timestamp");
    assert_eq!(over_time.body["aggs"]["2"]["aggs"]["3"]["terms"]["field"], "account_id");
    assert_eq!(over_time.body["aggs"]["2"]["aggs"]["3"]["aggs"]["1"]["sum"]["field"], "invocations");
}

#[test]
fn a_wrong_field_type_or_unknown_aggregation_is_caught() {
    assert!(!FieldNeed::Keyword.accepts("text"));
    assert!(!FieldNeed::Numeric.accepts("keyword"));
    assert!(FieldNeed::Numeric.accepts("integer") && FieldNeed::Date.accepts("date"));
    assert!(FieldNeed::NumericOrDate.accepts("date") && FieldNeed::NumericOrDate.accepts("double") && !FieldNeed::NumericOrDate.accepts("keyword"));
    assert!(FieldNeed::Mapped.accepts("text") && FieldNeed::Mapped.accepts("boolean") && !FieldNeed::Mapped.accepts(""));
    assert!(FieldNeed::Sortable.accepts("keyword") && !FieldNeed::Sortable.accepts("text"));
    let b = bundle("lfm");
    let mut v = b.get("visualization", "lfm-vis-runtime-distribution").unwrap().clone();
    let broken = v.attributes["visState"].as_str().unwrap().replace("\"terms\"", "\"significant_terms\"");
    v.attributes["visState"] = Value::String(broken);
    assert!(implied_search(&b, &v).unwrap_err().contains("significant_terms"));
    let mut v = b.get("visualization", "lfm-vis-error-rate-over-time").unwrap().clone();
    let broken = v.attributes["visState"].as_str().unwrap().replace("bucket_script", "bucket_magic");
    v.attributes["visState"] = Value::String(broken);
    assert!(implied_search(&b, &v).unwrap_err().contains("bucket_magic"));
}

#[test]
fn results_need_documents_and_values_on_some_path() {
    let body = serde_json::json!({ "aggs": { "2": { "terms": {}, "aggs": { "1": { "sum": {} } } } } });
    let body = implied::ImpliedSearch { index_pattern_id: "lfm-metrics".into(), fields: Vec::new(), body, drawn: None };
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
        (
            "lfm-dashboard-alerts",
            &[
                "status", "since", "value", "rule", "severity", "function_name", "transition", "reason", "notification_status",
                "changed_fields", "verdict", "summary", "name", "metric", "comparison", "threshold", "datapoints_to_alarm",
                "evaluation_periods", "enabled",
            ],
        ),
    ];
    for (id, fields) in wanted {
        let dashboard = dashboards.get(id).unwrap_or_else(|| panic!("dashboard {id} missing"));
        let used: BTreeSet<String> = dashboard
            .references
            .iter()
            .flat_map(|r| implied_search(&b, b.get(&r.object_type, &r.id).unwrap()).unwrap().fields)
            .map(|f| f.field)
            .collect();
        for field in *fields {
            assert!(used.contains(*field), "{id} shows no panel using {field}: {used:?}");
        }
    }
}

/// `field` paths (dotted through objects) of a template mapping.
fn mapped_paths(properties: &Value, prefix: &str, out: &mut Vec<String>) {
    for (name, mapping) in properties.as_object().into_iter().flatten() {
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        match mapping.get("properties") {
            Some(inner) => mapped_paths(inner, &path, out),
            None => out.push(path),
        }
    }
}

#[test]
fn every_cost_field_has_a_currency_format_that_shows_one_request() {
    let b = bundle("lfm");
    for (source, id) in [(spec::Source::Metrics, "lfm-metrics"), (spec::Source::Inventory, "lfm-inventory")] {
        let pattern = b.get("index-pattern", id).unwrap();
        let formats: Value = serde_json::from_str(pattern.attributes["fieldFormatMap"].as_str().expect("fieldFormatMap is a JSON string")).unwrap();
        let (_, template) = index_templates("lfm").into_iter().find(|(name, _)| name == id).unwrap();
        let mut paths = Vec::new();
        mapped_paths(&template["template"]["mappings"]["properties"], "", &mut paths);
        let costs: Vec<&String> = paths.iter().filter(|p| p.ends_with("_usd")).collect();
        assert!(!costs.is_empty(), "{id} maps no cost field");
        assert_eq!(costs.len(), encode::cost_fields(source).len(), "{id}: cost fields {costs:?}");
        for field in costs {
            assert_eq!(formats[field.as_str()]["id"], "number", "{id}: {field} has no number format: {formats}");
            assert_eq!(formats[field.as_str()]["params"]["pattern"], encode::COST_FORMAT, "{id}: {field}");
        }
    }
    // Numeral.js: `$` prefix, optional decimals in brackets; one request at list price is
    // $0.0000002 (7 decimals), which the default `0,0.[000]` shows as 0.
    let decimals = encode::COST_FORMAT.split_once('.').unwrap().1.trim_matches(|c| c == '[' || c == ']');
    assert!(encode::COST_FORMAT.starts_with('$') && decimals.len() >= 7 && decimals.chars().all(|c| c == '0'), "{}", encode::COST_FORMAT);
}

#[test]
fn inventory_panels_show_the_latest_snapshot_whatever_the_time_range() {
    let b = bundle("lfm");
    let snapshots = ["lfm-inventory", "lfm-alert-state", "lfm-alert-rules"];
    for id in snapshots {
        let pattern = b.get("index-pattern", id).unwrap();
        assert!(pattern.attributes.get("timeFieldName").is_none(), "{id}: {}", pattern.attributes);
    }
    assert_eq!(b.get("index-pattern", "lfm-metrics").unwrap().attributes["timeFieldName"], "@timestamp");
    let mut inventory_panels = 0;
    for v in b.visualizations() {
        let s = implied_search(&b, v).unwrap();
        let filters = s.body["query"]["bool"]["filter"].as_array().cloned().unwrap_or_default();
        let time_filtered = filters.iter().any(|f| f["range"].get("@timestamp").is_some())
            || s.body["query"]["bool"]["must"].as_array().into_iter().flatten().any(|f| f["range"].get("@timestamp").is_some());
        if snapshots.contains(&s.index_pattern_id.as_str()) {
            inventory_panels += usize::from(s.index_pattern_id == "lfm-inventory");
            assert!(!time_filtered, "{}: {}", v.id, s.body);
        } else {
            assert!(time_filtered, "{}: {}", v.id, s.body);
        }
    }
    assert!(inventory_panels >= 10, "{inventory_panels}");
}

fn vega_spec(b: &Bundle, slug: &str) -> Value {
    let v = b.get("visualization", &format!("lfm-vis-{slug}")).unwrap();
    let state: Value = serde_json::from_str(v.attributes["visState"].as_str().unwrap()).unwrap();
    assert_eq!(state["type"], "vega", "{slug}");
    assert!(v.references.is_empty(), "{slug}: a Vega vis names its index in the spec");
    serde_json::from_str(state["params"]["spec"].as_str().unwrap()).unwrap()
}

#[test]
fn error_rate_over_time_is_the_fleet_rate_per_region() {
    let b = bundle("lfm");
    let spec = vega_spec(&b, "error-rate-over-time");
    assert_eq!(spec["$schema"], vega::VEGA_LITE_SCHEMA);
    let url = &spec["data"]["url"];
    assert_eq!((url["index"].as_str(), url["%context%"].as_bool(), url["%timefield%"].as_str()), (Some("lfm-metrics-*"), Some(true), Some("@timestamp")));
    let split = &url["body"]["aggs"]["split"];
    assert_eq!(split["terms"]["field"], "region");
    let time = &split["aggs"]["time"];
    assert_eq!(time["date_histogram"]["interval"]["%autointerval%"], true);
    assert_eq!(time["aggs"]["numerator"]["sum"]["field"], "errors");
    assert_eq!(time["aggs"]["denominator"]["sum"]["field"], "invocations");
    assert_eq!(time["aggs"]["rate"]["bucket_script"]["script"], "params.n / params.d");
    assert_eq!(spec["encoding"]["y"]["field"], "t.rate.value");
    let title = b.get("visualization", "lfm-vis-error-rate-over-time").unwrap().title().to_owned();
    assert!(!title.contains("worst"), "{title}");
}

#[test]
fn rankings_leave_out_functions_below_the_minimum_invocations_stated_in_the_title() {
    let b = bundle("lfm");
    for (slug, rank) in [("error-rate-top-functions", "bucket_script"), ("timeout-proximity-top-functions", "max")] {
        let spec = vega_spec(&b, slug);
        let terms = &spec["data"]["url"]["body"]["aggs"]["functions"];
        assert_eq!(terms["terms"]["field"], "function_name");
        let aggs = &terms["aggs"];
        assert_eq!(aggs["invocations"]["sum"]["field"], "invocations");
        let selector = aggs["enough_invocations"]["bucket_selector"]["script"].as_str().unwrap();
        assert!(selector.starts_with(&format!("params.i >= {} ", spec::MIN_INVOCATIONS)), "{slug}: {selector}");
        assert!(aggs["rank"].get(rank).is_some(), "{slug}: {}", aggs["rank"]);
        assert_eq!(aggs["top"]["bucket_sort"]["sort"][0]["rank"]["order"], "desc");
        let title = b.get("visualization", &format!("lfm-vis-{slug}")).unwrap().title().to_owned();
        assert!(title.contains(&format!("at least {} invocations", spec::MIN_INVOCATIONS)), "{title}");
    }
    // No panel shows the maximum of a per-period error rate any more (1.0 from one failed call).
    for v in b.visualizations() {
        let s = implied_search(&b, v).unwrap();
        assert!(!s.fields.iter().any(|f| f.field == "error_rate" || f.field == "timeout_proximity_max" && f.used_by == "max" ), "{}", v.id);
    }
}

#[test]
fn memory_utilisation_lists_the_lowest_first() {
    let b = bundle("lfm");
    let s = implied_search(&b, b.get("visualization", "lfm-vis-memory-utilization-by-function").unwrap()).unwrap();
    let terms = &s.body["aggs"]["3"];
    assert_eq!(terms["terms"]["field"], "function_name");
    assert_eq!(terms["terms"]["order"]["1"], "asc");
    assert_eq!(terms["aggs"]["1"]["max"]["field"], "memory_utilization");
    // Periods without a utilisation would have no maximum and sort first.
    assert_eq!(s.body["query"]["bool"]["filter"][1]["range"]["memory_utilization"]["gt"], 0.0);
}

#[test]
fn vega_index_names_resolve_to_the_bundles_index_patterns() {
    let b = bundle("acme");
    for &source in spec::Source::ALL {
        let pattern = b.get("index-pattern", &encode::index_pattern_id("acme", source)).unwrap();
        assert_eq!(vega::index_pattern_id_of(pattern.title()), pattern.id);
    }
}

#[test]
fn date_histograms_never_go_below_one_collection_period() {
    assert_eq!(encode::min_interval(), "5m");
    assert_eq!(implied::interval_seconds("5m"), Some(spec::MIN_INTERVAL_SECONDS.into()));
    assert_eq!((implied::interval_seconds("300s"), implied::interval_seconds("2h")), (Some(300), Some(7200)));
    assert_eq!((implied::interval_seconds("auto"), implied::interval_seconds("0m"), implied::interval_seconds("5w")), (None, None, None));
    let b = bundle("lfm");
    let mut histograms = 0;
    for v in b.visualizations() {
        let state: Value = serde_json::from_str(v.attributes["visState"].as_str().unwrap()).unwrap();
        for agg in state["aggs"].as_array().into_iter().flatten().filter(|a| a["type"] == "date_histogram") {
            histograms += 1;
            assert_eq!(agg["params"]["interval"], "5m", "{}: {agg}", v.id);
        }
    }
    assert!(histograms >= 10, "{histograms}");
    // On the dashboards' 24 hours the minimum is below Dashboards' own choice (emulated as 1h).
    let s = implied_search(&b, b.get("visualization", "lfm-vis-alerts-transitions-over-time").unwrap()).unwrap();
    assert_eq!(s.body["aggs"]["2"]["date_histogram"]["fixed_interval"], "1h");
}

#[test]
fn alerts_dashboard_filters_orders_and_shows_text_through_top_hits() {
    let b = bundle("lfm");
    let firing = implied_search(&b, b.get("visualization", "lfm-vis-alerts-firing-now").unwrap()).unwrap();
    assert_eq!(firing.index_pattern_id, "lfm-alert-state");
    let filters = firing.body["query"]["bool"]["filter"].as_array().unwrap();
    assert_eq!(filters.len(), 1, "no time filter on a snapshot: {filters:?}");
    assert_eq!(filters[0]["match_phrase"]["status"], "firing");
    assert!(firing.fields.iter().any(|f| f.field == "since" && f.need == FieldNeed::NumericOrDate));

    let transitions = implied_search(&b, b.get("visualization", "lfm-vis-alerts-transitions").unwrap()).unwrap();
    let rule = &transitions.body["aggs"]["4"];
    assert_eq!(rule["terms"]["field"], "rule");
    assert_eq!(rule["terms"]["order"]["1"], "desc", "newest first: {rule}");
    assert_eq!(rule["aggs"]["3"]["top_hits"]["_source"], "reason");
    assert_eq!(rule["aggs"]["3"]["top_hits"]["sort"][0]["@timestamp"]["order"], "desc");

    let rules = implied_search(&b, b.get("visualization", "lfm-vis-alert-rules").unwrap()).unwrap();
    let names = rules.body["aggs"].as_object().unwrap().values().find(|a| a.get("terms").is_some()).unwrap();
    assert_eq!(names["terms"]["field"], "name");
    assert_eq!(names["terms"]["order"]["_key"], "asc");
    assert!(rules.body["query"]["bool"]["filter"].as_array().unwrap().is_empty());

    // Every labelled column keeps its label; no terms bucket is ordered by a top hit.
    let v = b.get("visualization", "lfm-vis-deployments").unwrap();
    let state: Value = serde_json::from_str(v.attributes["visState"].as_str().unwrap()).unwrap();
    let labels: Vec<&str> = state["aggs"].as_array().unwrap().iter().filter_map(|a| a["params"]["customLabel"].as_str()).collect();
    assert_eq!(labels, ["Changed at", "Changes", "Changed fields", "Before -> after"]);
    let mut broken = v.clone();
    broken.attributes["visState"] = Value::String(v.attributes["visState"].as_str().unwrap().replace("\"orderBy\":\"1\"", "\"orderBy\":\"3\""));
    assert!(implied_search(&b, &broken).unwrap_err().contains("cannot order"), "{:?}", implied_search(&b, &broken));
}
