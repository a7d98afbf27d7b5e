//! What a visualisation saved object asks of OpenSearch, read back from the saved object itself
//! (its `visState` and `searchSourceJSON` strings), not from the spec that produced it: the
//! fields it uses with the mapping type each needs, and the search Dashboards would run.
//!
//! No Dashboards server runs in the test bed, so this is how a bundle is proved: the fields
//! are checked against the real index mapping and the search runs on real OpenSearch.

use serde_json::{json, Map, Value};

use super::encode::{INDEX_REF_NAME, TIME_FROM};
use super::{vega, Bundle, SavedObject};

/// The mapping type family an aggregation or filter needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldNeed {
    /// `terms` buckets: `keyword`.
    Keyword,
    /// `sum`/`avg`/`max`/`min`/`percentiles`/`histogram`/`range`: a numeric type.
    Numeric,
    /// `date_histogram` and the time filter: `date`.
    Date,
    /// `min`/`max`: a numeric type or a date (Dashboards shows the date).
    NumericOrDate,
    /// The sort of a `top_hits`: a type with doc values that sorts (keyword, numeric, date).
    Sortable,
    /// A `top_hits` field, read from `_source`: mapped, any type (text included).
    Mapped,
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
            FieldNeed::NumericOrDate => FieldNeed::Numeric.accepts(mapping_type) || FieldNeed::Date.accepts(mapping_type),
            FieldNeed::Sortable => FieldNeed::NumericOrDate.accepts(mapping_type) || mapping_type == "keyword",
            FieldNeed::Mapped => !mapping_type.is_empty() && mapping_type != "object",
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
    /// A `_search` body: `size: 0`, the time filter (when the index pattern has a time field)
    /// and stored filters, nested aggregations named by agg ID (buckets outermost first,
    /// metrics innermost); for a Vega chart, the spec's own body with the query Dashboards adds.
    pub body: Value,
    /// For a Vega chart: what it draws from the answer.
    pub drawn: Option<Drawn>,
}

/// What a Vega-Lite spec reads from the `_search` answer: the rows at `format.property`,
/// each flattened along `flatten` (`(array field, as)`), and the fields its encoding uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub rows_at: String,
    pub flatten: Vec<(String, String)>,
    pub encoded_fields: Vec<String>,
}

impl Drawn {
    /// The rows the chart draws, as Vega-Lite would see them after its transforms.
    pub fn rows(&self, response: &Value) -> Vec<Value> {
        let mut rows: Vec<Value> = path(response, &self.rows_at).as_array().cloned().unwrap_or_default();
        for (field, name) in &self.flatten {
            rows = rows
                .into_iter()
                .flat_map(|row| {
                    let items = path(&row, field).as_array().cloned().unwrap_or_default();
                    items.into_iter().map(move |item| {
                        let mut row = row.clone();
                        row[name.as_str()] = item;
                        row
                    })
                })
                .collect();
        }
        rows
    }
}

/// A dotted path (`aggregations.split.buckets`, `t.rate.value`) into a JSON value.
pub fn path<'a>(value: &'a Value, dotted: &str) -> &'a Value {
    dotted.split('.').fold(value, |v, key| &v[key])
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

/// Reads the visualisation's aggregations and filters; `bundle` gives its index pattern.
pub fn implied_search(bundle: &Bundle, object: &SavedObject) -> Result<ImpliedSearch, String> {
    let id = object.id.as_str();
    if object.object_type != "visualization" {
        return Err(format!("{id}: a {}, not a visualization", object.object_type));
    }
    let vis_state = parse_json_string(&object.attributes, &["visState"], id)?;
    if vis_state["type"] == "vega" {
        return implied_vega_search(bundle, id, &vis_state);
    }
    let index_pattern_id = object
        .references
        .iter()
        .find(|r| r.name == INDEX_REF_NAME && r.object_type == "index-pattern")
        .map(|r| r.id.clone())
        .ok_or_else(|| format!("{id}: no index-pattern reference named {INDEX_REF_NAME}"))?;
    let search_source = parse_json_string(&object.attributes, &["kibanaSavedObjectMeta", "searchSourceJSON"], id)?;

    let time_field = time_field_of(bundle, &index_pattern_id, id)?;
    let mut fields_used = Vec::new();
    let mut filter = Vec::new();
    if let Some(time_field) = &time_field {
        fields_used.push(FieldUse { field: time_field.clone(), need: FieldNeed::Date, used_by: "time filter".into() });
        filter.push(json!({ "range": { time_field.as_str(): { "gte": TIME_FROM } } }));
    }
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
            "sum" | "avg" => {
                let field = use_field(FieldNeed::Numeric)?;
                metric_aggs.insert(agg_id, json!({ kind: { "field": field } }));
            }
            "max" | "min" => {
                let field = use_field(FieldNeed::NumericOrDate)?;
                metric_aggs.insert(agg_id, json!({ kind: { "field": field } }));
            }
            "top_hits" => {
                let field = use_field(FieldNeed::Mapped)?;
                let sort = agg["params"]["sortField"].as_str().ok_or_else(|| format!("{id}: top_hits {agg_id} has no sortField"))?;
                fields_used.push(FieldUse { field: sort.to_owned(), need: FieldNeed::Sortable, used_by: "top_hits sort".into() });
                let order = if agg["params"]["sortOrder"] == "asc" { "asc" } else { "desc" };
                let size = agg["params"]["size"].as_u64().unwrap_or(1);
                // As Dashboards' top_hit agg writes it: the field from _source, newest first.
                metric_aggs.insert(agg_id, json!({ "top_hits": { "size": size, "_source": field, "sort": [{ sort: { "order": order } }] } }));
            }
            "percentiles" => {
                let field = use_field(FieldNeed::Numeric)?;
                metric_aggs.insert(agg_id, json!({ "percentiles": { "field": field, "percents": agg["params"]["percents"] } }));
            }
            "date_histogram" => {
                let field = use_field(FieldNeed::Date)?;
                let interval = date_histogram_interval(&agg["params"]["interval"], id)?;
                bucket_aggs.push((agg_id, json!({ "date_histogram": { "field": field, "fixed_interval": interval, "min_doc_count": 1 } })));
            }
            "terms" => {
                let field = use_field(FieldNeed::Keyword)?;
                let size = agg["params"]["size"].as_u64().unwrap_or(10);
                let direction = if agg["params"]["order"] == "asc" { "asc" } else { "desc" };
                let by = agg["params"]["orderBy"].as_str();
                if let Some(target) = aggs.iter().find(|a| by.is_some() && a["id"].as_str() == by) {
                    if matches!(target["type"].as_str(), Some("top_hits" | "percentiles")) {
                        return Err(format!("{id}: terms {agg_id} is ordered by {} {}, which OpenSearch cannot order buckets by", target["type"], target["id"]));
                    }
                }
                let order = match (by, first_metric) {
                    (Some("_key"), _) => json!({ "_key": direction }),
                    (Some(by), Some(_)) if aggs.iter().any(|a| a["id"] == by && a["type"] != "count") => json!({ by: direction }),
                    _ => json!({ "_count": direction }),
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

    for f in search_source["filter"].as_array().into_iter().flatten() {
        if f["meta"]["disabled"] == true {
            continue;
        }
        if let Some(phrase) = f["query"]["match_phrase"].as_object() {
            for field in phrase.keys() {
                fields_used.push(FieldUse { field: field.clone(), need: FieldNeed::Keyword, used_by: "phrase filter".into() });
            }
            filter.push(json!({ "match_phrase": phrase }));
            continue;
        }
        let range = f["range"].as_object().ok_or_else(|| format!("{id}: only range and phrase filters are understood by this check: {f}"))?;
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
    Ok(ImpliedSearch { index_pattern_id, fields: fields_used, body, drawn: None })
}

/// The interval Dashboards would use on [`TIME_FROM`] (24 hours): its automatic choice is
/// emulated as an hour, and a fixed interval is a minimum (Dashboards only scales it up, when
/// the range would give more than `histogram:maxBars` buckets), so the larger of the two.
fn date_histogram_interval(interval: &Value, id: &str) -> Result<String, String> {
    const AUTO_SECONDS: u64 = 3600;
    let text = interval.as_str().ok_or_else(|| format!("{id}: date_histogram without an interval"))?;
    if text == "auto" {
        return Ok("1h".into());
    }
    let seconds = interval_seconds(text).ok_or_else(|| format!("{id}: date_histogram interval {text:?} is not understood by this check"))?;
    Ok(if seconds > AUTO_SECONDS { format!("{seconds}s") } else { "1h".into() })
}

/// Seconds of a fixed Dashboards interval (`300s`, `5m`, `2h`, `1d`).
pub fn interval_seconds(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Some(n * unit)
}

/// The index pattern's `timeFieldName`, `None` for a pattern without one (the inventory, alert
/// states and rules).
fn time_field_of(bundle: &Bundle, index_pattern_id: &str, id: &str) -> Result<Option<String>, String> {
    let pattern = bundle
        .get("index-pattern", index_pattern_id)
        .ok_or_else(|| format!("{id}: index pattern {index_pattern_id} is not in the bundle"))?;
    Ok(pattern.attributes["timeFieldName"].as_str().map(str::to_owned))
}

/// Walks a Vega spec's aggregations: the fields each uses, and `%autointerval%` replaced by
/// the interval Dashboards would pick for [`TIME_FROM`] (24 hours / 50 buckets: `1h`).
fn walk_vega_aggs(aggs: &mut Value, fields_used: &mut Vec<FieldUse>, id: &str) -> Result<(), String> {
    let Some(aggs) = aggs.as_object_mut() else { return Err(format!("{id}: Vega aggs is not an object")) };
    for (name, agg) in aggs.iter_mut() {
        let Some(definition) = agg.as_object_mut() else { return Err(format!("{id}: Vega agg {name} is not an object")) };
        for (kind, params) in definition.iter_mut() {
            let need = match kind.as_str() {
                "aggs" => {
                    walk_vega_aggs(params, fields_used, id)?;
                    continue;
                }
                "terms" => FieldNeed::Keyword,
                "date_histogram" => FieldNeed::Date,
                "sum" | "avg" | "max" | "min" => FieldNeed::Numeric,
                "bucket_script" | "bucket_selector" | "bucket_sort" => continue,
                other => return Err(format!("{id}: Vega aggregation type {other:?} is not understood by this check")),
            };
            let field = params["field"].as_str().ok_or_else(|| format!("{id}: Vega agg {name} ({kind}) names no field"))?;
            fields_used.push(FieldUse { field: field.to_owned(), need, used_by: format!("vega {kind}") });
            if params.get("interval").is_some_and(|i| i.get("%autointerval%").is_some()) {
                params["interval"] = json!("1h");
            }
        }
    }
    Ok(())
}

fn implied_vega_search(bundle: &Bundle, id: &str, vis_state: &Value) -> Result<ImpliedSearch, String> {
    let text = vis_state["params"]["spec"].as_str().ok_or_else(|| format!("{id}: Vega visualization without a spec"))?;
    let spec: Value = serde_json::from_str(text).map_err(|e| format!("{id}: Vega spec is not JSON: {e}"))?;
    let url = &spec["data"]["url"];
    let index = url["index"].as_str().ok_or_else(|| format!("{id}: Vega data.url names no index"))?;
    let index_pattern_id = vega::index_pattern_id_of(index);
    let time_field = time_field_of(bundle, &index_pattern_id, id)?;
    if url["%context%"] != true {
        return Err(format!("{id}: Vega data.url does not use the dashboard context (%context%: true)"));
    }
    let mut body = url["body"].clone();
    if body.get("query").is_some() {
        return Err(format!("{id}: Vega data.url.body sets a query, which Dashboards refuses with %context%"));
    }
    let mut fields_used = Vec::new();
    let mut must = Vec::new();
    match (url["%timefield%"].as_str(), &time_field) {
        (Some(field), Some(pattern_field)) if field == pattern_field => {
            fields_used.push(FieldUse { field: field.to_owned(), need: FieldNeed::Date, used_by: "time filter".into() });
            // As opensearch_query_parser.ts builds it: the dashboard's bool with the range in `must`.
            must.push(json!({ "range": { field: { "gte": TIME_FROM, "lte": "now", "format": "strict_date_optional_time" } } }));
        }
        (None, None) => {}
        (spec_field, pattern_field) => {
            return Err(format!("{id}: Vega %timefield% {spec_field:?} differs from the index pattern's time field {pattern_field:?}"))
        }
    }
    walk_vega_aggs(&mut body["aggs"], &mut fields_used, id)?;
    body["query"] = json!({ "bool": { "must": must, "filter": [], "should": [], "must_not": [] } });
    body["track_total_hits"] = json!(true);

    let rows_at = spec["data"]["format"]["property"].as_str().ok_or_else(|| format!("{id}: Vega data.format.property missing"))?.to_owned();
    let mut flatten = Vec::new();
    for t in spec["transform"].as_array().into_iter().flatten() {
        let (Some(fields), Some(names)) = (t["flatten"].as_array(), t["as"].as_array()) else {
            return Err(format!("{id}: Vega transform {t} is not understood by this check"));
        };
        for (f, n) in fields.iter().zip(names) {
            flatten.push((f.as_str().unwrap_or_default().to_owned(), n.as_str().unwrap_or_default().to_owned()));
        }
    }
    let mut encoded_fields = Vec::new();
    for (_, channel) in spec["encoding"].as_object().into_iter().flatten() {
        let entries = channel.as_array().cloned().unwrap_or_else(|| vec![channel.clone()]);
        for e in entries {
            if let Some(field) = e["field"].as_str() {
                if !encoded_fields.iter().any(|f| f == field) {
                    encoded_fields.push(field.to_owned());
                }
            }
        }
    }
    Ok(ImpliedSearch { index_pattern_id, fields: fields_used, body, drawn: Some(Drawn { rows_at, flatten, encoded_fields }) })
}

/// True when a `_search` response to [`ImpliedSearch::body`] has something to draw: at least
/// one path through the bucket levels ends in documents and non-null metric values; for a
/// Vega chart, at least one row, and every row has every field the encoding uses.
pub fn has_results(response: &Value, search: &ImpliedSearch) -> bool {
    let total = response["hits"]["total"]["value"].as_u64().unwrap_or(0);
    if total == 0 {
        return false;
    }
    match &search.drawn {
        Some(drawn) => {
            let rows = drawn.rows(response);
            !rows.is_empty() && rows.iter().all(|row| drawn.encoded_fields.iter().all(|f| !path(row, f).is_null()))
        }
        None => level_has_results(&response["aggregations"], &search.body["aggs"]),
    }
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
        } else if let Some(hits) = r["hits"]["hits"].as_array() {
            !hits.is_empty()
        } else if let Some(values) = r["values"].as_object() {
            !values.is_empty() && values.values().all(|v| v.is_number())
        } else {
            r["value"].is_number()
        }
    })
}
