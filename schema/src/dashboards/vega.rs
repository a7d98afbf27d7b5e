//! The charts Dashboards' standard visualisations cannot draw, as Vega-Lite visualisations
//! (OpenSearch Dashboards' `vega` vis type): a ratio of two sums per bucket (`bucket_script`)
//! and a ranking restricted to functions with enough invocations (`bucket_selector`,
//! `bucket_sort`). The OpenSearch query is part of the spec (`data.url.body`), so
//! [`super::implied`] reads it back and the live test runs it on the real node.
//!
//! Dashboards' Vega data URL keywords (`%context%`, `%timefield%`, `%autointerval%`) are
//! described in <https://opensearch.org/docs/latest/dashboards/visualize/vega/> and expanded by
//! `src/plugins/vis_type_vega/public/data_model/opensearch_query_parser.ts`: `%context%` adds the
//! dashboard's query and filters, `%timefield%` the time picker's range on that field, and
//! `"interval": {"%autointerval%": true}` becomes a legacy `date_histogram` interval such as
//! `1h` (hence `interval`, not `fixed_interval`).

use serde_json::{json, Map, Value};

use super::encode::visualization_object;
use super::spec::{Chart, Metric, Rank, Source, Visualization};
use super::SavedObject;
use crate::documents::fields;

pub const VEGA_LITE_SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";

/// Largest number of functions a ranking considers before it keeps those with enough
/// invocations (a terms aggregation has to stop somewhere; above this the ranking is of the
/// busiest 1000).
pub const RANKED_FUNCTIONS: u32 = 1000;

fn pattern_of(prefix: &str, source: Source) -> String {
    super::encode::index_pattern_title(prefix, source)
}

/// The index pattern ID a Vega spec's `data.url.index` belongs to: the pattern title without a
/// trailing `-*` (`lfm-metrics-*` -> `lfm-metrics`, `lfm-inventory` -> `lfm-inventory`), as
/// [`index_pattern_id`] names them; `dashboards::tests` checks the two agree.
pub fn index_pattern_id_of(index: &str) -> String {
    index.trim_end_matches("-*").to_owned()
}

fn metric_body(metric: &Metric) -> (String, Value) {
    match *metric {
        Metric::Sum(f) => (format!("sum of {f}"), json!({ "sum": { "field": f } })),
        Metric::Avg(f) => (format!("mean of {f}"), json!({ "avg": { "field": f } })),
        Metric::Max(f) => (format!("highest {f}"), json!({ "max": { "field": f } })),
        Metric::Min(f) => (format!("lowest {f}"), json!({ "min": { "field": f } })),
        Metric::Count | Metric::Percentiles(..) | Metric::TopHit { .. } => unreachable!("only single-value field metrics are Vega details"),
    }
}

fn data(prefix: &str, v: &Visualization, aggs: Value, property: &str) -> Value {
    json!({
        "url": {
            "index": pattern_of(prefix, v.source),
            "%context%": true,
            "%timefield%": fields::TIMESTAMP,
            "body": { "size": 0, "aggs": aggs },
        },
        "format": { "property": property },
    })
}

fn ratio_script() -> Value {
    // The selector before it keeps only buckets with a denominator above 0.
    json!({ "buckets_path": { "n": "numerator", "d": "denominator" }, "script": "params.n / params.d" })
}

/// The Vega-Lite spec of a [`Chart::RateLines`] or [`Chart::RankBars`] visualisation.
pub fn spec(prefix: &str, v: &Visualization) -> Value {
    match v.chart {
        Chart::RateLines { numerator, denominator, split } => {
            let aggs = json!({
                "split": {
                    "terms": { "field": split, "size": 10 },
                    "aggs": { "time": {
                        "date_histogram": { "field": fields::TIMESTAMP, "interval": { "%autointerval%": true }, "min_doc_count": 1 },
                        "aggs": {
                            "numerator": { "sum": { "field": numerator } },
                            "denominator": { "sum": { "field": denominator } },
                            "has_denominator": { "bucket_selector": { "buckets_path": { "d": "denominator" }, "script": "params.d > 0" } },
                            "rate": { "bucket_script": ratio_script() },
                        },
                    } },
                },
            });
            json!({
                "$schema": VEGA_LITE_SCHEMA,
                "data": data(prefix, v, aggs, "aggregations.split.buckets"),
                "transform": [{ "flatten": ["time.buckets"], "as": ["t"] }],
                "mark": { "type": "line", "point": true },
                "encoding": {
                    "x": { "field": "t.key", "type": "temporal", "title": null },
                    "y": { "field": "t.rate.value", "type": "quantitative", "title": format!("{numerator} / {denominator}"), "axis": { "format": ".1%" } },
                    "color": { "field": "key", "type": "nominal", "title": split },
                    "tooltip": [
                        { "field": "key", "type": "nominal", "title": split },
                        { "field": "t.key", "type": "temporal", "title": "interval start", "format": "%Y-%m-%d %H:%M" },
                        { "field": "t.rate.value", "type": "quantitative", "title": format!("{numerator} / {denominator}"), "format": ".2%" },
                        { "field": "t.numerator.value", "type": "quantitative", "title": numerator },
                        { "field": "t.denominator.value", "type": "quantitative", "title": denominator },
                    ],
                },
            })
        }
        Chart::RankBars { rank, min_invocations, size, details } => {
            let mut aggs = Map::new();
            aggs.insert("invocations".into(), json!({ "sum": { "field": fields::INVOCATIONS } }));
            let mut tooltip = vec![
                json!({ "field": "key", "type": "nominal", "title": "function" }),
                json!({ "field": "invocations.value", "type": "quantitative", "title": "invocations" }),
            ];
            let (rank_title, rank_format, selector) = match rank {
                Rank::Ratio { numerator, denominator } => {
                    aggs.insert("numerator".into(), json!({ "sum": { "field": numerator } }));
                    aggs.insert("denominator".into(), json!({ "sum": { "field": denominator } }));
                    tooltip.push(json!({ "field": "numerator.value", "type": "quantitative", "title": numerator }));
                    if denominator != fields::INVOCATIONS {
                        tooltip.push(json!({ "field": "denominator.value", "type": "quantitative", "title": denominator }));
                    }
                    (
                        format!("{numerator} / {denominator}"),
                        ".2%",
                        json!({ "buckets_path": { "i": "invocations", "d": "denominator" }, "script": format!("params.i >= {min_invocations} && params.d > 0") }),
                    )
                }
                Rank::Max(field) => (
                    format!("highest {field}"),
                    ".1%",
                    // A function without the field has no maximum (NaN): not ranked.
                    json!({ "buckets_path": { "i": "invocations", "r": "rank" }, "script": format!("params.i >= {min_invocations} && params.r >= 0") }),
                ),
            };
            for (i, detail) in details.iter().enumerate() {
                let (title, body) = metric_body(detail);
                aggs.insert(format!("detail_{i}"), body);
                tooltip.push(json!({ "field": format!("detail_{i}.value"), "type": "quantitative", "title": title }));
            }
            aggs.insert(
                "rank".into(),
                match rank {
                    Rank::Ratio { .. } => json!({ "bucket_script": ratio_script() }),
                    Rank::Max(field) => json!({ "max": { "field": field } }),
                },
            );
            aggs.insert("enough_invocations".into(), json!({ "bucket_selector": selector }));
            aggs.insert("top".into(), json!({ "bucket_sort": { "sort": [{ "rank": { "order": "desc" } }], "size": size } }));
            tooltip.insert(1, json!({ "field": "rank.value", "type": "quantitative", "title": rank_title.clone(), "format": rank_format }));
            let body = json!({
                "functions": {
                    "terms": { "field": fields::FUNCTION_NAME, "size": RANKED_FUNCTIONS },
                    "aggs": aggs,
                },
            });
            json!({
                "$schema": VEGA_LITE_SCHEMA,
                "data": data(prefix, v, body, "aggregations.functions.buckets"),
                "mark": { "type": "bar" },
                "encoding": {
                    "y": { "field": "key", "type": "nominal", "sort": "-x", "title": null },
                    "x": { "field": "rank.value", "type": "quantitative", "title": format!("{rank_title} (functions with at least {min_invocations} invocations)"), "axis": { "format": rank_format } },
                    "tooltip": tooltip,
                },
            })
        }
        _ => unreachable!("{} is not a Vega chart", v.slug),
    }
}

pub fn visualization(prefix: &str, v: &Visualization) -> SavedObject {
    // Pretty-printed: this is what a user sees (and may edit) in Dashboards' Vega editor.
    let spec = serde_json::to_string_pretty(&spec(prefix, v)).expect("specs serialize");
    let vis_state = json!({ "title": v.title, "type": "vega", "params": { "spec": spec }, "aggs": [] });
    // No index in the search source and no references: the spec names its index itself.
    let search_source = json!({ "query": { "query": "", "language": "kuery" }, "filter": [] });
    visualization_object(prefix, v, &vis_state, &search_source, Vec::new())
}
