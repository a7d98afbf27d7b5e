//! Resource `lfm_alert_rule`: one alert rule as an `AlertRuleDocument` in
//! `{prefix}-alert-rules` (`_id` = name), which the collector reads and evaluates after each
//! run: a threshold on a metric over "M of the last N periods" (CloudWatch alarm vocabulary),
//! or a deploy regression. What a valid rule is, `lfm_schema::alerts::validate_rule` says, for
//! the provider at plan time and for the collector alike.
//!
//! Files: [`model`] (pure: document, checks, state from a document), the OpenSearch
//! connection in `crate::lfm::opensearch_target`. Import ID: `OPENSEARCH_URL|INDEX_PREFIX|NAME`.

pub mod model;
#[cfg(test)]
mod tests;

use self::model::{RESOURCE, RULE_ATTRIBUTES};
use crate::framework::{AttrType, Attribute, Block, Diagnostics, Resource, Schema, Validator, Value};
use crate::lfm::opensearch_target::{self as target, Target};
use crate::lfm::resources::alert_destination::{self, now};
use crate::lfm::{validators, LfmContext};
use async_trait::async_trait;
use lfm_schema::alerts::RULE_METRICS;

pub struct AlertRule;


fn metric_list() -> String {
    RULE_METRICS.iter().map(|m| format!("`{}`", m.name)).collect::<Vec<_>>().join(", ")
}

#[async_trait]
impl Resource<LfmContext> for AlertRule {
    fn type_name(&self) -> &'static str {
        RESOURCE
    }

    fn schema(&self) -> Schema {
        let block = Block::new("An LFM alert rule, stored as a document in the `INDEX_PREFIX-alert-rules` index that the collector reads and evaluates after each run (editing a rule redeploys nothing). `threshold`: a metric of the metrics documents compared with a threshold, firing when M of the last N periods breach (as CloudWatch alarms do), per function in scope. `deploy_regression`: fires when a deployment or configuration change made a function significantly worse. Every check of the rule is the collector's own, run at plan time.")
            .attr(Attribute::string("id").computed().description("OPENSEARCH_URL|INDEX_PREFIX|NAME; the import ID."))
            .attr(Attribute::string("name").required().force_new().description("Name of the rule: the document's ID, shown in every alert. 1 to 64 lowercase letters, digits, `_` or `-`, starting with a letter or digit."))
            .attr(Attribute::string("kind").default(Value::string(model::DEFAULT_KIND)).description("`threshold` (metric, comparison, threshold, datapoints_to_alarm, evaluation_periods) or `deploy_regression` (regression_metrics; the threshold attributes must be unset)."))
            .attr(Attribute::bool("enabled").default(Value::Bool(true)).description("Whether the collector evaluates the rule."))
            .attr(Attribute::string("description").optional().description("Free text shown with the rule's alerts."))
            .attr(Attribute::string("metric").optional().description(&format!("Metric of the metrics documents (threshold rules): one of {}. Each has a value domain (a proportion between 0 and 1, a count, milliseconds ...): a threshold outside it, or one that is always or never true, is refused.", metric_list())))
            .attr(Attribute::string("comparison").optional().description("How a period's value is compared with threshold (threshold rules), CloudWatch's names: `GreaterThanThreshold`, `GreaterThanOrEqualToThreshold`, `LessThanThreshold`, `LessThanOrEqualToThreshold`."))
            .attr(Attribute::number("threshold").optional().description("The value compared with (threshold rules), in the metric's unit (error_rate 0.05 = 5 %)."))
            .attr(Attribute::number("datapoints_to_alarm").optional().description("M: breaching periods among the last evaluation_periods that make the rule fire (threshold rules); 1 <= M <= N."))
            .attr(Attribute::number("evaluation_periods").optional().description("N: how many of the latest periods are looked at (threshold rules); at most 60."))
            .attr(Attribute::number("min_invocations").default(Value::Number(lfm_schema::alerts::DEFAULT_MIN_INVOCATIONS as f64)).description("A period with fewer invocations counts neither as breaching nor as ok (missing), so that one failed call of a rarely used function pages nobody."))
            .attr(Attribute::list_of("account_ids", AttrType::String).optional().validate(Validator::Each(Box::new(validators::ACCOUNT_ID))).description("Scope: accounts whose functions the rule applies to; unset or empty: all."))
            .attr(Attribute::list_of("regions", AttrType::String).optional().validate(Validator::Each(Box::new(validators::REGION))).description("Scope: regions; unset or empty: all."))
            .attr(Attribute::string("function_name_pattern").optional().description("Scope: function names matching this glob (`*` any run of characters, `?` one character); unset: all."))
            .attr(Attribute::list_of("runtimes", AttrType::String).optional().description("Scope: exact runtime identifiers (e.g. `python3.12`, `nodejs20.x`); unset or empty: all."))
            .attr(Attribute::string("severity").default(Value::string(model::DEFAULT_SEVERITY)).description("`critical`, `warning` or `info`: carried by every message of the rule."))
            .attr(Attribute::list_of("destination_ids", AttrType::String).optional().description("IDs of lfm_alert_destination resources to notify (e.g. `[lfm_alert_destination.oncall.id]`); each must be stored at the rule's opensearch_url and index_prefix. Unset or empty: alerts are recorded in the alerts index only."))
            .attr(Attribute::number("renotify_minutes").default(Value::Number(lfm_schema::alerts::DEFAULT_RENOTIFY_MINUTES as f64)).description("A function still firing is notified again after this many minutes; 0: never again until it resolves."))
            .attr(Attribute::list_of("regression_metrics", AttrType::String).optional().description("deploy_regression rules: which comparisons may fire, a subset of `error_rate`, `duration_p99_ms`, `cold_start_rate`, `cost_per_invocation_usd`; unset: all four."));
        let block = target::with_target(block, "alert rules");
        debug_assert_eq!(block.attributes.len(), model::attributes().len());
        // kind, comparison, severity, metric and the numbers are checked by validate_rule
        // (model::validate), not by attribute validators: one message, the collector's.
        debug_assert!(RULE_ATTRIBUTES.iter().all(|a| block.attributes.iter().any(|b| b.name == *a)));
        Schema { version: 0, block }
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        model::validate(config)
    }

    async fn modify_plan(&self, _ctx: &LfmContext, _prior: Option<&Value>, planned: Value) -> Result<Value, Diagnostics> {
        if planned.is_null() {
            return Ok(planned);
        }
        // Again, now that values unknown at validation (other resources' outputs) are known.
        let diags = model::validate(&planned);
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(model::plan(planned))
    }

    async fn create(&self, ctx: &LfmContext, planned: &Value) -> Result<Value, Diagnostics> {
        apply(ctx, planned).await
    }

    async fn read(&self, ctx: &LfmContext, current: &Value) -> Result<Option<Value>, Diagnostics> {
        let target = Target::from_value(current, RESOURCE)?;
        let name = current.get("name").as_str().unwrap_or_default();
        let docs = target::connect(ctx, &target, RESOURCE).await?;
        Ok(docs
            .get(&model::index(&target.index_prefix), name)
            .await?
            .map(|found| model::state_from_document(current, &target, &found)))
    }

    async fn update(&self, ctx: &LfmContext, _prior: &Value, planned: &Value) -> Result<Value, Diagnostics> {
        apply(ctx, planned).await
    }

    async fn delete(&self, ctx: &LfmContext, prior: &Value) -> Result<(), Diagnostics> {
        let target = Target::from_value(prior, RESOURCE)?;
        let docs = target::connect(ctx, &target, RESOURCE).await?;
        docs.delete(&model::index(&target.index_prefix), prior.get("name").as_str().unwrap_or_default()).await
    }

    async fn import(&self, _ctx: &LfmContext, id: &str) -> Result<Value, Diagnostics> {
        let parsed = target::parse_document_id(id).map_err(|why| {
            Diagnostics::error(
                format!("Invalid import ID for {RESOURCE}: {why}"),
                format!("The ID is OPENSEARCH_URL|INDEX_PREFIX|NAME, e.g. `terraform import {RESOURCE}.errors 'https://search.example.com|lfm|high-error-rate'`. Authentication comes from the configuration, or from {} / {}.", target::ENV_USERNAME, target::ENV_PASSWORD),
            )
        })?;
        let mut state = target::import_state(&model::attributes(), &parsed, &format!("{}|{}|{}", parsed.opensearch_url, parsed.index_prefix, parsed.name));
        model::import_defaults(&mut state);
        Ok(state)
    }
}

/// Create or update: the rule checked once more (values unknown at plan are known now), its
/// destinations found, the document written; the state is the plan.
async fn apply(ctx: &LfmContext, planned: &Value) -> Result<Value, Diagnostics> {
    let diags = model::validate(planned);
    if diags.has_errors() {
        return Err(diags);
    }
    let target = Target::from_value(planned, RESOURCE)?;
    let doc = model::document(planned, now()).ok_or_else(|| Diagnostics::error("The rule's attributes are still unknown at apply", "This is a provider bug."))?;
    let docs = target::connect(ctx, &target, RESOURCE).await?;
    let destinations = alert_destination::model::index(&target.index_prefix);
    for (i, name) in doc.destinations.iter().enumerate() {
        if docs.get(&destinations, name).await?.is_none() {
            return Err(Diagnostics::attribute_error(
                crate::framework::AttrPath::attr("destination_ids").then_index(i as i64),
                format!("Alert destination {name} does not exist"),
                format!("{destinations} has no document {name}: it was deleted outside Terraform, or its lfm_alert_destination is not applied yet. Apply the destination first (reference its id so that Terraform orders them)."),
            ));
        }
    }
    let index = model::index(&target.index_prefix);
    docs.ensure_template(&target.index_prefix, &index).await?;
    let json = serde_json::to_value(&doc).map_err(|e| Diagnostics::error("Cannot encode the rule document", e.to_string()))?;
    docs.put(&index, &doc.name, &json).await?;
    Ok(model::plan(planned.clone()))
}
