//! The history the alert stage evaluates (pure): per function, its periods in time order with
//! the invocations and only the metric values the enabled rules need (a [`MetricTable`]), read
//! from metric documents (`{p}-metrics-*` hits, or this run's documents). Part of [`crate::alert`].

use std::collections::HashMap;

use serde_json::Value;

/// The metrics the rules need, in a fixed order: a row's `values[i]` is `metrics[i]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricTable {
    pub metrics: Vec<String>,
}

impl MetricTable {
    /// Adds `metric` once; returns its index.
    pub fn add(&mut self, metric: &str) -> usize {
        match self.index(metric) {
            Some(i) => i,
            None => {
                self.metrics.push(metric.to_string());
                self.metrics.len() - 1
            }
        }
    }

    pub fn index(&self, metric: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == metric)
    }
}

/// One period of one function.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodRow {
    /// Period start, unix seconds.
    pub start: i64,
    pub period_seconds: u32,
    pub invocations: u64,
    /// By [`MetricTable`] index; `None` when the document has no value.
    pub values: Box<[Option<f64>]>,
}

impl PeriodRow {
    pub fn end(&self) -> i64 {
        self.start + i64::from(self.period_seconds)
    }
}

/// One function's identity and periods (ascending by start, one row per start).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionSeries {
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub rows: Vec<PeriodRow>,
}

/// Every candidate's series, by function ARN.
#[derive(Debug, Default)]
pub struct SeriesSet {
    pub functions: HashMap<String, FunctionSeries>,
}

/// The metric document's period start (unix seconds), from `@timestamp`.
pub fn period_start(doc: &Value) -> Option<i64> {
    let text = doc["@timestamp"].as_str()?;
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp())
}

/// The row `table` needs from a metric document (JSON as written), or `None` when it lacks
/// its identity, start or period.
pub fn row_of(doc: &Value, table: &MetricTable) -> Option<PeriodRow> {
    Some(PeriodRow {
        start: period_start(doc)?,
        period_seconds: u32::try_from(doc["period_seconds"].as_u64()?).ok()?,
        invocations: doc["invocations"].as_u64().unwrap_or(0),
        values: table.metrics.iter().map(|m| metric_value(doc, m)).collect(),
    })
}

/// A metric of a metric document as a number (the schema's definition of each rule metric).
pub fn metric_value(doc: &Value, metric: &str) -> Option<f64> {
    lfm_schema::alerts::metric_value(doc, metric)
}

impl SeriesSet {
    /// Adds one metric document (a hit's `_source`); a later copy of the same period replaces
    /// the earlier one. Documents without an ARN or start are ignored.
    pub fn add(&mut self, doc: &Value, table: &MetricTable) {
        let (Some(arn), Some(row)) = (doc["function_arn"].as_str(), row_of(doc, table)) else { return };
        let series = self.functions.entry(arn.to_string()).or_insert_with(|| FunctionSeries {
            account_id: doc["account_id"].as_str().unwrap_or_default().to_string(),
            region: doc["region"].as_str().unwrap_or_default().to_string(),
            function_name: doc["function_name"].as_str().unwrap_or_default().to_string(),
            rows: Vec::new(),
        });
        series.rows.push(row);
    }

    /// Sorts every series by start and keeps one row per (start, period) (the last added).
    pub fn finish(&mut self) {
        for series in self.functions.values_mut() {
            series.rows.sort_by_key(|r| (r.start, r.period_seconds));
            let rows = std::mem::take(&mut series.rows);
            let mut kept: Vec<PeriodRow> = Vec::with_capacity(rows.len());
            for row in rows {
                match kept.last_mut() {
                    Some(last) if last.start == row.start && last.period_seconds == row.period_seconds => *last = row,
                    _ => kept.push(row),
                }
            }
            series.rows = kept;
        }
    }
}
