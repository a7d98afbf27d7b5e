//! The core of `lfm_collector`'s pure logic: its attributes, defaults, the names and ARNs of
//! everything it makes, the plan, and [`Settings`], the plan decoded once for apply. No AWS calls here, so all of it is unit-tested (see
//! `tests.rs`). Beside it: [`super::validators`] (plan-time checks), [`super::environment`]
//! (the `LFM_*` contract with the collector), [`super::policy`] (IAM documents),
//! [`super::package`] (reading and checking the zip), [`super::state`] (state from AWS).

use super::environment::{desired_environment, environment_value};
use super::policy::{desired_policy, policy_document, AlertAccess};
use crate::framework::{AttrPath, Diagnostics, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use crate::lfm::aws::iam::ExtraPolicies;
use crate::lfm::resources::monitored_account::model::{keep_equivalent, set_extra_policies};

/// Every attribute of the resource, in schema order (state objects carry all of them).
pub const ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "package_path",
    "package_sha256",
    "architecture",
    "memory_mb",
    "timeout_s",
    "schedule_expression",
    "enabled",
    "monitored_account_ids",
    "role_name",
    "external_id",
    "regions",
    "opensearch_url",
    "opensearch_domain_arn",
    "opensearch_username",
    "opensearch_password",
    "opensearch_auth",
    "opensearch_sigv4_service",
    "index_prefix",
    "extra_environment",
    "log_retention_days",
    "role_propagation_timeout_s",
    "alert_sns_topic_arns",
    "alert_secret_parameter_arns",
    "function_arn",
    "role_arn",
    "rule_arn",
    "log_group_name",
    "policy_json",
    "extra_inline_policy_names",
    "extra_attached_policy_arns",
    "environment",
    "schedule_target_arn",
    "invoke_permission_source_arn",
    "last_modified",
];

pub const DEFAULT_NAME: &str = "lfm-collector";

pub const DEFAULT_SCHEDULE: &str = "rate(5 minutes)";

pub const DEFAULT_ARCHITECTURE: &str = "arm64";

pub const DEFAULT_MEMORY_MB: i64 = 256;

pub const DEFAULT_TIMEOUT_S: i64 = 300;

pub const DEFAULT_LOG_RETENTION_DAYS: i64 = 30;

pub const DEFAULT_ROLE_PROPAGATION_TIMEOUT_S: i64 = 120;

pub use lfm_schema::contract::DEFAULT_INDEX_PREFIX;

/// The EventBridge target ID and the Lambda permission statement ID.
pub const TARGET_ID: &str = "lfm-collector";

pub const PERMISSION_SID: &str = "lfm-schedule";

/// Where the resource lives: the provider's partition, account and region.
#[derive(Clone, Debug, PartialEq)]
pub struct Home {
    pub partition: String,
    pub account_id: String,
    pub region: String,
}

/// The AWS names and ARNs of everything the resource makes, all derived from `name`.
#[derive(Clone, Debug, PartialEq)]
pub struct Names {
    pub function: String,
    pub role: String,
    pub rule: String,
    pub log_group: String,
}

impl Names {
    pub fn new(name: &str) -> Names {
        Names {
            function: name.to_owned(),
            role: name.to_owned(),
            rule: format!("{name}-schedule"),
            log_group: format!("/aws/lambda/{name}"),
        }
    }
    pub fn function_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            h.partition, h.region, h.account_id, self.function
        )
    }
    pub fn role_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            h.partition, h.account_id, self.role
        )
    }
    pub fn rule_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:events:{}:{}:rule/{}",
            h.partition, h.region, h.account_id, self.rule
        )
    }
    pub fn log_group_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{}",
            h.partition, h.region, h.account_id, self.log_group
        )
    }
}

/// What create and update write, decoded once from the plan. Defaults are applied here and
/// only here where an attribute is null; the schema plans the same constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub names: Names,
    pub package_path: String,
    /// The package hash the plan was made for (`None`: not planned yet).
    pub package_sha256: Option<String>,
    pub architecture: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub schedule_expression: String,
    pub enabled: bool,
    pub log_retention_days: i32,
    pub role_propagation_timeout: Duration,
    /// The function's environment (`LFM_*` from the attributes, plus `extra_environment`).
    pub environment: BTreeMap<String, String>,
    /// What the execution role's policy is made of.
    pub monitored_account_ids: Vec<String>,
    pub role_name: String,
    pub opensearch_domain_arn: Option<String>,
    /// Alert topics and webhook-secret parameters the collector may use.
    pub alerts: AlertAccess,
}

impl Settings {
    /// From a plan whose inputs are known (they are at apply).
    pub fn decode(v: &Value) -> Result<Settings, Diagnostics> {
        let names = names(v)?;
        let unknown = || Diagnostics::error("Collector inputs still unknown at apply", "This is a provider bug.");
        let environment = desired_environment(v).ok_or_else(unknown)?;
        let (ids, domain) = (v.get("monitored_account_ids"), v.get("opensearch_domain_arn"));
        if ids.contains_unknown() || domain.is_unknown() || v.get("role_name").is_unknown() {
            return Err(unknown());
        }
        let alerts = AlertAccess::from_value(v).ok_or_else(unknown)?;
        let int = |a: &str, default: i64| v.get(a).as_i64().unwrap_or(default);
        let text = |a: &str, default: &str| v.get(a).as_str().unwrap_or(default).to_owned();
        Ok(Settings {
            names,
            package_path: text("package_path", ""),
            package_sha256: v.get("package_sha256").as_str().map(str::to_owned),
            architecture: text("architecture", DEFAULT_ARCHITECTURE),
            memory_mb: int("memory_mb", DEFAULT_MEMORY_MB) as i32,
            timeout_s: int("timeout_s", DEFAULT_TIMEOUT_S) as i32,
            schedule_expression: text("schedule_expression", DEFAULT_SCHEDULE),
            enabled: v.get("enabled").as_bool().unwrap_or(true),
            log_retention_days: int("log_retention_days", DEFAULT_LOG_RETENTION_DAYS) as i32,
            role_propagation_timeout: Duration::from_secs(int("role_propagation_timeout_s", DEFAULT_ROLE_PROPAGATION_TIMEOUT_S).max(0) as u64),
            environment,
            monitored_account_ids: ids.strings(),
            role_name: text("role_name", lfm_schema::iam::DEFAULT_ROLE_NAME),
            opensearch_domain_arn: domain.as_str().map(str::to_owned),
            alerts,
        })
    }

    /// The execution role's inline policy.
    pub fn policy(&self, home: &Home) -> String {
        policy_document(&self.monitored_account_ids, &self.role_name, self.opensearch_domain_arn.as_deref(), &self.alerts, &self.names, home)
    }
}

/// The names of everything the resource makes, from `name` (all read and delete need).
pub fn names(v: &Value) -> Result<Names, Diagnostics> {
    v.get("name").as_str().filter(|s| !s.is_empty()).map(Names::new).ok_or_else(|| {
        Diagnostics::attribute_error(AttrPath::attr("name"), "name is not known", "lfm_collector needs a known function name.")
    })
}

/// Fill the computed attributes of a plan. `package_sha256` is the hash of the file at
/// `package_path` (`None`: the path is not known yet); `home` the provider's partition,
/// account and region (`None`: the provider is not configured yet).
pub fn plan(
    mut planned: Value,
    prior: Option<&Value>,
    package_sha256: Option<String>,
    home: Option<&Home>,
) -> Value {
    let prior_attr = |name: &str| prior.map(|p| p.get(name).clone()).unwrap_or(Value::Null);
    planned.set(
        "package_sha256",
        package_sha256.map(Value::String).unwrap_or(Value::Unknown),
    );
    planned.set(
        "environment",
        desired_environment(&planned)
            .map(|e| environment_value(&e))
            .unwrap_or(Value::Unknown),
    );
    let policy = home.and_then(|h| desired_policy(&planned, h));
    planned.set(
        "policy_json",
        match policy {
            Some(doc) => keep_equivalent(&prior_attr("policy_json"), doc),
            None => Value::Unknown,
        },
    );
    // The execution role may do exactly what its policy allows: anything else is removed.
    set_extra_policies(&mut planned, &ExtraPolicies::default());
    let name = planned.get("name").as_str().map(Names::new);
    planned.set(
        "id",
        name.as_ref()
            .map(|n| Value::string(&n.function))
            .unwrap_or(Value::Unknown),
    );
    planned.set(
        "log_group_name",
        name.as_ref()
            .map(|n| Value::string(&n.log_group))
            .unwrap_or(Value::Unknown),
    );
    let arns = match (&name, home) {
        (Some(n), Some(h)) => Some((n.function_arn(h), n.role_arn(h), n.rule_arn(h))),
        _ => None,
    };
    let (function, role, rule) = match arns {
        Some((f, r, e)) => (Value::String(f), Value::String(r), Value::String(e)),
        None => (Value::Unknown, Value::Unknown, Value::Unknown),
    };
    planned.set("function_arn", function.clone());
    planned.set("role_arn", role);
    planned.set("rule_arn", rule.clone());
    planned.set("schedule_target_arn", function);
    planned.set("invoke_permission_source_arn", rule);
    // Any change rewrites the function, which gives it a new LastModified.
    let mut unchanged = prior.is_some();
    if let Some(p) = prior {
        unchanged = ATTRIBUTES
            .iter()
            .filter(|a| **a != "last_modified")
            .all(|a| planned.get(a) == p.get(a));
    }
    planned.set(
        "last_modified",
        if unchanged {
            prior_attr("last_modified")
        } else {
            Value::Unknown
        },
    );
    planned
}
