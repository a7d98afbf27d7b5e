//! The enabled rules of a run, compiled once (pure): each [`AlertRuleDocument`] that passes
//! [`lfm_schema::alerts::validate_rule`] becomes a [`Rule`]; the others are skipped and
//! reported (the provider refuses them at plan, so they come from hand-written documents or
//! an older provider). The metrics the rules need form one [`MetricTable`]. Part of
//! [`crate::alert`].

use lfm_schema::alerts::{kind, validate_rule, AlertRuleDocument};

use super::evaluate::{Comparison, Threshold};
use super::scope::Scope;
use super::series::MetricTable;

/// What a rule evaluates.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    Threshold(Threshold),
    /// Metrics compared before and after each change ([`lfm_schema::alerts::regression_metric`]).
    Regression { metrics: Vec<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub kind: RuleKind,
    pub scope: Scope,
    pub severity: String,
    pub description: Option<String>,
    pub destinations: Vec<String>,
    pub renotify_minutes: u64,
}

impl Rule {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            RuleKind::Threshold(_) => kind::THRESHOLD,
            RuleKind::Regression { .. } => kind::DEPLOY_REGRESSION,
        }
    }

    pub fn threshold(&self) -> Option<&Threshold> {
        match &self.kind {
            RuleKind::Threshold(t) => Some(t),
            RuleKind::Regression { .. } => None,
        }
    }
}

/// The rules of a run.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub table: MetricTable,
    /// One line per rule document skipped: `rule x: field: problem`.
    pub invalid: Vec<String>,
}

/// Fields the regression comparison reads from each period.
pub const REGRESSION_FIELDS: [&str; 5] = ["errors", "cold_starts", "duration_p99_ms", "cost_usd", "error_rate"];

impl RuleSet {
    /// Compiles the enabled documents; disabled ones are ignored, invalid ones reported.
    pub fn compile(documents: &[AlertRuleDocument]) -> Self {
        let mut set = RuleSet::default();
        let mut docs: Vec<&AlertRuleDocument> = documents.iter().filter(|d| d.enabled).collect();
        docs.sort_by(|a, b| a.name.cmp(&b.name));
        for doc in docs {
            let problems = validate_rule(doc);
            if !problems.is_empty() {
                let what: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
                set.invalid.push(format!("alert rule {:?} skipped: {}", doc.name, what.join("; ")));
                continue;
            }
            let kind = if doc.kind == kind::THRESHOLD {
                let metric = doc.metric.clone().unwrap_or_default();
                let metric_index = set.table.add(&metric);
                RuleKind::Threshold(Threshold {
                    metric,
                    metric_index,
                    // validate_rule checked every one of these.
                    comparison: doc.comparison.as_deref().and_then(Comparison::parse).unwrap_or(Comparison::Greater),
                    threshold: doc.threshold.unwrap_or_default(),
                    datapoints_to_alarm: doc.datapoints_to_alarm.unwrap_or(1),
                    evaluation_periods: doc.evaluation_periods.unwrap_or(1),
                    min_invocations: doc.min_invocations,
                })
            } else {
                for field in REGRESSION_FIELDS {
                    set.table.add(field);
                }
                RuleKind::Regression { metrics: doc.regression_metrics.clone() }
            };
            set.rules.push(Rule {
                name: doc.name.clone(),
                kind,
                scope: Scope {
                    account_ids: doc.account_ids.clone(),
                    regions: doc.regions.clone(),
                    function_name_pattern: doc.function_name_pattern.clone().unwrap_or_default(),
                    runtimes: doc.runtimes.clone(),
                },
                severity: doc.severity.clone(),
                description: doc.description.clone(),
                destinations: doc.destinations.clone(),
                renotify_minutes: doc.renotify_minutes,
            });
        }
        set
    }

    /// Whether any rule is restricted to runtimes (then runtimes are kept for marking).
    pub fn uses_runtimes(&self) -> bool {
        self.rules.iter().any(|r| !r.scope.runtimes.is_empty())
    }

    pub fn has_regression_rules(&self) -> bool {
        self.rules.iter().any(|r| matches!(r.kind, RuleKind::Regression { .. }))
    }

    pub fn by_name(&self, name: &str) -> Option<(usize, &Rule)> {
        self.rules.iter().enumerate().find(|(_, r)| r.name == name)
    }

    /// The longest span of periods a threshold rule looks back (N).
    pub fn max_evaluation_periods(&self) -> u32 {
        self.rules.iter().filter_map(|r| r.threshold()).map(|t| t.evaluation_periods).max().unwrap_or(0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn threshold_rule(name: &str, metric: &str, comparison: &str, threshold: f64, m: u32, n: u32) -> AlertRuleDocument {
        AlertRuleDocument {
            name: name.into(),
            kind: kind::THRESHOLD.into(),
            enabled: true,
            description: None,
            severity: "critical".into(),
            metric: Some(metric.into()),
            comparison: Some(comparison.into()),
            threshold: Some(threshold),
            datapoints_to_alarm: Some(m),
            evaluation_periods: Some(n),
            min_invocations: 10,
            account_ids: vec![],
            regions: vec![],
            function_name_pattern: None,
            runtimes: vec![],
            destinations: vec!["ops".into()],
            renotify_minutes: 240,
            regression_metrics: vec![],
            updated_at: "2026-11-26T00:00:00Z".into(),
        }
    }

    pub fn regression_rule(name: &str) -> AlertRuleDocument {
        AlertRuleDocument {
            kind: kind::DEPLOY_REGRESSION.into(),
            metric: None,
            comparison: None,
            threshold: None,
            datapoints_to_alarm: None,
            evaluation_periods: None,
            regression_metrics: vec!["error_rate".into(), "duration_p99_ms".into()],
            ..threshold_rule(name, "error_rate", "GreaterThanThreshold", 0.05, 1, 1)
        }
    }

    #[test]
    fn compiles_valid_enabled_rules_and_reports_invalid_ones() {
        let mut disabled = threshold_rule("off", "errors", "GreaterThanThreshold", 1.0, 1, 1);
        disabled.enabled = false;
        let docs = vec![
            threshold_rule("high-errors", "error_rate", "GreaterThanThreshold", 0.05, 3, 3),
            threshold_rule("bad", "error_rate", "GreaterThanThreshold", 1.5, 3, 3),
            threshold_rule("m-over-n", "errors", "GreaterThanThreshold", 1.0, 4, 3),
            disabled,
            regression_rule("regressions"),
        ];
        let set = RuleSet::compile(&docs);
        let names: Vec<&str> = set.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["high-errors", "regressions"]);
        assert_eq!(set.invalid.len(), 2, "{:?}", set.invalid);
        assert!(set.invalid.iter().any(|e| e.contains("\"bad\"") && e.contains("threshold")), "{:?}", set.invalid);
        assert!(set.invalid.iter().any(|e| e.contains("\"m-over-n\"") && e.contains("datapoints_to_alarm")), "{:?}", set.invalid);
        let t = set.rules[0].threshold().unwrap();
        assert_eq!((t.datapoints_to_alarm, t.evaluation_periods, t.comparison), (3, 3, Comparison::Greater));
        assert_eq!(set.table.metrics[t.metric_index], "error_rate");
        assert!(set.table.index("cold_starts").is_some(), "regression fields are read");
        assert_eq!(set.max_evaluation_periods(), 3);
        assert!(set.has_regression_rules() && !set.uses_runtimes());
    }
}
