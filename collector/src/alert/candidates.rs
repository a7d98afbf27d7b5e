//! Candidate marking while the run writes its documents (pure): every metric document that
//! passes through the run's consume loop is checked against the threshold rules; a function
//! in a rule's scope with a breaching period becomes a candidate of that rule. What is kept
//! is small: the (function, rules) pairs marked, the runtimes of the functions marked or
//! watched (open states, pending deployments), the metrics indices written and the newest
//! period end. Part of [`crate::alert`].

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::store::IndexedDocument;

use super::rules::{RuleKind, RuleSet};
use super::scope::FunctionKey;
use super::series::period_start;

#[derive(Debug, Default)]
pub struct Candidates {
    /// Function ARN -> indices (in the [`RuleSet`]) of the rules it breached in this run.
    pub marked: HashMap<String, Vec<u16>>,
    /// Runtime of functions marked or watched, from this run's inventory documents
    /// (`None`: a container image).
    pub runtimes: HashMap<String, Option<String>>,
    /// Metrics indices this run wrote documents to (refreshed before the history search).
    pub metrics_indices: BTreeSet<String>,
    /// The newest period end among this run's metric documents (unix seconds).
    pub newest_end: Option<i64>,
    /// Metric documents checked.
    pub documents_checked: u64,
}

impl Candidates {
    /// Checks one account's documents. `watched`: ARNs whose runtime is kept anyway.
    pub fn observe(&mut self, rules: &RuleSet, prefix: &str, documents: &[IndexedDocument], watched: &HashSet<String>) {
        let metrics_prefix = format!("{prefix}-metrics-");
        let inventory = lfm_schema::documents::inventory_index(prefix);
        // Runtimes of this account's functions: inventory documents come after the metrics
        // ones, so they are read first; only those of marked or watched functions stay.
        let runtimes: HashMap<&str, Option<&str>> = if rules.uses_runtimes() || !watched.is_empty() {
            documents
                .iter()
                .filter(|d| d.index == inventory)
                .filter_map(|d| Some((d.body["function_arn"].as_str()?, d.body["runtime"].as_str())))
                .collect()
        } else {
            HashMap::new()
        };
        let thresholds: Vec<(usize, &super::rules::Rule)> =
            rules.rules.iter().enumerate().filter(|(_, r)| matches!(r.kind, RuleKind::Threshold(_))).collect();
        for doc in documents.iter().filter(|d| d.index.starts_with(&metrics_prefix)) {
            self.documents_checked += 1;
            if !self.metrics_indices.contains(&doc.index) {
                self.metrics_indices.insert(doc.index.clone());
            }
            let body = &doc.body;
            if let (Some(start), Some(period)) = (period_start(body), body["period_seconds"].as_i64()) {
                self.newest_end = self.newest_end.max(Some(start + period));
            }
            let Some(arn) = body["function_arn"].as_str() else { continue };
            let key = FunctionKey {
                account_id: body["account_id"].as_str().unwrap_or_default(),
                region: body["region"].as_str().unwrap_or_default(),
                function_name: body["function_name"].as_str().unwrap_or_default(),
                runtime: runtimes.get(arn).copied(),
            };
            let invocations = body["invocations"].as_u64().unwrap_or(0);
            for (index, rule) in &thresholds {
                let RuleKind::Threshold(threshold) = &rule.kind else { continue };
                if invocations < threshold.min_invocations {
                    continue;
                }
                let value = super::series::metric_value(body, &threshold.metric);
                if threshold.breaches(invocations, value) && rule.scope.matches(&key) {
                    let marks = self.marked.entry(arn.to_string()).or_default();
                    if !marks.contains(&(*index as u16)) {
                        marks.push(*index as u16);
                    }
                }
            }
        }
        for (arn, runtime) in runtimes {
            if self.marked.contains_key(arn) || watched.contains(arn) {
                self.runtimes.insert(arn.to_string(), runtime.map(str::to_string));
            }
        }
    }

    /// Approximate heap bytes held (for the run record's figures).
    pub fn heap_bytes(&self) -> usize {
        let marked: usize = self.marked.iter().map(|(k, v)| k.capacity() + v.capacity() * 2 + 48).sum();
        let runtimes: usize = self.runtimes.iter().map(|(k, v)| k.capacity() + v.as_ref().map_or(0, |s| s.capacity()) + 56).sum();
        marked + runtimes + self.metrics_indices.iter().map(|s| s.capacity() + 32).sum::<usize>()
    }
}
