//! Resource `lfm_monitored_account`: the monitoring role in one member account, which the LFM
//! collector assumes to list Lambda functions and read their metrics.
//!
//! The provider reaches the account by assuming its bootstrap role (by default
//! `OrganizationAccountAccessRole`, which AWS Organizations creates) with the provider's
//! credentials. The role may do exactly the collector's read-only calls: any other inline or
//! attached managed policy on it is drift (recorded by read in `extra_inline_policy_names` and
//! `extra_attached_policy_arns`, planned empty, removed by update). Pure logic (IDs, desired documents, state from IAM) is in [`model`]; the
//! diagnostics in [`errors`].

mod errors;
pub mod model;
#[cfg(test)]
mod tests;

use self::errors::{assume_error, iam_error};
use self::model::{Inputs, RoleKey, ATTRIBUTES};
use crate::lfm::aws::{iam, AccountSession, Aws};
use crate::lfm::{validators, LfmContext};
use crate::framework::{Attribute, AttrType, Block, Diagnostics, Resource, Schema, Validator, Value};
use async_trait::async_trait;
use lfm_schema::iam::{policies_equivalent, DEFAULT_BOOTSTRAP_ROLE_NAME, DEFAULT_ROLE_NAME, PERMISSIONS_POLICY_NAME};

pub struct MonitoredAccount;

const EXTRA_INLINE: &str = "Inline policies on the role other than LFM's, as IAM holds them. The role may do exactly the collector's read-only calls, so this is always planned empty: a policy added outside Terraform shows as a diff, and apply deletes it.";
const EXTRA_ATTACHED: &str = "ARNs of managed policies attached to the role (e.g. arn:aws:iam::aws:policy/AdministratorAccess), as IAM holds them. Always planned empty: a policy attached outside Terraform shows as a diff, and apply detaches it.";

#[async_trait]
impl Resource<LfmContext> for MonitoredAccount {
    fn type_name(&self) -> &'static str {
        "lfm_monitored_account"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("The cross-account monitoring role in one member account: trusted by the LFM collector's principals (optionally only from inside the organisation and with an external ID), allowed exactly the read-only calls the collector makes.")
            .attr(Attribute::string("id").computed().description("ACCOUNT_ID/ROLE_NAME."))
            .attr(Attribute::string("account_id").required().force_new().validate(validators::ACCOUNT_ID).description("12-digit ID of the member account to monitor."))
            .attr(Attribute::string("role_name").default(Value::string(DEFAULT_ROLE_NAME)).force_new().validate(validators::IAM_ROLE_NAME).description("Name of the monitoring role to create in the account."))
            .attr(Attribute::string("bootstrap_role_name").default(Value::string(DEFAULT_BOOTSTRAP_ROLE_NAME)).validate(validators::IAM_ROLE_NAME).description("Existing role in the account that the provider assumes to manage the monitoring role; it must trust the provider's identity and allow IAM role management."))
            .attr(Attribute::list_of("monitoring_principal_arns", AttrType::String).required()
                .validate(Validator::Each(Box::new(validators::ARN)))
                .validate(validators::AT_LEAST_ONE_PRINCIPAL)
                .description("ARNs of the principals allowed to assume the role (the LFM collector's role or account)."))
            .attr(Attribute::string("organization_id").optional().computed().use_state_for_unknown().validate(validators::ORGANIZATION_ID).description("Only principals of this organisation may assume the role (aws:PrincipalOrgID). Default: the organisation of the provider's credentials."))
            .attr(Attribute::string("external_id").optional().sensitive().validate(validators::EXTERNAL_ID).description("External ID the collector must pass when assuming the role (sts:ExternalId)."))
            .attr(Attribute::string("role_arn").computed().use_state_for_unknown().description("ARN of the monitoring role, for the collector's configuration."))
            .attr(Attribute::string("trust_policy_json").computed().description("The role's trust policy as IAM holds it (a change made outside Terraform shows as a diff), with the sts:ExternalId value replaced by a marker since external_id is sensitive."))
            .attr(Attribute::string("permissions_policy_json").computed().description("The role's inline permissions policy as IAM holds it."))
            .attr(Attribute::list_of("extra_inline_policy_names", AttrType::String).computed().description(EXTRA_INLINE))
            .attr(Attribute::list_of("extra_attached_policy_arns", AttrType::String).computed().description(EXTRA_ATTACHED))
            .attr(Attribute::number("propagation_timeout_s").default(Value::Number(model::DEFAULT_PROPAGATION_TIMEOUT_S as f64)).validate(Validator::IntRange { min: 0, max: 900 }).description("How long create and update retry IAM's eventual consistency (a principal or role created moments ago that IAM does not know yet), with exponential backoff up to 8 s between attempts."));
        debug_assert_eq!(block.attributes.len(), ATTRIBUTES.len());
        Schema { version: 0, block }
    }

    async fn modify_plan(&self, ctx: &LfmContext, prior: Option<&Value>, planned: Value) -> Result<Value, Diagnostics> {
        if planned.is_null() {
            return Ok(planned);
        }
        let Some(aws) = ctx.configured() else { return Ok(model::plan(planned, prior, None, None)) };
        let foreign = crate::lfm::contract::principals_in_partition(&planned, "monitoring_principal_arns", aws.region());
        if foreign.has_errors() {
            return Err(foreign);
        }
        let organization_id = match planned.get("organization_id") {
            Value::Null => Some(ctx.organization_id("organization_id").await?),
            _ => None,
        };
        let partition = aws.partition().await;
        Ok(model::plan(planned, prior, organization_id, Some(&partition)))
    }

    async fn create(&self, ctx: &LfmContext, planned: &Value) -> Result<Value, Diagnostics> {
        let aws = ctx.aws()?;
        let inputs = resolve(ctx, Inputs::decode(planned)?).await?;
        let key = &inputs.key;
        let mut state = resolved_state(planned, &inputs);
        let session = account_session(aws, key).await?;
        let arn = iam::create_role(&session.iam(), &key.role_name, &inputs.trust_document(), &permissions(&state), inputs.propagation_policy())
            .await
            .map_err(|e| iam_error("create", key, &e))?;
        state.set("role_arn", Value::String(arn));
        state.set("id", Value::string(key.id()));
        Ok(state)
    }

    async fn read(&self, ctx: &LfmContext, current: &Value) -> Result<Option<Value>, Diagnostics> {
        let aws = ctx.aws()?;
        let key = RoleKey::from_value(current)?;
        let session = account_session(aws, &key).await?;
        let role = iam::read_role(&session.iam(), &key.role_name).await.map_err(|e| iam_error("read", &key, &e))?;
        Ok(role.map(|role| model::refreshed_state(current, &key, &role)))
    }

    async fn update(&self, ctx: &LfmContext, prior: &Value, planned: &Value) -> Result<Value, Diagnostics> {
        let aws = ctx.aws()?;
        let inputs = resolve(ctx, Inputs::decode(planned)?).await?;
        let before = Inputs::decode(prior)?;
        let key = &inputs.key;
        let mut state = resolved_state(planned, &inputs);
        let session = account_session(aws, key).await?;
        let client = session.iam();
        let permissions = permissions(&state);
        let changed = |attr: &str, new: &str| !prior.get(attr).as_str().is_some_and(|old| policies_equivalent(old, new));
        // The shown trust policy hides the external ID, so a new external ID is a change of its own.
        let trust_changed = changed("trust_policy_json", state.get("trust_policy_json").as_str().unwrap_or_default())
            || before.external_id != inputs.external_id;
        if trust_changed {
            iam::update_trust_policy(&client, &key.role_name, &inputs.trust_document(), inputs.propagation_policy())
                .await
                .map_err(|e| iam_error("update the trust policy of", key, &e))?;
        }
        if changed("permissions_policy_json", &permissions) {
            iam::put_permissions_policy(&client, &key.role_name, &permissions)
                .await
                .map_err(|e| iam_error("put the permissions policy on", key, &e))?;
        }
        if model::has_extra_policies(prior) {
            iam::remove_extra_policies(&client, &key.role_name, PERMISSIONS_POLICY_NAME)
                .await
                .map_err(|e| iam_error("remove the policies added outside Terraform from", key, &e))?;
        }
        if !matches!(state.get("role_arn"), Value::String(_)) {
            state.set("role_arn", Value::string(aws.role_arn(&key.account_id, &key.role_name).await));
        }
        state.set("id", Value::string(key.id()));
        Ok(state)
    }

    async fn delete(&self, ctx: &LfmContext, prior: &Value) -> Result<(), Diagnostics> {
        let aws = ctx.aws()?;
        let key = RoleKey::from_value(prior)?;
        let session = account_session(aws, &key).await?;
        iam::delete_role(&session.iam(), &key.role_name).await.map_err(|e| iam_error("delete", &key, &e))
    }

    async fn import(&self, _ctx: &LfmContext, id: &str) -> Result<Value, Diagnostics> {
        let (account_id, role_name) = model::parse_import_id(id)?;
        Ok(model::import_state(&account_id, &role_name))
    }
}

/// The inputs with the organisation looked up when the plan could not know it.
async fn resolve(ctx: &LfmContext, mut inputs: Inputs) -> Result<Inputs, Diagnostics> {
    if inputs.organization_id.is_none() {
        inputs.organization_id = Some(ctx.organization_id("organization_id").await?);
    }
    Ok(inputs)
}

/// The planned object with everything left unknown at plan time filled in from `inputs`.
fn resolved_state(planned: &Value, inputs: &Inputs) -> Value {
    let mut state = planned.clone();
    state.set("organization_id", Value::opt_string(inputs.organization_id.clone()));
    if !matches!(state.get("trust_policy_json"), Value::String(_)) {
        state.set("trust_policy_json", Value::String(inputs.shown_trust_policy()));
    }
    if !matches!(state.get("permissions_policy_json"), Value::String(_)) {
        state.set("permissions_policy_json", Value::String(model::desired_permissions_policy()));
    }
    state
}

/// The permissions policy to write to IAM: as planned (the stored text when equivalent).
fn permissions(state: &Value) -> String {
    state.get("permissions_policy_json").as_str().unwrap_or_default().to_owned()
}

async fn account_session(aws: &Aws, key: &RoleKey) -> Result<AccountSession, Diagnostics> {
    match aws.assume_role(&key.account_id, &key.bootstrap_role_name).await {
        Ok(session) => Ok(session),
        Err(e) => Err(assume_error(&aws.role_arn(&key.account_id, &key.bootstrap_role_name).await, key, &e)),
    }
}
