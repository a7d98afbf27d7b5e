//! Alerts and deploy-aware regressions: the documents both halves of LFM read and write.
//!
//! The provider writes the *declarations* (`lfm_alert_rule`, `lfm_alert_destination`) as
//! documents; the collector reads them at each run, evaluates the rules on the metrics it has
//! just written, keeps the state of each alert and records every transition and every
//! deployment it sees:
//!
//! | index | written by | `_id` | document |
//! |---|---|---|---|
//! | [`alert_rules_index`] `{p}-alert-rules` | provider | rule name | [`AlertRuleDocument`] |
//! | [`alert_destinations_index`] `{p}-alert-destinations` | provider | destination name | [`AlertDestinationDocument`] |
//! | [`alert_state_index`] `{p}-alert-state` | collector | dedup key | [`AlertStateDocument`] |
//! | [`alerts_index`] `{p}-alerts` | collector | [`transition_document_id`] | [`AlertTransitionDocument`] |
//! | [`deployments_index`] `{p}-deployments` | collector | [`deployment_document_id`] | [`DeploymentDocument`] |
//!
//! What a valid rule is lives here once ([`validate_rule`], [`RULE_METRICS`]): the provider
//! refuses a bad rule at plan with these messages, the collector skips (and reports) a
//! document that fails them. Rules use CloudWatch alarms' vocabulary: `comparison`
//! (`GreaterThanThreshold` ...), `datapoints_to_alarm` (M) of `evaluation_periods` (N); see
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation>.

use serde::{Deserialize, Serialize};

/// `{prefix}-alert-rules`: one [`AlertRuleDocument`] per rule, `_id` = rule name.
pub fn alert_rules_index(prefix: &str) -> String {
    format!("{prefix}-alert-rules")
}

/// `{prefix}-alert-destinations`: one [`AlertDestinationDocument`] per destination, `_id` = name.
pub fn alert_destinations_index(prefix: &str) -> String {
    format!("{prefix}-alert-destinations")
}

/// `{prefix}-alert-state`: one [`AlertStateDocument`] per open alert, `_id` = dedup key.
pub fn alert_state_index(prefix: &str) -> String {
    format!("{prefix}-alert-state")
}

/// `{prefix}-alerts`: every transition ([`AlertTransitionDocument`]).
pub fn alerts_index(prefix: &str) -> String {
    format!("{prefix}-alerts")
}

/// `{prefix}-deployments`: every change ListFunctions showed ([`DeploymentDocument`]).
pub fn deployments_index(prefix: &str) -> String {
    format!("{prefix}-deployments")
}

/// Dedup key of a threshold alert: `{rule}|{function_arn}`.
pub fn threshold_dedup_key(rule: &str, function_arn: &str) -> String {
    format!("{rule}|{function_arn}")
}

/// Dedup key of a regression alert: `{rule}|{function_arn}|{deployment_id}`.
pub fn regression_dedup_key(rule: &str, function_arn: &str, deployment_id: &str) -> String {
    format!("{rule}|{function_arn}|{deployment_id}")
}

/// `{dedup_key}|{transition}|{period_end}`: evaluating the same periods again writes the same
/// document instead of a second one.
pub fn transition_document_id(dedup_key: &str, transition: &str, period_end: &str) -> String {
    format!("{dedup_key}|{transition}|{period_end}")
}

/// `{function_arn}|{last_modified}`: LastModified changes with every code or configuration
/// change, so one document per change, however often it is seen.
pub fn deployment_document_id(function_arn: &str, last_modified: &str) -> String {
    format!("{function_arn}|{last_modified}")
}

/// Values of [`AlertRuleDocument::kind`].
pub mod kind {
    /// A metric compared with a threshold in M of the last N periods.
    pub const THRESHOLD: &str = "threshold";
    /// A deployment or configuration change after which a function got significantly worse.
    pub const DEPLOY_REGRESSION: &str = "deploy_regression";
    pub const ALL: &[&str] = &[THRESHOLD, DEPLOY_REGRESSION];
}

/// Values of [`AlertRuleDocument::comparison`] (CloudWatch's `ComparisonOperator` names).
pub mod comparison {
    pub const GREATER: &str = "GreaterThanThreshold";
    pub const GREATER_OR_EQUAL: &str = "GreaterThanOrEqualToThreshold";
    pub const LESS: &str = "LessThanThreshold";
    pub const LESS_OR_EQUAL: &str = "LessThanOrEqualToThreshold";
    pub const ALL: &[&str] = &[GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL];

    /// The operator as people write it (`>`, `>=`, `<`, `<=`), for messages.
    pub fn symbol(comparison: &str) -> &'static str {
        match comparison {
            GREATER => ">",
            GREATER_OR_EQUAL => ">=",
            LESS => "<",
            LESS_OR_EQUAL => "<=",
            _ => "?",
        }
    }
}

/// Whether `value` breaches `threshold` under `comparison` (false for an unknown comparison).
pub fn compare(comparison: &str, value: f64, threshold: f64) -> bool {
    match comparison {
        comparison::GREATER => value > threshold,
        comparison::GREATER_OR_EQUAL => value >= threshold,
        comparison::LESS => value < threshold,
        comparison::LESS_OR_EQUAL => value <= threshold,
        _ => false,
    }
}

/// Values of [`AlertRuleDocument::severity`].
pub mod severity {
    pub const CRITICAL: &str = "critical";
    pub const WARNING: &str = "warning";
    pub const INFO: &str = "info";
    pub const ALL: &[&str] = &[CRITICAL, WARNING, INFO];
}

/// Values of [`AlertStateDocument::status`].
pub mod status {
    /// Some of the last N periods breach, fewer than M: recorded, not notified.
    pub const PENDING: &str = "pending";
    /// At least M of the last N periods breach (or a regression was found): notified.
    pub const FIRING: &str = "firing";
    /// Was firing; none of the last N periods breaches (or a later change superseded it).
    pub const RESOLVED: &str = "resolved";
}

/// Values of [`AlertTransitionDocument::transition`].
pub mod transition {
    /// none/resolved -> pending.
    pub const PENDING: &str = "pending";
    /// -> firing (notified).
    pub const FIRING: &str = "firing";
    /// Still firing after the re-notify interval (notified again).
    pub const RENOTIFY: &str = "renotify";
    /// firing -> resolved (notified).
    pub const RESOLVED: &str = "resolved";
    /// pending -> nothing breaches any more (recorded, not notified).
    pub const CLEARED: &str = "cleared";
    pub const ALL: &[&str] = &[PENDING, FIRING, RENOTIFY, RESOLVED, CLEARED];

    /// Transitions that send a message.
    pub fn notifies(transition: &str) -> bool {
        matches!(transition, FIRING | RENOTIFY | RESOLVED)
    }
}

/// Values of [`AlertTransitionDocument::notification_status`] and [`AlertStateDocument::notification_status`].
pub mod notification_status {
    /// Written before delivery; a state still `pending` after a run is delivered by the next.
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    /// Every attempt within the time budget failed (the error says why).
    pub const FAILED: &str = "failed";
    /// The transition sends nothing (pending, cleared) or the rule has no destination.
    pub const NOT_REQUIRED: &str = "not_required";
}

/// Values of [`AlertDestinationDocument::destination_type`].
pub mod destination_type {
    pub const SNS: &str = "sns";
    pub const WEBHOOK: &str = "webhook";
}

/// Values of [`AlertDestinationDocument::format`].
pub mod format {
    /// The [`NotificationBody`](super::NotificationBody) as JSON.
    pub const JSON: &str = "json";
    /// A Slack incoming-webhook body (`text` + `blocks`), also accepted by Mattermost and others.
    pub const SLACK: &str = "slack";
    pub const ALL: &[&str] = &[JSON, SLACK];
}

/// Values of [`DeploymentDocument::verdict`] and [`DeploymentComparison::verdict`].
pub mod verdict {
    /// Not enough periods after the change yet.
    pub const PENDING: &str = "pending";
    pub const REGRESSED: &str = "regressed";
    pub const IMPROVED: &str = "improved";
    pub const UNCHANGED: &str = "unchanged";
    /// The after window ended without the minimum samples on one side.
    pub const INSUFFICIENT_DATA: &str = "insufficient_data";
}

/// What a rule's threshold can be compared with: the metric's possible values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Domain {
    pub min: f64,
    /// `None`: unbounded above.
    pub max: Option<f64>,
}

/// A metric of the metrics documents a threshold rule may watch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleMetric {
    /// The rule's `metric` value: the metrics document's field of the same name.
    pub name: &'static str,
    pub domain: Domain,
    /// Shown in messages: `%` (a ratio shown as a percentage), `ms`, `USD`, or `` for counts.
    pub unit: &'static str,
    pub description: &'static str,
}

const RATIO: Domain = Domain { min: 0.0, max: Some(1.0) };
const NON_NEGATIVE: Domain = Domain { min: 0.0, max: None };

/// Every metric a threshold rule may name, with its domain (for refusing impossible
/// thresholds). Ratios are fractions (0.05 = 5 %), as the documents store them.
pub const RULE_METRICS: &[RuleMetric] = &[
    RuleMetric { name: "error_rate", domain: RATIO, unit: "%", description: "errors / invocations in the period (0.05 = 5 %)" },
    RuleMetric { name: "errors", domain: NON_NEGATIVE, unit: "", description: "invocations that failed (function errors and timeouts)" },
    RuleMetric { name: "throttles", domain: NON_NEGATIVE, unit: "", description: "invocation requests throttled" },
    RuleMetric { name: "invocations", domain: NON_NEGATIVE, unit: "", description: "invocations in the period" },
    RuleMetric { name: "duration_avg_ms", domain: NON_NEGATIVE, unit: "ms", description: "average duration" },
    RuleMetric { name: "duration_max_ms", domain: NON_NEGATIVE, unit: "ms", description: "maximum duration" },
    RuleMetric { name: "duration_p90_ms", domain: NON_NEGATIVE, unit: "ms", description: "90th percentile of duration" },
    RuleMetric { name: "duration_p99_ms", domain: NON_NEGATIVE, unit: "ms", description: "99th percentile of duration" },
    RuleMetric { name: "timeouts", domain: NON_NEGATIVE, unit: "", description: "invocations that hit the function's timeout" },
    RuleMetric { name: "timeout_proximity_max", domain: RATIO, unit: "%", description: "longest duration / configured timeout (1 = timed out)" },
    RuleMetric { name: "timeout_proximity_p99", domain: RATIO, unit: "%", description: "p99 duration / configured timeout" },
    RuleMetric { name: "cold_starts", domain: NON_NEGATIVE, unit: "", description: "invocations that started a new execution environment" },
    RuleMetric { name: "cold_start_rate", domain: RATIO, unit: "%", description: "cold starts / invocations" },
    RuleMetric { name: "init_duration_max_ms", domain: NON_NEGATIVE, unit: "ms", description: "longest Init Duration of a cold start" },
    RuleMetric { name: "memory_utilization", domain: RATIO, unit: "%", description: "Max Memory Used / configured memory" },
    RuleMetric { name: "cost_usd", domain: NON_NEGATIVE, unit: "USD", description: "cost of the period (requests + compute)" },
    RuleMetric { name: "concurrency_max", domain: NON_NEGATIVE, unit: "", description: "maximum concurrent executions" },
    RuleMetric { name: "provisioned_concurrency_spillover", domain: NON_NEGATIVE, unit: "", description: "invocations above provisioned concurrency" },
    RuleMetric { name: "iterator_age_max_ms", domain: NON_NEGATIVE, unit: "ms", description: "age of the oldest stream record read (stream consumers)" },
    RuleMetric { name: "async_events_dropped", domain: NON_NEGATIVE, unit: "", description: "asynchronous events dropped" },
    RuleMetric { name: "async_event_age_max_ms", domain: NON_NEGATIVE, unit: "ms", description: "age of the oldest asynchronous event" },
    RuleMetric { name: "dead_letter_errors", domain: NON_NEGATIVE, unit: "", description: "events that could not go to the dead-letter queue" },
    RuleMetric { name: "destination_delivery_failures", domain: NON_NEGATIVE, unit: "", description: "events that could not go to a destination" },
];

/// The rule metric called `name`.
pub fn rule_metric(name: &str) -> Option<&'static RuleMetric> {
    RULE_METRICS.iter().find(|m| m.name == name)
}

/// The metrics a `deploy_regression` rule compares before and after a change.
pub mod regression_metric {
    pub const ERROR_RATE: &str = "error_rate";
    pub const DURATION_P99_MS: &str = "duration_p99_ms";
    pub const COLD_START_RATE: &str = "cold_start_rate";
    /// `cost_usd / invocations` per period.
    pub const COST_PER_INVOCATION_USD: &str = "cost_per_invocation_usd";
    pub const ALL: &[&str] = &[ERROR_RATE, DURATION_P99_MS, COLD_START_RATE, COST_PER_INVOCATION_USD];
}

/// The value of `metric` in a metrics document (as JSON, the way it is read back from
/// OpenSearch): `None` when the field is absent, null or not a number.
pub fn metric_value(document: &serde_json::Value, metric: &str) -> Option<f64> {
    document.get(metric).and_then(serde_json::Value::as_f64).filter(|v| v.is_finite())
}

/// Default of [`AlertRuleDocument::min_invocations`].
pub const DEFAULT_MIN_INVOCATIONS: u64 = 10;
/// Default of [`AlertRuleDocument::renotify_minutes`] (4 hours).
pub const DEFAULT_RENOTIFY_MINUTES: u64 = 240;
/// Largest `evaluation_periods` (CloudWatch allows more, but LFM reads the last N periods of
/// every candidate function in one query).
pub const MAX_EVALUATION_PERIODS: u32 = 60;

/// One alert rule as the provider writes it (`{p}-alert-rules`, `_id` = `name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleDocument {
    /// `^[a-z0-9][a-z0-9_-]{0,63}$`.
    pub name: String,
    /// [`kind`]: `threshold` or `deploy_regression`.
    pub kind: String,
    pub enabled: bool,
    pub description: Option<String>,
    /// [`severity`].
    pub severity: String,
    /// Threshold rules: a [`RULE_METRICS`] name.
    pub metric: Option<String>,
    /// Threshold rules: a [`comparison`] value.
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    /// M: breaching periods among the last N that make the alert fire.
    pub datapoints_to_alarm: Option<u32>,
    /// N.
    pub evaluation_periods: Option<u32>,
    /// A period with fewer invocations is "missing": neither breaching nor ok.
    pub min_invocations: u64,
    /// Scope; an empty list restricts nothing.
    pub account_ids: Vec<String>,
    pub regions: Vec<String>,
    /// Glob on the function name (`*` any run of characters, `?` one); `None` = every function.
    pub function_name_pattern: Option<String>,
    pub runtimes: Vec<String>,
    /// Names of [`AlertDestinationDocument`]s.
    pub destinations: Vec<String>,
    /// Re-send a still-firing alert after this many minutes; 0 = never.
    pub renotify_minutes: u64,
    /// `deploy_regression` rules: [`regression_metric`] values compared before and after a change.
    pub regression_metrics: Vec<String>,
    pub updated_at: String,
}

/// One problem of a rule: the rule's field (the `lfm_alert_rule` attribute of the same name)
/// and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleProblem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: String) -> RuleProblem {
    RuleProblem { field, message }
}

/// Whether `name` is a valid rule or destination name: `^[a-z0-9][a-z0-9_-]{0,63}$`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Every reason `rule` cannot be evaluated, in field order; empty when it is valid.
pub fn validate_rule(rule: &AlertRuleDocument) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    if !valid_name(&rule.name) {
        problems.push(problem("name", format!(
            "{:?} is not a valid rule name: use 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit",
            rule.name
        )));
    }
    if !severity::ALL.contains(&rule.severity.as_str()) {
        problems.push(problem("severity", format!("{:?} is not a severity: use one of {}", rule.severity, severity::ALL.join(", "))));
    }
    match rule.kind.as_str() {
        kind::THRESHOLD => validate_threshold(rule, &mut problems),
        kind::DEPLOY_REGRESSION => validate_regression(rule, &mut problems),
        other => problems.push(problem("kind", format!("{other:?} is not a rule kind: use one of {}", kind::ALL.join(", ")))),
    }
    if let Some(pattern) = &rule.function_name_pattern {
        if pattern.is_empty() || pattern.len() > 170 {
            problems.push(problem("function_name_pattern", "the pattern must be 1 to 170 characters (function names are at most 64; ARNs 170)".into()));
        }
    }
    for (i, name) in rule.destinations.iter().enumerate() {
        if !valid_name(name) {
            problems.push(problem("destinations", format!("destination {i} ({name:?}) is not a valid destination name")));
        }
    }
    problems
}

fn validate_threshold(rule: &AlertRuleDocument, problems: &mut Vec<RuleProblem>) {
    let metric = match rule.metric.as_deref() {
        None => {
            problems.push(problem("metric", "a threshold rule needs a metric".into()));
            None
        }
        Some(name) => match rule_metric(name) {
            Some(m) => Some(m),
            None => {
                let names: Vec<&str> = RULE_METRICS.iter().map(|m| m.name).collect();
                problems.push(problem("metric", format!("{name:?} is not a metric of LFM's metrics documents: use one of {}", names.join(", "))));
                None
            }
        },
    };
    let comparison = match rule.comparison.as_deref() {
        Some(c) if comparison::ALL.contains(&c) => Some(c),
        Some(c) => {
            problems.push(problem("comparison", format!("{c:?} is not a comparison: use one of {}", comparison::ALL.join(", "))));
            None
        }
        None => {
            problems.push(problem("comparison", "a threshold rule needs a comparison".into()));
            None
        }
    };
    match rule.threshold {
        None => problems.push(problem("threshold", "a threshold rule needs a threshold".into())),
        Some(t) if !t.is_finite() => problems.push(problem("threshold", "the threshold must be a finite number".into())),
        Some(t) => {
            if let (Some(m), Some(c)) = (metric, comparison) {
                if let Some(why) = impossible(m, c, t) {
                    problems.push(problem("threshold", why));
                }
            }
        }
    }
    let n = rule.evaluation_periods;
    let m = rule.datapoints_to_alarm;
    match n {
        None => problems.push(problem("evaluation_periods", "a threshold rule needs evaluation_periods (N)".into())),
        Some(n) if n == 0 || n > MAX_EVALUATION_PERIODS => problems.push(problem(
            "evaluation_periods",
            format!("evaluation_periods must be 1 to {MAX_EVALUATION_PERIODS}, not {n}"),
        )),
        _ => {}
    }
    match (m, n) {
        (None, _) => problems.push(problem("datapoints_to_alarm", "a threshold rule needs datapoints_to_alarm (M)".into())),
        (Some(0), _) => problems.push(problem("datapoints_to_alarm", "datapoints_to_alarm must be at least 1".into())),
        (Some(m), Some(n)) if m > n => problems.push(problem(
            "datapoints_to_alarm",
            format!("datapoints_to_alarm ({m}) cannot exceed evaluation_periods ({n}): the alert fires when M of the last N periods breach"),
        )),
        _ => {}
    }
    if !rule.regression_metrics.is_empty() {
        problems.push(problem("regression_metrics", "regression_metrics belongs to deploy_regression rules; remove it from a threshold rule".into()));
    }
}

/// Why a threshold can never, or always, breach for a metric's domain.
fn impossible(metric: &RuleMetric, comparison: &str, t: f64) -> Option<String> {
    let Domain { min, max } = metric.domain;
    let shown = |v: f64| if metric.unit == "%" { format!("{v} ({}%)", v * 100.0) } else { format!("{v}") };
    let range = match max {
        Some(max) => format!("{} is between {} and {}", metric.name, shown(min), shown(max)),
        None => format!("{} is never below {}", metric.name, shown(min)),
    };
    let ratio_hint = if metric.unit == "%" { " (ratios are fractions: 5% is 0.05)" } else { "" };
    let never = match comparison {
        comparison::GREATER => max.is_some_and(|max| t >= max),
        comparison::GREATER_OR_EQUAL => max.is_some_and(|max| t > max),
        comparison::LESS => t <= min,
        comparison::LESS_OR_EQUAL => t < min,
        _ => false,
    };
    let always = match comparison {
        comparison::GREATER => t < min,
        comparison::GREATER_OR_EQUAL => t <= min,
        comparison::LESS => max.is_some_and(|max| t > max),
        comparison::LESS_OR_EQUAL => max.is_some_and(|max| t >= max),
        _ => false,
    };
    let sym = comparison::symbol(comparison);
    if never {
        Some(format!("{} {sym} {} can never be true: {range}{ratio_hint}", metric.name, shown(t)))
    } else if always {
        Some(format!("{} {sym} {} is always true: {range}; pick a threshold inside that range", metric.name, shown(t)))
    } else {
        None
    }
}

fn validate_regression(rule: &AlertRuleDocument, problems: &mut Vec<RuleProblem>) {
    let set: [(&'static str, bool); 5] = [
        ("metric", rule.metric.is_some()),
        ("comparison", rule.comparison.is_some()),
        ("threshold", rule.threshold.is_some()),
        ("datapoints_to_alarm", rule.datapoints_to_alarm.is_some()),
        ("evaluation_periods", rule.evaluation_periods.is_some()),
    ];
    for (field, is_set) in set {
        if is_set {
            problems.push(problem(field, format!(
                "{field} belongs to threshold rules; a deploy_regression rule compares the periods before and after each change (choose its metrics with regression_metrics)"
            )));
        }
    }
    if rule.regression_metrics.is_empty() {
        problems.push(problem("regression_metrics", format!("name at least one of {}", regression_metric::ALL.join(", "))));
    }
    for m in &rule.regression_metrics {
        if !regression_metric::ALL.contains(&m.as_str()) {
            problems.push(problem("regression_metrics", format!("{m:?} is not compared before and after changes: use {}", regression_metric::ALL.join(", "))));
        }
    }
}

/// Whether `name` matches the glob `pattern` (`*`: any run of characters, `?`: one character;
/// everything else literal, case-sensitive like function names).
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// One alert destination as the provider writes it (`{p}-alert-destinations`, `_id` = `name`).
/// Never holds a secret: a webhook's HMAC secret is in the SSM SecureString parameter
/// `secret_parameter`, which the collector reads when it has something to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertDestinationDocument {
    pub name: String,
    /// [`destination_type`]: `sns` or `webhook`.
    #[serde(rename = "type")]
    pub destination_type: String,
    pub topic_arn: Option<String>,
    pub url: Option<String>,
    /// [`format`]: `json` or `slack`.
    pub format: String,
    pub secret_parameter: Option<String>,
    pub updated_at: String,
}

/// Why `url` cannot be a webhook destination: only `https://`, or `http://` to a loopback host
/// (127.0.0.0/8, ::1, localhost), where nothing crosses a network.
pub fn webhook_url_problem(url: &str) -> Option<String> {
    let (scheme, rest) = match url.split_once("://") {
        Some(parts) => parts,
        None => return Some(format!("{url:?} is not a URL: write https://host/path")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Some(format!("{url:?} has no host"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => None,
        "http" if is_loopback_host(host) => None,
        "http" => Some(format!(
            "{url:?} uses plain http: alerts (and their signature) would cross the network unencrypted; use https (http is accepted only for a loopback host)"
        )),
        other => Some(format!("{url:?}: scheme {other:?} is not supported; use https")),
    }
}

/// `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The state of one alert (`{p}-alert-state`, `_id` = `dedup_key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertStateDocument {
    /// When the state last changed (= `updated_at`).
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub dedup_key: String,
    pub rule: String,
    /// [`kind`] of the rule.
    pub kind: String,
    pub severity: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    /// [`status`].
    pub status: String,
    /// When the current status began.
    pub since: String,
    /// End of the newest period evaluated.
    pub last_period_end: String,
    /// The newest breaching value (threshold rules) or the regressed metric's after value.
    pub value: Option<f64>,
    pub breaching_periods: u32,
    pub evaluated_periods: u32,
    /// [`notification_status`] of the last transition that notifies.
    pub notification_status: String,
    pub notification_key: Option<String>,
    pub last_notified_at: Option<String>,
    /// Regression alerts: the [`DeploymentDocument`] `_id`.
    pub deployment_id: Option<String>,
    pub updated_at: String,
}

/// One transition of one alert (`{p}-alerts`), with what it was about and what became of its
/// notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTransitionDocument {
    /// When the transition was evaluated.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    pub run_id: String,
    pub dedup_key: String,
    pub rule: String,
    pub kind: String,
    pub severity: String,
    /// [`transition`].
    pub transition: String,
    /// [`status`] before and after.
    pub from_status: Option<String>,
    pub to_status: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    pub metric: Option<String>,
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    pub value: Option<f64>,
    pub datapoints_to_alarm: Option<u32>,
    pub evaluation_periods: Option<u32>,
    pub breaching_periods: u32,
    /// Start of each breaching period (RFC 3339).
    pub periods: Vec<String>,
    pub period_end: String,
    /// One sentence: "error_rate 6.1% > 5% in 3 of the last 3 periods" or, for a regression,
    /// "error rate 0.4% -> 6.1% since code 3f2a1b9c deployed at 14:05 UTC".
    pub reason: String,
    pub deployment_id: Option<String>,
    /// [`notification_status`].
    pub notification_status: String,
    pub notification_key: Option<String>,
    pub notification_destinations: Vec<String>,
    pub notification_error: Option<String>,
}

/// One field a change touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentChange {
    /// `code_sha256`, `memory_mb`, `timeout_s`, `runtime`, `architecture`, `package_type`.
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One metric before and after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentComparison {
    /// A [`regression_metric`] value.
    pub metric: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// One-sided p-value of "worse after" (or "better after" for an improvement).
    pub p_value: Option<f64>,
    /// [`verdict`]: regressed, improved, unchanged or insufficient_data.
    pub verdict: String,
    /// Test used: `two_proportion_z_overdispersed` or `mann_whitney_u`.
    pub test: String,
    pub before_samples: u64,
    pub after_samples: u64,
}

/// A code or configuration change seen in ListFunctions (`{p}-deployments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentDocument {
    /// The function's LastModified after the change (when it was made).
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    /// When a collection first saw it.
    pub first_seen_at: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    pub code_sha256: Option<String>,
    pub version: Option<String>,
    pub changes: Vec<DeploymentChange>,
    pub changed_fields: Vec<String>,
    /// [`verdict`].
    pub verdict: String,
    pub comparisons: Vec<DeploymentComparison>,
    /// "error rate 0.4% -> 6.1%; p99 duration 120 ms -> 480 ms", once judged.
    pub summary: Option<String>,
    pub evaluated_at: Option<String>,
    /// Periods of `period_seconds` compared on each side.
    pub period_seconds: u32,
}

/// One function in a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationItem {
    pub dedup_key: String,
    /// [`transition`]: firing, renotify or resolved.
    pub transition: String,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub function_arn: String,
    pub value: Option<f64>,
    pub reason: String,
    pub periods: Vec<String>,
    pub deployment_id: Option<String>,
}

/// The JSON body of a notification (webhook `format = "json"`, and SNS messages after the
/// text): one per rule and run, listing every function of the rule that fired, was re-notified
/// or resolved in that run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationBody {
    /// Receivers drop a message whose key they have seen (delivery is at-least-once).
    pub idempotency_key: String,
    pub rule: String,
    pub kind: String,
    pub severity: String,
    pub description: Option<String>,
    pub run_id: String,
    pub sent_at: String,
    pub firing: u32,
    pub resolved: u32,
    pub items: Vec<NotificationItem>,
}

#[cfg(test)]
mod tests;
