//! What the LFM dashboards show, as data: every panel names its fields through
//! [`crate::documents::fields`], so renaming a field breaks the build here, and dropping it from
//! a template fails `dashboards::tests` (mapping check) and the live test against OpenSearch.
//!
//! Dashboards: fleet overview, errors and throttles, duration and timeout proximity, cold starts,
//! memory right-sizing (with recommendations), cost by account and function, runtime
//! distribution and deprecation, alerts and regressions (from the [`crate::alerts`] documents,
//! whose fields are named in [`alert_fields`]). What is still not shown is listed in
//! [`NOT_YET_SHOWN`].

use crate::documents::fields::*;

/// Fields of the [`crate::alerts`] documents the alerts dashboard uses (the serde names of
/// `AlertStateDocument`, `AlertTransitionDocument`, `DeploymentDocument` and
/// `AlertRuleDocument`; `dashboards::tests` checks each against the struct and the template).
pub mod alert_fields {
    pub const RULE: &str = "rule";
    pub const SEVERITY: &str = "severity";
    pub const STATUS: &str = "status";
    pub const SINCE: &str = "since";
    pub const VALUE: &str = "value";
    pub const TRANSITION: &str = "transition";
    pub const REASON: &str = "reason";
    pub const NOTIFICATION_STATUS: &str = "notification_status";
    pub const CHANGED_FIELDS: &str = "changed_fields";
    pub const VERDICT: &str = "verdict";
    pub const SUMMARY: &str = "summary";
    pub const NAME: &str = "name";
    pub const KIND: &str = "kind";
    pub const ENABLED: &str = "enabled";
    pub const METRIC: &str = "metric";
    pub const COMPARISON: &str = "comparison";
    pub const THRESHOLD: &str = "threshold";
    pub const DATAPOINTS_TO_ALARM: &str = "datapoints_to_alarm";
    pub const EVALUATION_PERIODS: &str = "evaluation_periods";
    pub const UPDATED_AT: &str = "updated_at";
}

/// Which index pattern a visualisation reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `{prefix}-metrics-*`: one document per function per period.
    Metrics,
    /// `{prefix}-inventory`: one document per function.
    Inventory,
    /// `{prefix}-alert-state`: one document per open alert (its current status).
    AlertState,
    /// `{prefix}-alerts`: every alert transition.
    Alerts,
    /// `{prefix}-deployments`: every code or configuration change, with its verdict.
    Deployments,
    /// `{prefix}-alert-rules`: one document per declared rule.
    AlertRules,
}

impl Source {
    pub const ALL: &'static [Source] =
        &[Source::Metrics, Source::Inventory, Source::AlertState, Source::Alerts, Source::Deployments, Source::AlertRules];
}

/// A metric aggregation (OpenSearch Dashboards' "metric" schema).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    Count,
    Sum(&'static str),
    Avg(&'static str),
    Max(&'static str),
    Min(&'static str),
    Percentiles(&'static str, &'static [f64]),
    /// The value of `field` in the bucket's newest document by `sort` (Dashboards' "Top Hit",
    /// size 1): how a table shows a text field (`reason`, `summary`), which no bucket
    /// aggregation can split on, or a keyword/boolean of a one-document bucket. Never what a
    /// terms bucket is ordered by.
    TopHit { field: &'static str, sort: &'static str },
}

/// A bucket aggregation (x-axis, series split, table rows, pie slices).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bucket {
    /// On `@timestamp`, interval chosen by Dashboards from the time range but never below
    /// [`MIN_INTERVAL_SECONDS`] (one collection period: smaller buckets would alternate
    /// between a period's numbers and nothing).
    DateHistogram,
    /// Top `size` keyword values, ordered by the first metric (highest first).
    Terms { field: &'static str, size: u32 },
    /// Bottom `size` keyword values, ordered by the first metric (lowest first).
    LowestTerms { field: &'static str, size: u32 },
    /// `size` keyword values in alphabetical order (a table of names).
    AlphabeticalTerms { field: &'static str, size: u32 },
    /// Fixed-width numeric buckets.
    Histogram { field: &'static str, interval: u32 },
}

/// A filter stored with the visualisation (searchSourceJSON `filter`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Filter {
    /// `field > value` on a numeric field.
    GreaterThan(&'static str, f64),
    /// `field` is exactly `value` on a keyword field (a phrase filter).
    Equals(&'static str, &'static str),
}

/// What a [`Chart::RankBars`] ranks functions by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    /// `sum(numerator) / sum(denominator)` over the time range.
    Ratio { numerator: &'static str, denominator: &'static str },
    /// The highest value of a per-period field over the time range.
    Max(&'static str),
}

/// The chart types used; each maps to an OpenSearch Dashboards vis type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Chart {
    Line,
    /// Vertical bars (`histogram` in Dashboards).
    Bars,
    Pie,
    Table,
    /// Single numbers (Dashboards' `metric` vis).
    Numbers,
    /// Vega-Lite lines of `sum(numerator) / sum(denominator)` per interval, one line per
    /// `split` value: a fleet rate, not the maximum of per-function rates (which is 1.0 as
    /// soon as one rarely called function fails once). The ratio is an OpenSearch
    /// `bucket_script`, so the live test proves the number itself.
    RateLines { numerator: &'static str, denominator: &'static str, split: &'static str },
    /// Vega-Lite horizontal bars: the `size` functions ranked highest by `rank` among those
    /// with at least `min_invocations` invocations in the time range (`bucket_selector`), so a
    /// function called once cannot top the list; `details` are shown in the tooltip.
    RankBars { rank: Rank, min_invocations: u32, size: u32, details: &'static [Metric] },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Visualization {
    /// Appended to `{prefix}-vis-` to form the saved object ID.
    pub slug: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub chart: Chart,
    pub source: Source,
    pub metrics: Vec<Metric>,
    /// Column or series labels of `metrics` (same positions; `None`: Dashboards' default).
    pub labels: Vec<Option<&'static str>>,
    /// Outermost first.
    pub buckets: Vec<Bucket>,
    pub filters: Vec<Filter>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// Appended to `{prefix}-dashboard-` to form the saved object ID.
    pub slug: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Slugs of the visualisations, in reading order (two per row).
    pub panels: Vec<&'static str>,
}

/// Numbers the collector writes that no panel shows yet.
pub const NOT_YET_SHOWN: &[&str] = &[
    "concurrency, provisioned-concurrency utilisation and spillover, iterator age, async events and DLQ/destination failures",
    "SnapStart restores",
    "recommendation evidence (recommendations.evidence.*): the kinds and functions are shown",
    "alert destinations, and the run record's alert counters (notifications sent and failed, delivery time)",
    "deployments' per-metric comparisons (comparisons.*: p-values, samples): their summary and verdict are shown",
    "alert transitions' values, periods and notification errors: their reason and notification result are shown",
];

fn vis(slug: &'static str, title: &'static str, description: &'static str, chart: Chart, source: Source) -> Visualization {
    Visualization { slug, title, description, chart, source, metrics: Vec::new(), labels: Vec::new(), buckets: Vec::new(), filters: Vec::new() }
}

impl Visualization {
    fn metric(mut self, m: Metric) -> Self {
        self.metrics.push(m);
        self.labels.push(None);
        self
    }
    /// A metric with its column label.
    fn labelled(mut self, m: Metric, label: &'static str) -> Self {
        self.metrics.push(m);
        self.labels.push(Some(label));
        self
    }
    fn bucket(mut self, b: Bucket) -> Self {
        self.buckets.push(b);
        self
    }
    fn filter(mut self, f: Filter) -> Self {
        self.filters.push(f);
        self
    }
}

const TOP: u32 = 10;

/// The collector's default period (`period`, 300 s): the smallest date-histogram interval.
pub const MIN_INTERVAL_SECONDS: u32 = 300;

/// Functions with fewer invocations in the time range are not ranked by a rate (stated in the
/// panel titles, which a test keeps in step with this number).
pub const MIN_INVOCATIONS: u32 = 100;

/// Every visualisation of the bundle.
pub fn visualizations() -> Vec<Visualization> {
    use Bucket::*;
    use Chart::*;
    use Metric::*;
    use Source::*;
    vec![
        // Fleet overview.
        vis("fleet-invocations-over-time", "LFM: invocations over time by account", "Sum of invocations per interval, one line per account.", Line, Metrics)
            .metric(Sum(INVOCATIONS))
            .bucket(DateHistogram)
            .bucket(Terms { field: ACCOUNT_ID, size: TOP }),
        vis("fleet-totals", "LFM: invocations, errors, throttles", "Fleet totals over the selected time range.", Chart::Numbers, Metrics)
            .metric(Sum(INVOCATIONS))
            .metric(Sum(ERRORS))
            .metric(Sum(THROTTLES)),
        vis("fleet-functions-by-region", "LFM: functions by region", "Functions seen in the inventory, by region.", Pie, Inventory)
            .metric(Count)
            .bucket(Terms { field: REGION, size: 20 }),
        vis("fleet-top-functions", "LFM: busiest functions", "Functions with the most invocations, with their errors and throttles.", Table, Metrics)
            .metric(Sum(INVOCATIONS))
            .metric(Sum(ERRORS))
            .metric(Sum(THROTTLES))
            .bucket(Terms { field: FUNCTION_NAME, size: 20 })
            .bucket(Terms { field: ACCOUNT_ID, size: 1 }),
        // Errors and throttles.
        vis("errors-over-time", "LFM: errors and throttles over time", "Sum of errors and throttles per interval.", Bars, Metrics)
            .metric(Sum(ERRORS))
            .metric(Sum(THROTTLES))
            .bucket(DateHistogram),
        vis("errors-top-functions", "LFM: functions with the most errors", "Only periods with errors: errors and the invocations of those periods. The error rate per function is in \"highest error rate per function\".", Table, Metrics)
            .metric(Sum(ERRORS))
            .metric(Sum(INVOCATIONS))
            .bucket(Terms { field: FUNCTION_NAME, size: 20 })
            .filter(Filter::GreaterThan(ERRORS, 0.0)),
        vis(
            "error-rate-top-functions",
            "LFM: highest error rate per function (at least 100 invocations)",
            "Sum of errors / sum of invocations over the time range, for functions with at least 100 invocations in it (rarely called functions are left out: one failure of one call is a rate of 100%).",
            RankBars { rank: Rank::Ratio { numerator: ERRORS, denominator: INVOCATIONS }, min_invocations: MIN_INVOCATIONS, size: 20, details: &[] },
            Metrics,
        ),
        vis("throttles-by-account", "LFM: throttles by account", "Only periods with throttles.", Bars, Metrics)
            .metric(Sum(THROTTLES))
            .bucket(Terms { field: ACCOUNT_ID, size: TOP })
            .filter(Filter::GreaterThan(THROTTLES, 0.0)),
        vis(
            "error-rate-over-time",
            "LFM: error rate over time by region",
            "The fleet's error rate per interval and region: sum of errors / sum of invocations (not the worst function's rate).",
            RateLines { numerator: ERRORS, denominator: INVOCATIONS, split: REGION },
            Metrics,
        ),
        // Duration and timeout proximity.
        vis("duration-over-time", "LFM: duration over time", "Mean of per-period average durations, and the highest per-period maximum (ms).", Line, Metrics)
            .metric(Avg(DURATION_AVG_MS))
            .metric(Max(DURATION_MAX_MS))
            .bucket(DateHistogram),
        vis("duration-percentiles", "LFM: percentiles of per-period maximum duration", "Tail of the per-period maxima (ms), per interval.", Line, Metrics)
            .metric(Percentiles(DURATION_MAX_MS, &[50.0, 90.0, 99.0]))
            .bucket(DateHistogram),
        vis("duration-slowest-functions", "LFM: slowest functions", "Highest per-period maximum duration (ms) per function; compare with the configured timeouts.", Table, Metrics)
            .metric(Max(DURATION_MAX_MS))
            .metric(Avg(DURATION_AVG_MS))
            .bucket(Terms { field: FUNCTION_NAME, size: 20 }),
        vis("timeouts-configured", "LFM: configured timeouts", "Functions by configured timeout (seconds), from the inventory.", Bars, Inventory)
            .metric(Count)
            .bucket(Histogram { field: TIMEOUT_S, interval: 30 }),
        vis("timeouts-by-function", "LFM: configured timeout per function", "Configured timeout (s) per function, to read beside the slowest functions.", Table, Inventory)
            .metric(Max(TIMEOUT_S))
            .bucket(Terms { field: FUNCTION_NAME, size: 50 }),
        // Memory right-sizing (configuration only, see NOT_YET_SHOWN).
        vis("memory-configured", "LFM: configured memory", "Functions by configured memory (MB).", Bars, Inventory)
            .metric(Count)
            .bucket(Histogram { field: MEMORY_MB, interval: 128 }),
        vis("memory-by-architecture", "LFM: configured memory by architecture", "Total configured memory (MB) per architecture: arm64 costs about 20% less per GB-second.", Pie, Inventory)
            .metric(Sum(MEMORY_MB))
            .bucket(Terms { field: ARCHITECTURE, size: 5 }),
        // Runtime distribution.
        vis("runtime-distribution", "LFM: runtime distribution", "Functions per runtime (container images have none).", Pie, Inventory)
            .metric(Count)
            .bucket(Terms { field: RUNTIME, size: 30 }),
        vis("runtime-by-account", "LFM: runtimes by account", "Functions per runtime and account.", Table, Inventory)
            .metric(Count)
            .bucket(Terms { field: RUNTIME, size: 30 })
            .bucket(Terms { field: ACCOUNT_ID, size: 50 }),
        vis("package-types", "LFM: package types", "Zip or container image.", Pie, Inventory)
            .metric(Count)
            .bucket(Terms { field: PACKAGE_TYPE, size: 5 }),
        // CloudWatch percentiles of Duration, and timeout proximity from REPORT records.
        vis("duration-cloudwatch-percentiles", "LFM: duration p50 / p90 / p99 over time", "CloudWatch percentile statistics of Duration (ms): mean p50 and p90, highest p99 of the interval.", Line, Metrics)
            .metric(Avg(DURATION_P50_MS))
            .metric(Avg(DURATION_P90_MS))
            .metric(Max(DURATION_P99_MS))
            .bucket(DateHistogram),
        vis(
            "timeout-proximity-top-functions",
            "LFM: closest to their timeout (at least 100 invocations)",
            "Highest per-period p99 duration as a fraction of the configured timeout (1 = timed out), for functions with at least 100 invocations in the time range; the tooltip adds the highest maximum and the timeouts counted from REPORT records.",
            RankBars {
                rank: Rank::Max(TIMEOUT_PROXIMITY_P99),
                min_invocations: MIN_INVOCATIONS,
                size: 20,
                details: &[Max(TIMEOUT_PROXIMITY_MAX), Sum(TIMEOUTS)],
            },
            Metrics,
        ),
        vis("timeouts-over-time", "LFM: timeouts over time", "Invocations that hit their timeout (REPORT records with Status: timeout), only periods with timeouts.", Bars, Metrics)
            .metric(Sum(TIMEOUTS))
            .bucket(DateHistogram)
            .filter(Filter::GreaterThan(TIMEOUTS, 0.0)),
        // Cold starts.
        vis("cold-starts-over-time", "LFM: cold starts over time by account", "REPORT records with an Init Duration, per interval.", Line, Metrics)
            .metric(Sum(COLD_STARTS))
            .bucket(DateHistogram)
            .bucket(Terms { field: ACCOUNT_ID, size: TOP }),
        vis("cold-starts-top-functions", "LFM: functions with the most cold starts", "Only periods with cold starts: count, worst cold-start rate, init duration (ms).", Table, Metrics)
            .metric(Sum(COLD_STARTS))
            .metric(Max(COLD_START_RATE))
            .metric(Avg(INIT_DURATION_AVG_MS))
            .metric(Max(INIT_DURATION_MAX_MS))
            .bucket(Terms { field: FUNCTION_NAME, size: 20 })
            .filter(Filter::GreaterThan(COLD_STARTS, 0.0)),
        vis("init-duration-over-time", "LFM: init duration over time", "Mean and highest init duration of cold starts (ms).", Line, Metrics)
            .metric(Avg(INIT_DURATION_AVG_MS))
            .metric(Max(INIT_DURATION_MAX_MS))
            .bucket(DateHistogram),
        // Memory right-sizing from REPORT "Max Memory Used".
        vis("memory-utilization-by-function", "LFM: memory utilisation per function (lowest first)", "Highest share of configured memory used in a period, and the most memory used (MB), lowest first: the top rows are the candidates for less memory. Only periods with a utilisation (REPORT records or Lambda Insights).", Table, Metrics)
            .metric(Max(MEMORY_UTILIZATION))
            .metric(Max(MAX_MEMORY_USED_MB))
            .bucket(LowestTerms { field: FUNCTION_NAME, size: 50 })
            .filter(Filter::GreaterThan(MEMORY_UTILIZATION, 0.0)),
        vis("memory-used", "LFM: memory used", "Periods by the most memory used (MB, REPORT Max Memory Used).", Bars, Metrics)
            .metric(Count)
            .bucket(Histogram { field: MAX_MEMORY_USED_MB, interval: 128 }),
        vis("recommendations", "LFM: recommendations", "Functions per recommendation kind (memory, timeout, arm64, runtime upgrade).", Pie, Inventory)
            .metric(Count)
            .bucket(Terms { field: RECOMMENDATION_KINDS, size: 10 }),
        vis("recommendations-by-function", "LFM: recommendations per function", "Which functions have which recommendations.", Table, Inventory)
            .metric(Count)
            .bucket(Terms { field: RECOMMENDATION_KINDS, size: 10 })
            .bucket(Terms { field: FUNCTION_NAME, size: 50 }),
        // Cost.
        vis("cost-over-time", "LFM: cost over time by account (USD)", "Lambda request and compute cost per interval, billed from REPORT durations or estimated from metrics (see cost basis).", Bars, Metrics)
            .metric(Sum(COST_USD))
            .bucket(DateHistogram)
            .bucket(Terms { field: ACCOUNT_ID, size: TOP }),
        vis("cost-by-account", "LFM: cost by account (USD)", "Total cost over the time range per account.", Pie, Metrics)
            .metric(Sum(COST_USD))
            .bucket(Terms { field: ACCOUNT_ID, size: 20 }),
        vis("cost-top-functions", "LFM: most expensive functions (USD)", "Cost, compute and request parts, and GB-seconds per function.", Table, Metrics)
            .metric(Sum(COST_USD))
            .metric(Sum(COMPUTE_COST_USD))
            .metric(Sum(REQUEST_COST_USD))
            .metric(Sum(GB_SECONDS))
            .bucket(Terms { field: FUNCTION_NAME, size: 20 })
            .bucket(Terms { field: ACCOUNT_ID, size: 1 }),
        vis("cost-basis", "LFM: billed or estimated cost", "Share of the cost computed from REPORT billed durations (billed) or from CloudWatch metrics (estimated).", Pie, Metrics)
            .metric(Sum(COST_USD))
            .bucket(Terms { field: COST_BASIS, size: 2 }),
        // Runtime deprecation.
        vis("runtime-status", "LFM: runtime deprecation status", "Functions by status of their runtime: supported, deprecating, deprecated, unknown, image.", Pie, Inventory)
            .metric(Count)
            .bucket(Terms { field: RUNTIME_STATUS, size: 5 }),
        vis("runtime-deprecation", "LFM: runtimes and days to deprecation", "Functions per runtime and status, with the days left until the runtime's deprecation (negative: past).", Table, Inventory)
            .metric(Count)
            .metric(Min(RUNTIME_DAYS_TO_DEPRECATION))
            .bucket(Terms { field: RUNTIME, size: 30 })
            .bucket(Terms { field: RUNTIME_STATUS, size: 5 }),
        // Alerts and regressions.
        vis("alerts-firing-now", "LFM: alerts firing now", "Open alerts with status firing, whatever the time range: rule, severity, function, since when, and the newest breaching value (for a regression: the regressed metric after the change).", Table, AlertState)
            .labelled(Min(alert_fields::SINCE), "Firing since")
            .labelled(Max(alert_fields::VALUE), "Value")
            .bucket(Terms { field: alert_fields::RULE, size: 50 })
            .bucket(Terms { field: alert_fields::SEVERITY, size: 3 })
            .bucket(Terms { field: FUNCTION_NAME, size: 100 })
            .filter(Filter::Equals(alert_fields::STATUS, crate::alerts::status::FIRING)),
        vis("alerts-transitions-over-time", "LFM: alert transitions over time", "Transitions per interval: pending, firing, renotify, resolved, cleared.", Bars, Alerts)
            .metric(Count)
            .bucket(DateHistogram)
            .bucket(Terms { field: alert_fields::TRANSITION, size: 5 }),
        vis("alerts-transitions", "LFM: alert transitions", "Transitions per rule, function, transition and notification result, newest first; the reason is the newest transition's.", Table, Alerts)
            .labelled(Max(TIMESTAMP), "Last at")
            .labelled(Count, "Transitions")
            .labelled(Metric::TopHit { field: alert_fields::REASON, sort: TIMESTAMP }, "Reason")
            .bucket(Terms { field: alert_fields::RULE, size: 50 })
            .bucket(Terms { field: FUNCTION_NAME, size: 100 })
            .bucket(Terms { field: alert_fields::TRANSITION, size: 5 })
            .bucket(Terms { field: alert_fields::NOTIFICATION_STATUS, size: 4 }),
        vis("deployments", "LFM: deployments and their verdicts", "Code and configuration changes per function and verdict, newest first: what changed and the before -> after numbers of the newest change.", Table, Deployments)
            .labelled(Max(TIMESTAMP), "Changed at")
            .labelled(Count, "Changes")
            .labelled(Metric::TopHit { field: alert_fields::CHANGED_FIELDS, sort: TIMESTAMP }, "Changed fields")
            .labelled(Metric::TopHit { field: alert_fields::SUMMARY, sort: TIMESTAMP }, "Before -> after")
            .bucket(Terms { field: FUNCTION_NAME, size: 100 })
            .bucket(Terms { field: alert_fields::VERDICT, size: 5 }),
        vis("deployments-by-verdict", "LFM: changes by verdict", "Changes by verdict: regressed, improved, unchanged, insufficient_data, pending.", Pie, Deployments)
            .metric(Count)
            .bucket(Terms { field: alert_fields::VERDICT, size: 5 }),
        vis("alert-rules", "LFM: declared alert rules", "Every rule the provider wrote, whatever the time range: kind, metric, comparison and threshold, M of N periods, severity, enabled.", Table, AlertRules)
            .labelled(Metric::TopHit { field: alert_fields::KIND, sort: alert_fields::UPDATED_AT }, "Kind")
            .labelled(Metric::TopHit { field: alert_fields::METRIC, sort: alert_fields::UPDATED_AT }, "Metric")
            .labelled(Metric::TopHit { field: alert_fields::COMPARISON, sort: alert_fields::UPDATED_AT }, "Comparison")
            .labelled(Max(alert_fields::THRESHOLD), "Threshold")
            .labelled(Max(alert_fields::DATAPOINTS_TO_ALARM), "M (datapoints to alarm)")
            .labelled(Max(alert_fields::EVALUATION_PERIODS), "N (evaluation periods)")
            .labelled(Metric::TopHit { field: alert_fields::SEVERITY, sort: alert_fields::UPDATED_AT }, "Severity")
            .labelled(Metric::TopHit { field: alert_fields::ENABLED, sort: alert_fields::UPDATED_AT }, "Enabled")
            .bucket(AlphabeticalTerms { field: alert_fields::NAME, size: 200 }),
    ]
}

/// Every dashboard of the bundle.
pub fn dashboards() -> Vec<Dashboard> {
    vec![
        Dashboard {
            slug: "fleet-overview",
            title: "LFM: fleet overview",
            description: "Invocations, errors and throttles across accounts and regions.",
            panels: vec!["fleet-totals", "fleet-functions-by-region", "fleet-invocations-over-time", "fleet-top-functions"],
        },
        Dashboard {
            slug: "errors-and-throttles",
            title: "LFM: errors and throttles",
            description: "Where errors and throttles happen.",
            panels: vec!["errors-over-time", "error-rate-over-time", "error-rate-top-functions", "errors-top-functions", "throttles-by-account"],
        },
        Dashboard {
            slug: "duration-and-timeouts",
            title: "LFM: duration and timeout proximity",
            description: "Durations against configured timeouts: how close each function runs to its timeout, and the timeouts it hit.",
            panels: vec![
                "timeout-proximity-top-functions",
                "timeouts-over-time",
                "duration-cloudwatch-percentiles",
                "duration-over-time",
                "duration-percentiles",
                "duration-slowest-functions",
                "timeouts-by-function",
                "timeouts-configured",
            ],
        },
        Dashboard {
            slug: "cold-starts",
            title: "LFM: cold starts",
            description: "Cold starts and their init durations, from REPORT log records.",
            panels: vec!["cold-starts-over-time", "init-duration-over-time", "cold-starts-top-functions"],
        },
        Dashboard {
            slug: "memory",
            title: "LFM: memory right-sizing",
            description: "Memory used against configured memory, and the collector's recommendations.",
            panels: vec!["memory-utilization-by-function", "memory-used", "recommendations", "recommendations-by-function", "memory-configured", "memory-by-architecture"],
        },
        Dashboard {
            slug: "cost",
            title: "LFM: cost by account and function",
            description: "Lambda request and compute cost at list prices (USD).",
            panels: vec!["cost-over-time", "cost-by-account", "cost-top-functions", "cost-basis"],
        },
        Dashboard {
            slug: "runtimes",
            title: "LFM: runtime distribution and deprecation",
            description: "Runtimes, their deprecation status and package types.",
            panels: vec!["runtime-status", "runtime-deprecation", "runtime-distribution", "package-types", "runtime-by-account"],
        },
        Dashboard {
            slug: "alerts",
            title: "LFM: alerts and regressions",
            description: "Alerts firing now, their transitions and notifications, code and configuration changes with their before/after verdicts, and the declared rules.",
            panels: vec!["alerts-firing-now", "alerts-transitions-over-time", "alerts-transitions", "deployments", "deployments-by-verdict", "alert-rules"],
        },
    ]
}
