//! From the [`spec`](super::spec) to OpenSearch Dashboards saved objects (the shape the
//! saved-objects API exports and imports): `visState` / `searchSourceJSON` / `panelsJSON` are
//! JSON *strings* inside the attributes, and the index pattern and panels are wired through
//! `references` (`indexRefName`, `panelRefName`) as Dashboards 1.x/2.x store them.

use serde_json::{json, Value};

use super::spec::{Bucket, Chart, Dashboard, Filter, Metric, Source, Visualization, MIN_INTERVAL_SECONDS};
use super::{SavedObject, SavedObjectReference};
use crate::alerts::{alert_rules_index, alert_state_index, alerts_index, deployments_index};
use crate::documents::{fields, inventory_index, metrics_index_pattern};

/// Time range a dashboard opens with.
pub const TIME_FROM: &str = "now-24h";

pub(super) const INDEX_REF_NAME: &str = "kibanaSavedObjectMeta.searchSourceJSON.index";

/// The index pattern's ID: its title without a trailing `-*` (`lfm-metrics`, `lfm-alerts`),
/// which is also the name of the index template its indices get.
pub fn index_pattern_id(prefix: &str, source: Source) -> String {
    index_pattern_title(prefix, source).trim_end_matches("-*").to_owned()
}

/// The indices an index pattern matches.
pub fn index_pattern_title(prefix: &str, source: Source) -> String {
    match source {
        Source::Metrics => metrics_index_pattern(prefix),
        Source::Inventory => inventory_index(prefix),
        Source::AlertState => alert_state_index(prefix),
        Source::Alerts => alerts_index(prefix),
        Source::Deployments => deployments_index(prefix),
        Source::AlertRules => alert_rules_index(prefix),
    }
}

/// The time field of an index pattern, `None` for a snapshot that the time picker must not
/// hide: the inventory (each function's latest configuration), the alert states (what is
/// firing now, however long ago it began) and the declared rules. Transitions and
/// deployments are events at their `@timestamp`.
pub fn time_field(source: Source) -> Option<&'static str> {
    match source {
        Source::Metrics | Source::Alerts | Source::Deployments => Some(fields::TIMESTAMP),
        Source::Inventory | Source::AlertState | Source::AlertRules => None,
    }
}

/// [`MIN_INTERVAL_SECONDS`] as a Dashboards interval (`5m`).
pub fn min_interval() -> String {
    if MIN_INTERVAL_SECONDS % 60 == 0 {
        format!("{}m", MIN_INTERVAL_SECONDS / 60)
    } else {
        format!("{MIN_INTERVAL_SECONDS}s")
    }
}

pub fn visualization_id(prefix: &str, slug: &str) -> String {
    format!("{prefix}-vis-{slug}")
}

pub fn dashboard_id(prefix: &str, slug: &str) -> String {
    format!("{prefix}-dashboard-{slug}")
}

/// Numeral.js pattern of every cost field: dollars with up to 8 decimals, so that a request
/// cost ($0.0000002 per request at list price) is not shown as 0 by Dashboards' default number
/// format (`0,0.[000]`).
pub const COST_FORMAT: &str = "$0,0.[00000000]";

/// Cost fields of each index pattern (given [`COST_FORMAT`] in the pattern's `fieldFormatMap`).
pub fn cost_fields(source: Source) -> &'static [&'static str] {
    match source {
        Source::Metrics => &[fields::COST_USD, fields::COMPUTE_COST_USD, fields::REQUEST_COST_USD],
        Source::Inventory => &["recommendations.evidence.compute_cost_usd"],
        Source::AlertState | Source::Alerts | Source::Deployments | Source::AlertRules => &[],
    }
}

/// The metrics pattern is time-based (`@timestamp` = period start). The inventory pattern has
/// no time field on purpose: the inventory index holds one document per function, replaced by
/// every run (its latest configuration), so the latest snapshot is the whole index; with a time
/// field the time picker would hide it for any range without a run ("No results"). The same
/// holds for alert states and rules ([`time_field`]).
pub fn index_pattern(prefix: &str, source: Source) -> SavedObject {
    let formats: serde_json::Map<String, Value> = cost_fields(source)
        .iter()
        .map(|f| ((*f).to_owned(), json!({ "id": "number", "params": { "pattern": COST_FORMAT } })))
        .collect();
    let mut attributes = json!({ "title": index_pattern_title(prefix, source) });
    if let Some(time_field) = time_field(source) {
        attributes["timeFieldName"] = json!(time_field);
    }
    // Dashboards stores the map as a JSON string, like visState.
    attributes["fieldFormatMap"] = Value::String(Value::Object(formats).to_string());
    SavedObject { object_type: "index-pattern".into(), id: index_pattern_id(prefix, source), attributes, references: Vec::new() }
}

fn metric_agg(id: usize, metric: &Metric, label: Option<&str>) -> Value {
    let (kind, mut params) = match *metric {
        Metric::Count => ("count", json!({})),
        Metric::Sum(f) => ("sum", json!({ "field": f })),
        Metric::Avg(f) => ("avg", json!({ "field": f })),
        Metric::Max(f) => ("max", json!({ "field": f })),
        Metric::Min(f) => ("min", json!({ "field": f })),
        Metric::Percentiles(f, percents) => ("percentiles", json!({ "field": f, "percents": percents })),
        // As Dashboards' "Top Hit" editor saves it; `concat` joins an array's values.
        Metric::TopHit { field, sort } => {
            ("top_hits", json!({ "field": field, "aggregate": "concat", "size": 1, "sortField": sort, "sortOrder": "desc" }))
        }
    };
    if let Some(label) = label {
        params["customLabel"] = json!(label);
    }
    json!({ "id": id.to_string(), "enabled": true, "type": kind, "schema": "metric", "params": params })
}

/// Dashboards' agg schema name for the n-th bucket aggregation of a chart.
fn bucket_schema(chart: Chart, position: usize) -> &'static str {
    match (chart, position) {
        (Chart::Line | Chart::Bars, 0) => "segment",
        (Chart::Line | Chart::Bars, _) => "group",
        (Chart::Pie, _) => "segment",
        (Chart::Table, _) => "bucket",
        (Chart::Numbers, _) => "group",
        (Chart::RateLines { .. } | Chart::RankBars { .. }, _) => unreachable!("Vega charts have no Dashboards aggregations"),
    }
}

/// `orderBy` of a terms bucket ordered by a metric: the first metric a bucket can be ordered
/// by (a count or a single-value metric; never a top hit), `_key` when there is none.
fn order_by(metrics: &[Metric]) -> String {
    match metrics.iter().position(|m| !matches!(m, Metric::TopHit { .. } | Metric::Percentiles(..))) {
        Some(i) => (i + 1).to_string(),
        None => "_key".into(),
    }
}

fn bucket_agg(id: usize, chart: Chart, position: usize, bucket: &Bucket, metrics: &[Metric]) -> Value {
    let (kind, params) = match *bucket {
        // A fixed interval is a minimum to Dashboards: it scales it up when the time range
        // would give more than `histogram:maxBars` buckets.
        Bucket::DateHistogram => (
            "date_histogram",
            json!({ "field": fields::TIMESTAMP, "interval": min_interval(), "min_doc_count": 1, "extended_bounds": {} }),
        ),
        Bucket::Terms { field, size } => (
            "terms",
            json!({ "field": field, "size": size, "order": "desc", "orderBy": order_by(metrics), "otherBucket": false, "missingBucket": false }),
        ),
        Bucket::LowestTerms { field, size } => (
            "terms",
            json!({ "field": field, "size": size, "order": "asc", "orderBy": order_by(metrics), "otherBucket": false, "missingBucket": false }),
        ),
        Bucket::AlphabeticalTerms { field, size } => (
            "terms",
            json!({ "field": field, "size": size, "order": "asc", "orderBy": "_key", "otherBucket": false, "missingBucket": false }),
        ),
        Bucket::Histogram { field, interval } => {
            ("histogram", json!({ "field": field, "interval": interval, "min_doc_count": false, "extended_bounds": {} }))
        }
    };
    json!({ "id": id.to_string(), "enabled": true, "type": kind, "schema": bucket_schema(chart, position), "params": params })
}

fn chart_params(chart: Chart, metric_ids: &[String]) -> (&'static str, Value) {
    match chart {
        Chart::Line | Chart::Bars => {
            let (vis_type, mode) = if chart == Chart::Line { ("line", "normal") } else { ("histogram", "normal") };
            let series: Vec<Value> = metric_ids
                .iter()
                .map(|id| {
                    json!({ "show": true, "type": vis_type, "mode": mode, "data": { "id": id, "label": "" },
                            "valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": true, "showCircles": true })
                })
                .collect();
            (
                vis_type,
                json!({
                    "type": vis_type, "addTooltip": true, "addLegend": true, "legendPosition": "right",
                    "times": [], "addTimeMarker": false,
                    "grid": { "categoryLines": false },
                    "categoryAxes": [{ "id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": true,
                                        "style": {}, "scale": { "type": "linear" }, "labels": { "show": true, "truncate": 100 }, "title": {} }],
                    "valueAxes": [{ "id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left", "show": true,
                                     "style": {}, "scale": { "type": "linear", "mode": "normal" },
                                     "labels": { "show": true, "rotate": 0, "filter": false, "truncate": 100 }, "title": { "text": "" } }],
                    "seriesParams": series,
                }),
            )
        }
        Chart::Pie => (
            "pie",
            json!({ "type": "pie", "addTooltip": true, "addLegend": true, "legendPosition": "right", "isDonut": true,
                    "labels": { "show": false, "values": true, "last_level": true, "truncate": 100 } }),
        ),
        Chart::Table => (
            "table",
            json!({ "perPage": 10, "showPartialRows": false, "showMetricsAtAllLevels": false,
                    "sort": { "columnIndex": null, "direction": null }, "showTotal": false, "totalFunc": "sum", "percentageCol": "" }),
        ),
        Chart::RateLines { .. } | Chart::RankBars { .. } => unreachable!("Vega charts are encoded by super::vega"),
        Chart::Numbers => (
            "metric",
            json!({ "addTooltip": true, "addLegend": false, "type": "metric",
                    "metric": { "percentageMode": false, "useRanges": false, "colorSchema": "Green to Red", "metricColorMode": "None",
                                "colorsRange": [{ "from": 0, "to": 10000 }], "labels": { "show": true }, "invertColors": false,
                                "style": { "bgFill": "#000", "bgColor": false, "labelColor": false, "subText": "", "fontSize": 40 } } }),
        ),
    }
}

fn filter_json(filter: &Filter) -> Value {
    match *filter {
        Filter::Equals(field, value) => json!({
            "meta": { "alias": null, "negate": false, "disabled": false, "type": "phrase", "key": field,
                      "params": { "query": value }, "indexRefName": INDEX_REF_NAME },
            "query": { "match_phrase": { field: value } },
            "$state": { "store": "appState" },
        }),
        Filter::GreaterThan(field, value) => json!({
            "meta": { "alias": null, "negate": false, "disabled": false, "type": "range", "key": field,
                      "params": { "gt": value }, "indexRefName": INDEX_REF_NAME },
            "range": { field: { "gt": value } },
            "$state": { "store": "appState" },
        }),
    }
}

pub fn visualization(prefix: &str, v: &Visualization) -> SavedObject {
    if matches!(v.chart, Chart::RateLines { .. } | Chart::RankBars { .. }) {
        return super::vega::visualization(prefix, v);
    }
    let mut aggs = Vec::new();
    let mut metric_ids = Vec::new();
    for (i, m) in v.metrics.iter().enumerate() {
        let id = aggs.len() + 1;
        metric_ids.push(id.to_string());
        aggs.push(metric_agg(id, m, v.labels.get(i).copied().flatten()));
    }
    for (position, b) in v.buckets.iter().enumerate() {
        aggs.push(bucket_agg(aggs.len() + 1, v.chart, position, b, &v.metrics));
    }
    let (vis_type, params) = chart_params(v.chart, &metric_ids);
    let vis_state = json!({ "title": v.title, "type": vis_type, "params": params, "aggs": aggs });
    let search_source = json!({
        "query": { "query": "", "language": "kuery" },
        "filter": v.filters.iter().map(filter_json).collect::<Vec<_>>(),
        "indexRefName": INDEX_REF_NAME,
    });
    let references = vec![SavedObjectReference {
        name: INDEX_REF_NAME.into(),
        object_type: "index-pattern".into(),
        id: index_pattern_id(prefix, v.source),
    }];
    visualization_object(prefix, v, &vis_state, &search_source, references)
}

/// The saved object of a visualization from its `visState` and search source (standard
/// aggregation-based visualizations and Vega ones alike).
pub(super) fn visualization_object(
    prefix: &str,
    v: &Visualization,
    vis_state: &Value,
    search_source: &Value,
    references: Vec<SavedObjectReference>,
) -> SavedObject {
    SavedObject {
        object_type: "visualization".into(),
        id: visualization_id(prefix, v.slug),
        attributes: json!({
            "title": v.title,
            "description": v.description,
            "visState": vis_state.to_string(),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": { "searchSourceJSON": search_source.to_string() },
        }),
        references,
    }
}

pub fn dashboard(prefix: &str, d: &Dashboard) -> SavedObject {
    const WIDTH: u32 = 24;
    const HEIGHT: u32 = 15;
    let mut panels = Vec::new();
    let mut references = Vec::new();
    for (i, slug) in d.panels.iter().enumerate() {
        let index = (i + 1).to_string();
        let column = (i % 2) as u32;
        let row = (i / 2) as u32;
        panels.push(json!({
            "version": "2.19.0",
            "gridData": { "x": column * WIDTH, "y": row * HEIGHT, "w": WIDTH, "h": HEIGHT, "i": index },
            "panelIndex": index,
            "embeddableConfig": {},
            "panelRefName": format!("panel_{i}"),
        }));
        references.push(SavedObjectReference {
            name: format!("panel_{i}"),
            object_type: "visualization".into(),
            id: visualization_id(prefix, slug),
        });
    }
    let search_source = json!({ "query": { "query": "", "language": "kuery" }, "filter": [] });
    SavedObject {
        object_type: "dashboard".into(),
        id: dashboard_id(prefix, d.slug),
        attributes: json!({
            "title": d.title,
            "description": d.description,
            "panelsJSON": Value::Array(panels).to_string(),
            "optionsJSON": json!({ "hidePanelTitles": false, "useMargins": true }).to_string(),
            "version": 1,
            "timeRestore": true,
            "timeFrom": TIME_FROM,
            "timeTo": "now",
            "refreshInterval": { "pause": true, "value": 0 },
            "kibanaSavedObjectMeta": { "searchSourceJSON": search_source.to_string() },
        }),
        references,
    }
}
