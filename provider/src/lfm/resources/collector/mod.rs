//! Resource `lfm_collector`: the LFM collector deployed as a Lambda function in the provider's
//! account and region, with everything it needs to run on a schedule.
//!
//! One apply makes: the execution role (trusted by Lambda; inline policy allowing
//! sts:AssumeRole on exactly the member accounts' monitoring roles, writing its own log group,
//! and es:ESHttp* on one OpenSearch domain, or aoss:APIAccessAll on one Serverless collection,
//! when `opensearch_domain_arn` is set), the log group
//! with its retention, the function (provided.al2023, handler `bootstrap`, arm64 by default,
//! configuration in `LFM_*` environment variables, OpenSearch auth basic or SigV4), an EventBridge schedule rule, its target
//! and the function's permission for the rule.
//!
//! The package hash is computed by the provider at plan time from the file at
//! `package_path` (no `filebase64sha256()` needed): a rebuilt zip plans an update, and code
//! changed outside Terraform shows as a diff against Lambda's `CodeSha256`.
//!
//! You are in the resource's folder. Pure logic, unit-tested in `tests.rs`: [`model`]
//! (attributes, defaults, names and ARNs, the plan), [`validators`] (plan-time checks),
//! [`environment`] (the `LFM_*` variables set for the collector), [`policy`] (the execution
//! role's IAM documents), [`package`] (reading and checking the zip), [`state`] (state from
//! what AWS holds). The AWS calls are in [`deploy`]. The import ID is the function name.

pub mod deploy;
pub mod environment;
pub mod model;
pub mod package;
pub mod policy;
pub mod state;
pub mod validators;

#[cfg(test)]
mod tests;

use self::deploy::{Desired, StepError};
use self::model::{names, Names, Settings, ATTRIBUTES};
use crate::lfm::validators::{ACCOUNT_ID, ARN, IAM_ROLE_NAME, REGION};
use crate::lfm::LfmContext;
use crate::framework::{
    AttrPath, AttrType, Attribute, Block, Diagnostics, Resource, Schema, Validator, Value,
};
use async_trait::async_trait;
use lfm_schema::iam::DEFAULT_ROLE_NAME;

pub struct Collector;

const ARCHITECTURES: &[&str] = &["arm64", "x86_64"];

#[async_trait]
impl Resource<LfmContext> for Collector {
    fn type_name(&self) -> &'static str {
        "lfm_collector"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("The LFM collector as a scheduled Lambda function in the provider's account and region: execution role, log group, function, EventBridge schedule, target and invoke permission.")
            .attr(Attribute::string("id").computed().description("The function name."))
            .attr(Attribute::string("name").default(Value::string(model::DEFAULT_NAME)).force_new().validate(Validator::Custom(validators::valid_name)).description("Name of the function; also of its execution role, and of the EventBridge rule `<name>-schedule` and log group `/aws/lambda/<name>`."))
            .attr(Attribute::string("package_path").required().description("Path of the collector's zip (a `bootstrap` executable at the top, built by `scripts/package-collector --arch <architecture>`). Read at plan time: its hash is `package_sha256`."))
            .attr(Attribute::string("package_sha256").computed().description("Base64 SHA-256 of the package (Lambda's CodeSha256): computed from the file at plan time, read from Lambda on refresh; a rebuilt zip or code changed outside Terraform plans an update."))
            .attr(Attribute::string("architecture").default(Value::string(model::DEFAULT_ARCHITECTURE)).validate(Validator::OneOf(ARCHITECTURES)).description("Instruction set of the function; must match the package's build."))
            .attr(Attribute::number("memory_mb").default(Value::Number(model::DEFAULT_MEMORY_MB as f64)).validate(Validator::IntRange { min: 128, max: 10240 }).description("Memory of the function in MB (128 to 10240)."))
            .attr(Attribute::number("timeout_s").default(Value::Number(model::DEFAULT_TIMEOUT_S as f64)).validate(Validator::IntRange { min: 1, max: 900 }).description("Timeout of one run in seconds (at most 900, Lambda's limit)."))
            .attr(Attribute::string("schedule_expression").default(Value::string(model::DEFAULT_SCHEDULE)).validate(Validator::Custom(validators::valid_schedule)).description("EventBridge schedule: rate(...) or cron(...); a cron expression has 6 fields and ? in exactly one of day-of-month and day-of-week, as EventBridge requires."))
            .attr(Attribute::bool("enabled").default(Value::Bool(true)).description("Whether the schedule rule is enabled."))
            .attr(Attribute::list_of("monitored_account_ids", AttrType::String).required().validate(Validator::Each(Box::new(ACCOUNT_ID))).validate(Validator::Custom(validators::non_empty_list)).validate(Validator::Custom(validators::unique_account_ids)).description("Member accounts to collect from (LFM_ACCOUNTS); the execution role may assume only their monitoring role."))
            .attr(Attribute::string("role_name").default(Value::string(DEFAULT_ROLE_NAME)).validate(IAM_ROLE_NAME).description("Name of the monitoring role in each member account (LFM_ROLE_NAME), as made by lfm_monitored_account."))
            .attr(Attribute::string("external_id").optional().sensitive().description("sts:ExternalId the monitoring roles require (LFM_EXTERNAL_ID; stored in the function's environment)."))
            .attr(Attribute::list_of("regions", AttrType::String).required().validate(Validator::Each(Box::new(REGION))).validate(Validator::Custom(validators::non_empty_list)).description("Regions to collect from in every account (LFM_REGIONS)."))
            .attr(Attribute::string("opensearch_url").required().validate(Validator::Regex { pattern: r"https?://\S+", message: "an http(s) URL, e.g. https://search-lfm-abc.eu-west-1.es.amazonaws.com" }).description("OpenSearch base URL the collector writes to (LFM_OPENSEARCH_URL)."))
            .attr(Attribute::string("opensearch_domain_arn").optional().validate(ARN).description("ARN of the Amazon OpenSearch Service domain (arn:aws:es:REGION:ACCOUNT:domain/NAME): the execution role may then call es:ESHttpGet/Head/Post/Put/Delete on it (and nothing else; Delete is for retention). An OpenSearch Serverless collection ARN (arn:aws:aoss:REGION:ACCOUNT:collection/ID) gets aoss:APIAccessAll instead; the collection's data access policy must also let the execution role (role_arn) create and write indexes and read and write documents under index_prefix. Leave unset for a self-managed cluster with basic auth."))
            .attr(Attribute::string("opensearch_username").optional().description("OpenSearch basic-auth user (LFM_OPENSEARCH_USER)."))
            .attr(Attribute::string("opensearch_password").optional().sensitive().description("OpenSearch basic-auth password, passed as LFM_OPENSEARCH_PASSWORD: it lands in the function's environment (encrypted at rest by Lambda, readable by whoever may call lambda:GetFunctionConfiguration) and in Terraform state."))
            .attr(Attribute::string("opensearch_auth").optional().validate(Validator::OneOf(validators::OPENSEARCH_AUTH)).description("How the collector authenticates to OpenSearch (LFM_OPENSEARCH_AUTH): \"basic\" (opensearch_username and opensearch_password) or \"sigv4\" (IAM: requests signed with the execution role's credentials, no user or password; set opensearch_domain_arn so the role may call the domain). Unset: basic when opensearch_username is set, else no authentication. SigV4 signs for the function's region; for a domain elsewhere set LFM_OPENSEARCH_REGION in extra_environment."))
            .attr(Attribute::string("opensearch_sigv4_service").optional().validate(Validator::OneOf(validators::SIGV4_SERVICES)).description("With opensearch_auth = \"sigv4\": \"es\" for an Amazon OpenSearch Service domain (the default) or \"aoss\" for an OpenSearch Serverless collection (LFM_OPENSEARCH_SIGV4_SERVICE)."))
            .attr(Attribute::string("index_prefix").default(Value::string(model::DEFAULT_INDEX_PREFIX)).validate(Validator::Custom(crate::lfm::contract::index_prefix)).description("Prefix of every index the collector writes (LFM_INDEX_PREFIX): OpenSearch's index-name rules (lowercase; letters, digits, '.', '-' and '_'; not beginning with '-', '_', '+' or '.'; at most 236 bytes), the same as lfm_dashboard_bundle's and the collector's."))
            .attr(Attribute::map_of("extra_environment", AttrType::String).optional().validate(Validator::Custom(validators::valid_extra_environment)).description("More environment variables for the collector (e.g. LFM_SETTLE, LFM_BACKFILL, RUST_LOG). Keys reserved by the Lambda runtime (AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_LAMBDA_*, _HANDLER, TZ, ...) and the LFM_* keys set from other attributes are rejected at plan time."))
            .attr(Attribute::number("log_retention_days").default(Value::Number(model::DEFAULT_LOG_RETENTION_DAYS as f64)).validate(Validator::Custom(validators::valid_retention)).description("Retention of the log group /aws/lambda/<name>, in days."))
            .attr(Attribute::number("role_propagation_timeout_s").default(Value::Number(model::DEFAULT_ROLE_PROPAGATION_TIMEOUT_S as f64)).validate(Validator::IntRange { min: 0, max: 900 }).description("How long create/update retry while Lambda says the new execution role \"cannot be assumed\" (IAM propagation takes seconds, sometimes longer), with exponential backoff."))
            .attr(Attribute::list_of("alert_sns_topic_arns", AttrType::String).optional().validate(Validator::Each(Box::new(Validator::Custom(crate::lfm::resources::alert_destination::model::sns_topic_arn)))).description("SNS topics the collector publishes alerts to (lfm_alert_destination's topic_arn): the execution role gets sns:Publish on exactly these, nothing when empty."))
            .attr(Attribute::list_of("alert_secret_parameter_arns", AttrType::String).optional().validate(Validator::Each(Box::new(Validator::Custom(validators::ssm_parameter_arn)))).description("SSM parameters holding alert webhook secrets (lfm_alert_destination's secret_parameter_arn): the execution role gets ssm:GetParameter on exactly these, nothing when empty. Parameters encrypted with a customer managed KMS key also need kms:Decrypt, which this role does not get."))
            .attr(Attribute::string("function_arn").computed().description("ARN of the function."))
            .attr(Attribute::string("role_arn").computed().description("ARN of the execution role: give it to lfm_monitored_account's monitoring_principal_arns."))
            .attr(Attribute::string("rule_arn").computed().description("ARN of the EventBridge schedule rule (null when it was deleted outside Terraform)."))
            .attr(Attribute::string("log_group_name").computed().description("The function's log group (null when it was deleted outside Terraform)."))
            .attr(Attribute::string("policy_json").computed().description("The execution role's inline policy as IAM holds it (a change outside Terraform shows as a diff)."))
            .attr(Attribute::list_of("extra_inline_policy_names", AttrType::String).computed().description("Inline policies on the execution role other than lfm_collector's, as IAM holds them. The role may do exactly what its own policy allows, so this is always planned empty: a policy added outside Terraform shows as a diff, and apply deletes it."))
            .attr(Attribute::list_of("extra_attached_policy_arns", AttrType::String).computed().description("ARNs of managed policies attached to the execution role, as IAM holds them. Always planned empty: a policy attached outside Terraform shows as a diff, and apply detaches it."))
            .attr(Attribute::map_of("environment", AttrType::String).computed().sensitive().description("The function's environment as Lambda holds it (sensitive: it carries the password)."))
            .attr(Attribute::string("schedule_target_arn").computed().description("What the rule's target invokes: the function ARN, or null when the target was removed outside Terraform."))
            .attr(Attribute::string("invoke_permission_source_arn").computed().description("The rule ARN the function's invoke permission names, or null when the permission was removed outside Terraform."))
            .attr(Attribute::string("last_modified").computed().description("When Lambda last changed the function."));
        debug_assert_eq!(block.attributes.len(), ATTRIBUTES.len());
        Schema { version: 0, block }
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = validators::validate_opensearch_auth(config);
        if let Some(env) = environment::desired_environment(config) {
            let size = environment::environment_size(&env);
            if size > environment::MAX_ENVIRONMENT_BYTES {
                diags.extend(Diagnostics::attribute_error(
                    AttrPath::attr("extra_environment"),
                    "The collector's environment is too large for Lambda",
                    format!("Keys and values add up to {size} bytes; Lambda allows {} in total. Shorten extra_environment, or collect from fewer accounts per collector.", environment::MAX_ENVIRONMENT_BYTES),
                ));
            }
        }
        diags
    }

    async fn modify_plan(
        &self,
        ctx: &LfmContext,
        prior: Option<&Value>,
        planned: Value,
    ) -> Result<Value, Diagnostics> {
        if planned.is_null() {
            return Ok(planned);
        }
        // Again at plan time: values unknown at validation (module inputs) are known now.
        let auth = validators::validate_opensearch_auth(&planned);
        if auth.has_errors() {
            return Err(auth);
        }
        let sha = match planned.get("package_path").as_str() {
            Some(path) => Some(package::package_sha256(&package::read_package(
                path,
                planned.get("architecture").as_str(),
            )?)),
            None => None,
        };
        let home = match ctx.configured() {
            Some(aws) => Some(deploy::home(aws).await.map_err(|e| {
                Diagnostics::error("Cannot read the caller identity", format!("{e}."))
            })?),
            None => None,
        };
        Ok(model::plan(planned, prior, sha, home.as_ref()))
    }

    async fn create(&self, ctx: &LfmContext, planned: &Value) -> Result<Value, Diagnostics> {
        self.apply(ctx, planned, true).await
    }

    async fn read(&self, ctx: &LfmContext, current: &Value) -> Result<Option<Value>, Diagnostics> {
        let aws = ctx.aws()?;
        let names = names(current)?;
        let facts = deploy::read(aws, &names)
            .await
            .map_err(|e| step_error(&names, e))?;
        Ok(facts.map(|f| state::refreshed_state(current, &f)))
    }

    async fn update(
        &self,
        ctx: &LfmContext,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        self.apply(ctx, planned, false).await
    }

    async fn delete(&self, ctx: &LfmContext, prior: &Value) -> Result<(), Diagnostics> {
        let aws = ctx.aws()?;
        let names = names(prior)?;
        deploy::delete(aws, &names)
            .await
            .map_err(|e| step_error(&names, e))
    }

    async fn import(&self, _ctx: &LfmContext, id: &str) -> Result<Value, Diagnostics> {
        state::import_state(id)
    }
}

impl Collector {
    /// Create (`creating`) or update: converge AWS to the plan, then read the result back.
    async fn apply(
        &self,
        ctx: &LfmContext,
        planned: &Value,
        creating: bool,
    ) -> Result<Value, Diagnostics> {
        let aws = ctx.aws()?;
        let settings = Settings::decode(planned)?;
        let names = &settings.names;
        let home = deploy::home(aws).await.map_err(|e| {
            Diagnostics::error(
                "Cannot read the caller identity",
                format!("{e}."),
            )
        })?;
        let path = &settings.package_path;
        let package = package::read_package(path, Some(&settings.architecture))?;
        let sha = package::package_sha256(&package);
        if let Some(planned_sha) = &settings.package_sha256 {
            if *planned_sha != sha {
                return Err(Diagnostics::attribute_error(
                    AttrPath::attr("package_path"),
                    format!("The collector package {path} changed after the plan"),
                    format!("The plan was made for a package with SHA-256 {planned_sha}, the file now has {sha}. Run terraform plan/apply again."),
                ));
            }
        }
        let desired = Desired {
            names: names.clone(),
            package: Some(package),
            architecture: &settings.architecture,
            memory_mb: settings.memory_mb,
            timeout_s: settings.timeout_s,
            environment: settings.environment.clone(),
            policy: settings.policy(&home),
            schedule: &settings.schedule_expression,
            enabled: settings.enabled,
            log_retention_days: settings.log_retention_days,
            role_propagation: settings.role_propagation_timeout,
        };
        deploy::apply(aws, &desired, creating)
            .await
            .map_err(|e| step_error(names, e))?;
        let facts = deploy::read(aws, names)
            .await
            .map_err(|e| step_error(names, e))?
            .ok_or_else(|| {
                Diagnostics::error(
                    format!(
                        "The function {} vanished right after it was written",
                        names.function
                    ),
                    "Something deleted it meanwhile; run terraform apply again.",
                )
            })?;
        // The state is the plan with what AWS assigned (last_modified; ARNs as AWS spells them).
        let mut state = planned.clone();
        let read = state::refreshed_state(planned, &facts);
        for attr in ["last_modified", "function_arn", "role_arn", "rule_arn"] {
            state.set(attr, read.get(attr).clone());
        }
        if !matches!(state.get("policy_json"), Value::String(_)) {
            state.set("policy_json", read.get("policy_json").clone());
        }
        Ok(state)
    }
}

/// A failed AWS step as a diagnostic: what failed, AWS's answer, and what to do.
fn step_error(names: &Names, e: StepError) -> Diagnostics {
    let code = e.error.code.as_deref().unwrap_or_default();
    let (attribute, fix) = match code {
        "ResourceConflictException" if e.step == "create the function" => (
            Some("name"),
            format!("A function with this name already exists. Bring it under Terraform with `terraform import <address> {}`, or choose another name.", names.function),
        ),
        "EntityAlreadyExists" => (
            Some("name"),
            format!("An IAM role named {} exists that lfm_collector did not make (its description differs). Choose another name, or delete that role.", names.role),
        ),
        "InvalidParameterValueException" if deploy::is_role_propagation_error(&e.error) => (
            Some("role_propagation_timeout_s"),
            "The execution role was still not assumable by Lambda when role_propagation_timeout_s ran out; raise it, or apply again.".to_owned(),
        ),
        "InvalidParameterValueException" => (None, "Check the attribute AWS names above (environment keys, architecture matching the package).".to_owned()),
        "MalformedPolicyDocument" => (Some("opensearch_domain_arn"), "IAM rejected the execution role's policy; opensearch_domain_arn must be the ARN of an OpenSearch domain.".to_owned()),
        "AccessDenied" | "AccessDeniedException" => (None, "The identity Terraform runs as needs iam:*Role*, lambda:*Function*, lambda:*Permission, lambda:GetPolicy, events:*Rule, events:*Targets*, logs:*LogGroup* and logs:PutRetentionPolicy.".to_owned()),
        _ => (None, "Retry; if it persists, check the provider's endpoints and AWS service health.".to_owned()),
    };
    let summary = format!("Could not {} for collector {}", e.step, names.function);
    let detail = format!("AWS answered: {}.\n{fix}", e.error);
    match attribute {
        Some(a) => Diagnostics::attribute_error(AttrPath::attr(a), summary, detail),
        None => Diagnostics::error(summary, detail),
    }
}
