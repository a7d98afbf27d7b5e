//! `lfm_collector`'s state from what AWS holds: the facts `read` gathers ([`Facts`]), the
//! state they make (user attributes Lambda holds take AWS's values, so drift shows), the
//! inputs recovered after an import, and the state an import starts from.

use super::environment::{environment_value, MANAGED_KEYS};
use super::model::ATTRIBUTES;
use super::policy::{domain_from_policy, statement_resources, SID_PUBLISH_ALERTS, SID_READ_ALERT_SECRETS};
use super::validators::valid_name;
use crate::framework::{Diagnostics, Value};
use crate::lfm::aws::iam::ExtraPolicies;
use crate::lfm::resources::monitored_account::model::{keep_equivalent, set_extra_policies};
use lfm_schema::contract;
use std::collections::BTreeMap;

/// The collector function as Lambda holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionFacts {
    pub function_arn: String,
    pub role_arn: String,
    pub architecture: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    pub code_sha256: String,
    pub last_modified: String,
    pub environment: BTreeMap<String, String>,
}

/// Everything `read` finds: the function (required), and the parts around it, each `None`
/// when it is missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub function: FunctionFacts,
    /// The execution role's inline policy, decoded.
    pub policy: Option<String>,
    /// Policies on the execution role besides its own (added outside Terraform).
    pub extra_policies: ExtraPolicies,
    /// (ARN, schedule expression, enabled) of the rule.
    pub rule: Option<(String, String, bool)>,
    /// ARN of the rule's target with ID [`TARGET_ID`].
    pub target_arn: Option<String>,
    /// The SourceArn of the function policy's statement [`PERMISSION_SID`].
    pub permission_source_arn: Option<String>,
    /// (log group name, retention days) when the log group exists.
    pub log_group: Option<(String, Option<i64>)>,
}

/// The SourceArn condition of statement `sid` in a Lambda resource policy.
pub fn permission_source_arn(policy: &str, sid: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(policy).ok()?;
    let statements = doc["Statement"].as_array()?;
    let s = statements.iter().find(|s| s["Sid"] == sid)?;
    let cond = &s["Condition"]["ArnLike"];
    let arn = cond
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("AWS:SourceArn"))?
        .1;
    arn.as_str().map(str::to_owned)
}

/// The state after reading the function and its parts from AWS. User attributes Lambda holds
/// (memory, timeout, architecture) take AWS's values, so a change outside Terraform shows as
/// a diff; computed ones show what exists (null when a part is missing). After an import (no
/// accounts in state yet) the inputs are recovered from the function's environment.
pub fn refreshed_state(current: &Value, facts: &Facts) -> Value {
    let mut state = current.clone();
    for attr in ATTRIBUTES {
        if matches!(state.get(attr), Value::Null) {
            state.set(attr, Value::Null);
        }
    }
    let f = &facts.function;
    state.set("function_arn", Value::string(&f.function_arn));
    state.set("role_arn", Value::string(&f.role_arn));
    state.set("architecture", Value::string(&f.architecture));
    state.set("memory_mb", Value::Number(f.memory_mb as f64));
    state.set("timeout_s", Value::Number(f.timeout_s as f64));
    state.set("package_sha256", Value::string(&f.code_sha256));
    state.set("last_modified", Value::string(&f.last_modified));
    state.set("environment", environment_value(&f.environment));
    state.set(
        "policy_json",
        match &facts.policy {
            Some(doc) => keep_equivalent(current.get("policy_json"), doc.clone()),
            None => Value::Null,
        },
    );
    set_extra_policies(&mut state, &facts.extra_policies);
    match &facts.rule {
        Some((arn, schedule, enabled)) => {
            state.set("rule_arn", Value::string(arn));
            state.set("schedule_expression", Value::string(schedule));
            state.set("enabled", Value::Bool(*enabled));
        }
        None => state.set("rule_arn", Value::Null),
    }
    state.set(
        "schedule_target_arn",
        Value::opt_string(facts.target_arn.clone()),
    );
    state.set(
        "invoke_permission_source_arn",
        Value::opt_string(facts.permission_source_arn.clone()),
    );
    match &facts.log_group {
        Some((name, retention)) => {
            state.set("log_group_name", Value::string(name));
            state.set(
                "log_retention_days",
                retention
                    .map(|d| Value::Number(d as f64))
                    .unwrap_or(Value::Null),
            );
        }
        None => state.set("log_group_name", Value::Null),
    }
    if current.get("monitored_account_ids").is_null() {
        adopt_inputs(&mut state, facts);
    }
    state
}

/// After an import: the inputs the function's environment and policy carry.
fn adopt_inputs(state: &mut Value, facts: &Facts) {
    let env = &facts.function.environment;
    let list = |k: &str| {
        Value::string_list(
            env.get(k)
                .map(|s| {
                    s.split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<String>>()
                })
                .unwrap_or_default(),
        )
    };
    let text = |k: &str| Value::opt_string(env.get(k).cloned());
    for setting in contract::provider_settings() {
        let attribute = setting.provider_attribute.expect("provider settings have one");
        state.set(attribute, if setting.list { list(setting.env) } else { text(setting.env) });
    }
    let extra: BTreeMap<String, Value> = env
        .iter()
        .filter(|(k, _)| !MANAGED_KEYS.iter().any(|(m, _)| m == k))
        .map(|(k, v)| (k.clone(), Value::string(v)))
        .collect();
    state.set(
        "extra_environment",
        if extra.is_empty() {
            Value::Null
        } else {
            Value::Map(extra)
        },
    );
    state.set(
        "opensearch_domain_arn",
        Value::opt_string(facts.policy.as_deref().and_then(domain_from_policy)),
    );
    for (attribute, sid) in [("alert_sns_topic_arns", SID_PUBLISH_ALERTS), ("alert_secret_parameter_arns", SID_READ_ALERT_SECRETS)] {
        let found = facts.policy.as_deref().map(|p| statement_resources(p, sid)).unwrap_or_default();
        state.set(attribute, if found.is_empty() { Value::Null } else { Value::string_list(found) });
    }
    if state.get("role_propagation_timeout_s").is_null() {
        state.set("role_propagation_timeout_s", Value::Number(super::model::DEFAULT_ROLE_PROPAGATION_TIMEOUT_S as f64));
    }
}

/// The state an import starts from; `read` fills in the rest.
pub fn import_state(name: &str) -> Result<Value, Diagnostics> {
    if valid_name(&Value::string(name)).is_err() {
        return Err(Diagnostics::error(
            format!("Invalid import ID {} for lfm_collector", crate::protocol::hcl::render(&Value::string(name))),
            "The import ID is the collector's function name (1 to 55 letters, digits, - or _), e.g. `terraform import lfm_collector.this lfm-collector`.",
        ));
    }
    let mut state = Value::object(ATTRIBUTES.iter().map(|a| (*a, Value::Null)));
    state.set("id", Value::string(name));
    state.set("name", Value::string(name));
    Ok(state)
}
