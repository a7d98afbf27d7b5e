//! The pure part of `lfm_monitored_account`: IDs, the desired policy documents in a plan,
//! and turning what IAM holds into state. No AWS calls here, so all of it is unit-tested.

use crate::framework::{AttrPath, Diagnostics, Value};
use crate::lfm::aws::iam::{ExtraPolicies, RoleState};
use crate::lfm::aws::session::role_arn;
use lfm_schema::iam::{self as policy, DEFAULT_BOOTSTRAP_ROLE_NAME, DEFAULT_ROLE_NAME};

/// Every attribute of the resource, in schema order (state objects carry all of them).
pub const ATTRIBUTES: &[&str] = &[
    "id",
    "account_id",
    "role_name",
    "bootstrap_role_name",
    "monitoring_principal_arns",
    "organization_id",
    "external_id",
    "role_arn",
    "trust_policy_json",
    "permissions_policy_json",
    "extra_inline_policy_names",
    "extra_attached_policy_arns",
    "propagation_timeout_s",
];

/// Where the role lives and how to get there.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleKey {
    pub account_id: String,
    pub role_name: String,
    pub bootstrap_role_name: String,
}

impl RoleKey {
    /// From a plan or state object; role names fall back to their defaults.
    pub fn from_value(v: &Value) -> Result<RoleKey, Diagnostics> {
        let account_id = v.get("account_id").as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
            Diagnostics::attribute_error(
                AttrPath::attr("account_id"),
                "account_id is not known",
                "lfm_monitored_account needs a known 12-digit account_id to reach the account.",
            )
        })?;
        let name = |attr: &str, default: &str| v.get(attr).as_str().unwrap_or(default).to_owned();
        Ok(RoleKey {
            account_id: account_id.to_owned(),
            role_name: name("role_name", DEFAULT_ROLE_NAME),
            bootstrap_role_name: name("bootstrap_role_name", DEFAULT_BOOTSTRAP_ROLE_NAME),
        })
    }

    pub fn id(&self) -> String {
        resource_id(&self.account_id, &self.role_name)
    }
}

/// `ACCOUNT_ID/ROLE_NAME`, the resource ID.
pub fn resource_id(account_id: &str, role_name: &str) -> String {
    format!("{account_id}/{role_name}")
}

/// Parse an import ID: `ACCOUNT_ID` (default role name) or `ACCOUNT_ID/ROLE_NAME`.
pub fn parse_import_id(id: &str) -> Result<(String, String), Diagnostics> {
    let (account, role) = match id.split_once('/') {
        None => (id, DEFAULT_ROLE_NAME),
        Some((account, role)) => (account, role),
    };
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let role_ok = !role.is_empty()
        && role.len() <= 64
        && role.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if account_ok && role_ok {
        Ok((account.to_owned(), role.to_owned()))
    } else {
        Err(Diagnostics::error(
            format!("Invalid import ID {} for lfm_monitored_account", crate::protocol::hcl::render(&Value::string(id))),
            format!(
                "Accepted formats: ACCOUNT_ID (12 digits; the role name defaults to {DEFAULT_ROLE_NAME}) or ACCOUNT_ID/ROLE_NAME, e.g. `terraform import lfm_monitored_account.prod 111122223333` or `... 111122223333/{DEFAULT_ROLE_NAME}`."
            ),
        ))
    }
}

/// The state object an import starts from; `read` fills in the rest from IAM.
pub fn import_state(account_id: &str, role_name: &str) -> Value {
    let mut state = Value::object(ATTRIBUTES.iter().map(|a| (*a, Value::Null)));
    state.set("id", Value::string(resource_id(account_id, role_name)));
    state.set("account_id", Value::string(account_id));
    state.set("role_name", Value::string(role_name));
    state.set("bootstrap_role_name", Value::string(DEFAULT_BOOTSTRAP_ROLE_NAME));
    state.set("propagation_timeout_s", Value::Number(DEFAULT_PROPAGATION_TIMEOUT_S as f64));
    state
}

/// Default of `propagation_timeout_s`.
pub const DEFAULT_PROPAGATION_TIMEOUT_S: u64 = 120;

/// The resource's inputs, decoded once from a plan or state for create, update and delete.
/// Defaults are applied here and only here where an attribute is null (an imported state, a
/// state from before the attribute existed); the schema plans the same constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Inputs {
    /// Account, role name, bootstrap role name.
    pub key: RoleKey,
    pub monitoring_principal_arns: Vec<String>,
    /// `None` while unknown: the organisation of the provider's credentials, looked up at apply.
    pub organization_id: Option<String>,
    pub external_id: Option<String>,
    pub propagation_timeout_s: u64,
}

impl Inputs {
    /// From a plan (known apart from `organization_id`) or a state.
    pub fn decode(v: &Value) -> Result<Inputs, Diagnostics> {
        let key = RoleKey::from_value(v)?;
        let (principals, external_id) = (v.get("monitoring_principal_arns"), v.get("external_id"));
        if principals.contains_unknown() || external_id.is_unknown() {
            return Err(Diagnostics::error(
                "Trust policy inputs still unknown at apply",
                "monitoring_principal_arns and external_id must be known when the role is written; this is a provider bug.",
            ));
        }
        Ok(Inputs {
            key,
            monitoring_principal_arns: principals.strings(),
            organization_id: v.get("organization_id").as_str().map(str::to_owned),
            external_id: external_id.as_str().map(str::to_owned),
            propagation_timeout_s: v.get("propagation_timeout_s").as_i64().map(|s| s.max(0) as u64).unwrap_or(DEFAULT_PROPAGATION_TIMEOUT_S),
        })
    }

    /// How long IAM's eventual consistency is retried (`propagation_timeout_s`).
    pub fn propagation_policy(&self) -> crate::lfm::aws::retry::RetryPolicy {
        crate::lfm::aws::retry::RetryPolicy::iam_within(std::time::Duration::from_secs(self.propagation_timeout_s))
    }

    /// The trust policy to write to IAM (with the external ID itself).
    pub fn trust_document(&self) -> String {
        policy::trust_policy(&self.monitoring_principal_arns, self.organization_id.as_deref(), self.external_id.as_deref()).to_string()
    }

    /// The trust policy as `trust_policy_json` shows it (external ID hidden).
    pub fn shown_trust_policy(&self) -> String {
        redact_external_id(&self.trust_document(), self.external_id.as_deref())
    }
}

/// The trust policy to write to IAM, built from the inputs of a plan; `None` while one is
/// unknown (at apply, [`Inputs::trust_document`]).
pub fn trust_document(v: &Value) -> Option<String> {
    let principals = v.get("monitoring_principal_arns");
    let (org, ext) = (v.get("organization_id"), v.get("external_id"));
    if principals.contains_unknown() || org.is_unknown() || ext.is_unknown() {
        return None;
    }
    Some(policy::trust_policy(&principals.strings(), org.as_str(), ext.as_str()).to_string())
}

/// The trust policy as `trust_policy_json` shows it: [`trust_document`] with the external ID
/// hidden (see [`redact_external_id`]).
pub fn desired_trust_policy(v: &Value) -> Option<String> {
    trust_document(v).map(|doc| redact_external_id(&doc, v.get("external_id").as_str()))
}

/// Shown instead of an `sts:ExternalId` value equal to the configured `external_id`.
pub const EXTERNAL_ID_MARK: &str = "(sensitive: external_id)";
/// Shown instead of any other `sts:ExternalId` value (changed outside Terraform).
pub const OTHER_EXTERNAL_ID_MARK: &str = "(sensitive: not the configured external_id)";

/// `external_id` is sensitive, but the trust policy contains it: the document kept in state
/// and shown in plans carries a marker instead, which still tells a drifted value apart.
/// Documents without an external ID condition are returned unchanged.
pub fn redact_external_id(document: &str, external_id: Option<&str>) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(document) else { return document.to_owned() };
    let mark = |v: &serde_json::Value| {
        serde_json::Value::from(if v.as_str().is_some() && v.as_str() == external_id { EXTERNAL_ID_MARK } else { OTHER_EXTERNAL_ID_MARK })
    };
    let mut redacted = false;
    let statements: Vec<&mut serde_json::Value> = match &mut doc["Statement"] {
        serde_json::Value::Array(items) => items.iter_mut().collect(),
        single => vec![single],
    };
    for statement in statements {
        let Some(operators) = statement.get_mut("Condition").and_then(|c| c.as_object_mut()) else { continue };
        for keys in operators.values_mut().filter_map(|k| k.as_object_mut()) {
            // Condition keys are case-insensitive in IAM.
            for (_, value) in keys.iter_mut().filter(|(k, _)| k.eq_ignore_ascii_case("sts:ExternalId")) {
                let hidden = match &*value {
                    serde_json::Value::Array(items) => items.iter().map(mark).collect(),
                    single => mark(single),
                };
                *value = hidden;
                redacted = true;
            }
        }
    }
    if redacted {
        doc.to_string()
    } else {
        document.to_owned()
    }
}

pub fn desired_permissions_policy() -> String {
    policy::permissions_policy().to_string()
}

/// `desired`, unless `prior` is a document IAM treats as the same: then `prior`, so a
/// formatting difference never shows as a change.
pub fn keep_equivalent(prior: &Value, desired: String) -> Value {
    match prior.as_str() {
        Some(p) if policy::policies_equivalent(p, &desired) => Value::string(p),
        _ => Value::String(desired),
    }
}

/// Fill the computed attributes of a plan. `organization_id` is the looked-up ID (used when
/// the plan has none), `partition` the caller's partition (`None`: not known at plan time).
pub fn plan(mut planned: Value, prior: Option<&Value>, organization_id: Option<String>, partition: Option<&str>) -> Value {
    if planned.get("organization_id").is_null() {
        planned.set("organization_id", organization_id.map(Value::String).unwrap_or(Value::Unknown));
    }
    let prior_attr = |name: &str| prior.map(|p| p.get(name).clone()).unwrap_or(Value::Null);
    let trust = match desired_trust_policy(&planned) {
        Some(d) => keep_equivalent(&prior_attr("trust_policy_json"), d),
        None => Value::Unknown,
    };
    planned.set("trust_policy_json", trust);
    planned.set("permissions_policy_json", keep_equivalent(&prior_attr("permissions_policy_json"), desired_permissions_policy()));
    set_extra_policies(&mut planned, &ExtraPolicies::default());

    let (account, role) = (planned.get("account_id").as_str(), planned.get("role_name").as_str());
    let (arn, id) = match (account, role) {
        (Some(account), Some(role)) => {
            let same_role = prior_attr("account_id").as_str() == Some(account) && prior_attr("role_name").as_str() == Some(role);
            let arn = match (partition, prior_attr("role_arn")) {
                (Some(p), _) => Value::string(role_arn(p, account, role)),
                (None, Value::String(prior_arn)) if same_role => Value::String(prior_arn),
                _ => Value::Unknown,
            };
            (arn, Value::string(resource_id(account, role)))
        }
        _ => (Value::Unknown, Value::Unknown),
    };
    planned.set("role_arn", arn);
    planned.set("id", id);
    planned
}

/// Principals, organisation and external ID as a trust policy states them (for import).
#[derive(Debug, Default, PartialEq)]
pub struct TrustInputs {
    pub principals: Vec<String>,
    pub organization_id: Option<String>,
    pub external_id: Option<String>,
}

pub fn trust_inputs(document: &str) -> TrustInputs {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else { return TrustInputs::default() };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    let mut found = TrustInputs::default();
    let strings = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    };
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        found.principals.extend(strings(&s["Principal"]["AWS"]));
        let cond = &s["Condition"]["StringEquals"];
        found.organization_id = found.organization_id.or_else(|| strings(&cond["aws:PrincipalOrgID"]).into_iter().next());
        found.external_id = found.external_id.or_else(|| strings(&cond["sts:ExternalId"]).into_iter().next());
    }
    found
}

/// The state after reading the role from IAM. Documents equivalent to the stored ones keep
/// the stored text; others take IAM's, so a change made outside Terraform shows in the plan.
/// After an import (no principals in state yet) the inputs are taken from the trust policy.
pub fn refreshed_state(current: &Value, key: &RoleKey, role: &RoleState) -> Value {
    let mut state = current.clone();
    // Give every attribute a key, so a sparse object (an import) becomes a full state.
    for attr in ATTRIBUTES {
        if matches!(state.get(attr), Value::Null) {
            state.set(attr, Value::Null);
        }
    }
    state.set("id", Value::string(key.id()));
    state.set("account_id", Value::string(&key.account_id));
    state.set("role_name", Value::string(&key.role_name));
    state.set("bootstrap_role_name", Value::string(&key.bootstrap_role_name));
    if state.get("propagation_timeout_s").is_null() {
        // A state written before the attribute existed: its default, not a planned change.
        state.set("propagation_timeout_s", Value::Number(DEFAULT_PROPAGATION_TIMEOUT_S as f64));
    }
    state.set("role_arn", Value::string(&role.arn));
    let permissions = match &role.permissions_policy {
        Some(doc) => keep_equivalent(current.get("permissions_policy_json"), doc.clone()),
        None => Value::Null,
    };
    state.set("permissions_policy_json", permissions);
    set_extra_policies(&mut state, &role.extra);
    if current.get("monitoring_principal_arns").is_null() {
        let inputs = trust_inputs(&role.trust_policy);
        state.set("monitoring_principal_arns", Value::string_list(inputs.principals));
        state.set("organization_id", Value::opt_string(inputs.organization_id));
        state.set("external_id", Value::opt_string(inputs.external_id));
    }
    let shown = redact_external_id(&role.trust_policy, state.get("external_id").as_str());
    state.set("trust_policy_json", keep_equivalent(current.get("trust_policy_json"), shown));
    state
}

/// `extra_inline_policy_names` and `extra_attached_policy_arns`: what the role carries
/// besides its own inline policy. Read records it; the plan always wants none (the role may
/// do exactly the collector's read-only calls), so anything else on the role is a diff that
/// apply removes.
pub fn set_extra_policies(state: &mut Value, extra: &ExtraPolicies) {
    state.set("extra_inline_policy_names", Value::string_list(extra.inline_policy_names.iter().cloned()));
    state.set("extra_attached_policy_arns", Value::string_list(extra.attached_policy_arns.iter().cloned()));
}

/// Whether a state shows policies added outside Terraform (which update removes).
pub fn has_extra_policies(state: &Value) -> bool {
    !state.get("extra_inline_policy_names").elements().is_empty() || !state.get("extra_attached_policy_arns").elements().is_empty()
}
