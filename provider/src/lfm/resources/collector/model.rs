//! The core of `lfm_collector`'s pure logic: its attributes, defaults, the names and ARNs of
//! everything it makes, and the plan. No AWS calls here, so all of it is unit-tested (see
//! `tests.rs`). Beside it: [`super::validators`] (plan-time checks), [`super::environment`]
//! (the `LFM_*` contract with the collector), [`super::policy`] (IAM documents),
//! [`super::package`] (reading and checking the zip), [`super::state`] (state from AWS).

use super::environment::{desired_environment, environment_value};
use super::policy::desired_policy;
use crate::framework::Value;
use crate::lfm::resources::monitored_account::model::keep_equivalent;

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
    "function_arn",
    "role_arn",
    "rule_arn",
    "log_group_name",
    "policy_json",
    "environment",
    "schedule_target_arn",
    "invoke_permission_source_arn",
    "last_modified",
];

pub const DEFAULT_NAME: &str = "lfm-collector";

pub const DEFAULT_SCHEDULE: &str = "rate(5 minutes)";

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
