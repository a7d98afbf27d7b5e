//! What a visualisation saved object asks of OpenSearch, read back from the saved object itself
//! (its `visState` and `searchSourceJSON` strings), not from the spec that produced it: the
//! fields it uses with the mapping type each needs, and the search Dashboards would run.
//!
//! No Dashboards server runs in the test bed, so this is how a bundle is proved: the fields
//! are checked against the real index mapping and the search runs on real OpenSearch.

use serde_json::{json, Map, Value};

use super::encode::{INDEX_REF_NAME, TIME_FROM};
use super::SavedObject;
use crate::documents::fields;

/// The mapping type family an aggregation or filter needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldNeed {
    /// `terms` buckets: `keyword`.
    Keyword,
    /// `sum`/`avg`/`max`/`min`/`percentiles`/`histogram`/`range`: a numeric type.
    Numeric,
    /// `date_histogram` and the time filter: `date`.
    Date,
}

impl FieldNeed {
    /// Whether an OpenSearch mapping type satisfies the need.
    pub fn accepts(self, mapping_type: &str) -> bool {
        match self {
            FieldNeed::Keyword => mapping_type == "keyword",
            FieldNeed::Numeric => matches!(
                mapping_type,
                "long" | "integer" | "short" | "byte" | "double" | "float" | "half_float" | "scaled_float" | "unsigned_long"
            ),
            FieldNeed::Date => matches!(mapping_type, "date" | "date_nanos"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldUse {
    pub field: String,
    pub need: FieldNeed,
    /// The aggregation or filter that uses it (`terms`, `sum`, `range filter`, ...).
    pub used_by: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ImpliedSearch {
    /// ID of the index pattern saved object the visualisation reads.
    pub index_pattern_id: String,
    pub fields: Vec<FieldUse>,
    /// A `_search` body: `size: 0`, the time filter and stored filters, nested aggregations
    /// named by agg ID (buckets outermost first, metrics innermost).
    pub body: Value,
}

fn parse_json_string(attributes: &Value, path: &[&str], id: &str) -> Result<Value, String> {
    let mut v = attributes;
    for key in path {
        v = &v[key];
    }
    let text = v.as_str().ok_or_else(|| format!("{id}: attribute {} is not a string", path.join(".")))?;
    serde_json::from_str(text).map_err(|e| format!("{id}: attribute {} is not JSON: {e}", path.join(".")))
}

fn field_of(agg: &Value, id: &str) -> Result<String, String> {
    agg["params"]["field"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{id}: aggregation {} ({}) names no field", agg["id"], agg["type"]))
}

/// Reads the visualisation's aggregations and filters.
pub fn implied_search(object: &SavedObject) -> Result<ImpliedSearch, String> {
    let id = object.id.as_str();
    if object.object_type != "visualization" {
        return Err(format!("{id}: a {}, not a visualization", object.object_type));
    }
    let index_pattern_id = object
        .references
        .iter()
        .find(|r| r.name == INDEX_REF_NAME && r.object_type == "index-pattern")
        .map(|r| r.id.clone())
        .ok_or_else(|| format!("{id}: no index-pattern reference named {INDEX_REF_NAME}"))?;
    let vis_state = parse_json_string(&object.attributes, &["visState"], id)?;
    let search_source = parse_json_string(&object.attributes, &["kibanaSavedObjectMeta", "searchSourceJSON"], id)?;

    let mut fields_used = vec![FieldUse { field: fields::TIMESTAMP.into(), need: FieldNeed::Date, used_by: "time filter".into() }];
    let mut metric_aggs = Map::new();
    let mut bucket_aggs: Vec<(String, Value)> = Vec::new();
    let aggs = vis_state["aggs"].as_array().ok_or_else(|| format!("{id}: visState has no aggs"))?;
    let first_metric = aggs.iter().find(|a| a["schema"] == "metric" && a["type"] != "count").map(|a| a["id"].as_str().unwrap_or("1"));
    for agg in aggs.iter().filter(|a| a["enabled"] != false) {
        let agg_id = agg["id"].as_str().ok_or_else(|| format!("{id}: aggregation without a string id"))?.to_owned();
        let kind = agg["type"].as_str().unwrap_or_default();
        let mut use_field = |need: FieldNeed| -> Result<String, String> {
            let field = field_of(agg, id)?;
            fields_used.push(FieldUse { field: field.clone(), need, used_by: kind.to_owned() });
            Ok(field)
        };
        match kind {
            "count" => {}
            "sum" | "avg" | "max" | "min" => {
                let field = use_field(FieldNeed::Numeric)?;
                metric_aggs.insert(agg_id, json!({ kind: { "field": field } }));
            }
            "percentiles" => {
                let field = use_field(FieldNeed::Numeric)?;
                metric_aggs.insert(agg_id, json!({ "percentiles": { "field": field, "percents": agg["params"]["percents"] } }));
            }
            "date_histogram" => {
                let field = use_field(FieldNeed::Date)?;
                // Dashboards picks the interval from the time range; an hour suits 24 hours.
                bucket_aggs.push((agg_id, json!({ "date_histogram": { "field": field, "fixed_interval": "1h", "min_doc_count": 1 } })));
            }
            "terms" => {
                let field = use_field(FieldNeed::Keyword)?;
                let size = agg["params"]["size"].as_u64().unwrap_or(10);
                let order = match (agg["params"]["orderBy"].as_str(), first_metric) {
                    (Some(by), Some(_)) if by != "_key" && aggs.iter().any(|a| a["id"] == by && a["type"] != "count") => json!({ by: "desc" }),
                    _ => json!({ "_count": "desc" }),
                };
                bucket_aggs.push((agg_id, json!({ "terms": { "field": field, "size": size, "order": order } })));
            }
            "histogram" => {
                let field = use_field(FieldNeed::Numeric)?;
                let interval = agg["params"]["interval"].as_f64().ok_or_else(|| format!("{id}: histogram without a numeric interval"))?;
                bucket_aggs.push((agg_id, json!({ "histogram": { "field": field, "interval": interval, "min_doc_count": 1 } })));
            }
            other => return Err(format!("{id}: aggregation type {other:?} is not understood by this check")),
        }
    }

    let mut filter = vec![json!({ "range": { fields::TIMESTAMP: { "gte": TIME_FROM } } })];
    for f in search_source["filter"].as_array().into_iter().flatten() {
        if f["meta"]["disabled"] == true {
            continue;
        }
        let range = f["range"].as_object().ok_or_else(|| format!("{id}: only range filters are understood by this check: {f}"))?;
        for field in range.keys() {
            fields_used.push(FieldUse { field: field.clone(), need: FieldNeed::Numeric, used_by: "range filter".into() });
        }
        filter.push(json!({ "range": range }));
    }

    // Metrics at every bucket level, as Dashboards does for terms ordered by a metric (the
    // order needs the metric as a direct sub-aggregation); each bucket level wraps the next.
    let mut inner = metric_aggs.clone();
    for (agg_id, mut bucket) in bucket_aggs.into_iter().rev() {
        if !inner.is_empty() {
            bucket["aggs"] = Value::Object(inner);
        }
        inner = metric_aggs.clone();
        inner.insert(agg_id, bucket);
    }
    let inner = Value::Object(inner);
    let body = json!({ "size": 0, "track_total_hits": true, "query": { "bool": { "filter": filter } }, "aggs": inner });
    Ok(ImpliedSearch { index_pattern_id, fields: fields_used, body })
}

/// True when a `_search` response to [`ImpliedSearch::body`] has something to draw: at least
/// one path through the bucket levels ends in documents and non-null metric values.
pub fn has_results(response: &Value, body: &Value) -> bool {
    let total = response["hits"]["total"]["value"].as_u64().unwrap_or(0);
    total > 0 && level_has_results(&response["aggregations"], &body["aggs"])
}

fn level_has_results(result: &Value, aggs: &Value) -> bool {
    let Some(aggs) = aggs.as_object() else { return true };
    if aggs.is_empty() {
        return true;
    }
    aggs.iter().all(|(name, definition)| {
        let r = &result[name];
        if let Some(buckets) = r["buckets"].as_array() {
            buckets.iter().any(|b| b["doc_count"].as_u64().unwrap_or(0) > 0 && level_has_results(b, &definition["aggs"]))
        } else if let Some(values) = r["values"].as_object() {
            !values.is_empty() && values.values().all(|v| v.is_number())
        } else {
            r["value"].is_number()
        }
    })
}
