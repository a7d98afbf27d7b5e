//! Resource `lfm_alert_destination`: where the collector sends alerts, an SNS topic or a
//! webhook, as an `AlertDestinationDocument` in `{prefix}-alert-destinations` (`_id` = name)
//! that the collector reads at each run. A webhook's HMAC secret goes into an SSM SecureString
//! parameter (`/lfm/{prefix}/alert-destinations/{name}/webhook-secret`) whose name the document
//! carries; the document never holds the secret.
//!
//! Files: [`model`] (pure: checks, plan, document, state from a document), [`secret`] (SSM),
//! the OpenSearch connection in `crate::lfm::opensearch_target`. Import ID:
//! `OPENSEARCH_URL|INDEX_PREFIX|NAME` (the resource's `id`).

pub mod model;
pub mod secret;
#[cfg(test)]
mod tests;

use self::model::{FoundSecret, ATTRIBUTES, FORMATS, RESOURCE};
use crate::framework::{Attribute, Block, Diagnostics, Resource, Schema, Validator, Value};
use crate::lfm::opensearch_target::{self as target, Target};
use crate::lfm::LfmContext;
use async_trait::async_trait;
use lfm_schema::alerts::AlertDestinationDocument;

pub struct AlertDestination;

#[async_trait]
impl Resource<LfmContext> for AlertDestination {
    fn type_name(&self) -> &'static str {
        RESOURCE
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Where the LFM collector sends alerts: an SNS topic, or a webhook (HTTPS; an optional secret signs each message with HMAC-SHA256). Stored as a document in the `INDEX_PREFIX-alert-destinations` index that the collector reads at each run; a webhook secret goes into an SSM SecureString parameter, never into the document. Rules (lfm_alert_rule) name destinations by `id`.")
            .attr(Attribute::string("id").computed().description("OPENSEARCH_URL|INDEX_PREFIX|NAME: what lfm_alert_rule's destination_ids take, and the import ID."))
            .attr(Attribute::string("name").required().force_new().validate(Validator::Custom(model::destination_name)).description("Name of the destination: the document's ID, shown in alert records. 1 to 64 lowercase letters, digits, `_` or `-`."))
            .attr(Attribute::string("sns_topic_arn").optional().validate(Validator::Custom(model::sns_topic_arn)).description("ARN of the SNS topic the collector publishes to (arn:PARTITION:sns:REGION:ACCOUNT_ID:TOPIC_NAME; a FIFO topic gets the idempotency key as MessageDeduplicationId). Exactly one of sns_topic_arn and webhook_url. Give `topic_arn` to lfm_collector's alert_sns_topic_arns so that the collector may publish."))
            .attr(Attribute::string("webhook_url").optional().validate(Validator::Custom(model::webhook_url)).description("URL the collector POSTs each alert to: https://, or http:// to a loopback host (localhost, 127.0.0.0/8, [::1]) only. Exactly one of sns_topic_arn and webhook_url."))
            .attr(Attribute::string("webhook_secret").optional().sensitive().description("Secret of the X-LFM-Signature-256 header (sha256=HEX of HMAC-SHA256(secret, \"TIMESTAMP.BODY\")), webhooks only; sensitive. Kept in the SSM SecureString parameter `secret_parameter_name`; give `secret_parameter_arn` to lfm_collector's alert_secret_parameter_arns so that the collector may read it."))
            .attr(Attribute::string("webhook_format").default(Value::string(model::DEFAULT_FORMAT)).validate(Validator::OneOf(FORMATS)).description("Body of a webhook message: `json` (LFM's notification JSON; the collector's default) or `slack` (a Slack-compatible `{\"text\": ..., \"blocks\": [...]}`). Webhooks only (an SNS destination keeps the default)."));
        let block = target::with_target(block, "alert destinations")
            .attr(Attribute::string("secret_parameter_name").computed().description("Name of the SSM SecureString parameter holding webhook_secret (/lfm/INDEX_PREFIX/alert-destinations/NAME/webhook-secret); null without a secret."))
            .attr(Attribute::string("secret_parameter_arn").computed().description("ARN of that parameter, for lfm_collector's alert_secret_parameter_arns; null without a secret."))
            .attr(Attribute::string("topic_arn").computed().description("sns_topic_arn as stored, for lfm_collector's alert_sns_topic_arns; null for a webhook."));
        debug_assert_eq!(block.attributes.len(), ATTRIBUTES.len());
        Schema { version: 0, block }
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        model::validate(config)
    }

    async fn modify_plan(&self, _ctx: &LfmContext, prior: Option<&Value>, planned: Value) -> Result<Value, Diagnostics> {
        if planned.is_null() {
            return Ok(planned);
        }
        // Again, now that values unknown at validation (other resources' outputs) are known.
        let diags = model::validate(&planned);
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(model::plan(planned, prior))
    }

    async fn create(&self, ctx: &LfmContext, planned: &Value) -> Result<Value, Diagnostics> {
        apply(ctx, None, planned).await
    }

    async fn read(&self, ctx: &LfmContext, current: &Value) -> Result<Option<Value>, Diagnostics> {
        let target = Target::from_value(current, RESOURCE)?;
        let name = current.get("name").as_str().unwrap_or_default().to_owned();
        let docs = target::connect(ctx, &target, RESOURCE).await?;
        let Some(source) = docs.get(&model::index(&target.index_prefix), &name).await? else {
            return Ok(None);
        };
        let doc: AlertDestinationDocument = serde_json::from_value(source).map_err(|e| {
            Diagnostics::error(
                format!("The document of alert destination {name} is not a destination"),
                format!("{}/_doc/{name} does not read as an alert destination ({e}); it was changed outside Terraform. Delete it, or run terraform apply to write it again.", model::index(&target.index_prefix)),
            )
        })?;
        let secret = match &doc.secret_parameter {
            Some(parameter) => Some(secret::read(ctx.aws()?, parameter).await?),
            None => None,
        };
        Ok(Some(model::state_from_document(current, &target, &doc, secret.as_ref())))
    }

    async fn update(&self, ctx: &LfmContext, prior: &Value, planned: &Value) -> Result<Value, Diagnostics> {
        apply(ctx, Some(prior), planned).await
    }

    async fn delete(&self, ctx: &LfmContext, prior: &Value) -> Result<(), Diagnostics> {
        let target = Target::from_value(prior, RESOURCE)?;
        let name = prior.get("name").as_str().unwrap_or_default();
        let docs = target::connect(ctx, &target, RESOURCE).await?;
        // The document first: the collector stops using the destination before its secret goes.
        docs.delete(&model::index(&target.index_prefix), name).await?;
        match prior.get("secret_parameter_name").as_str() {
            Some(parameter) => secret::delete(ctx.aws()?, parameter).await,
            None => Ok(()),
        }
    }

    async fn import(&self, _ctx: &LfmContext, id: &str) -> Result<Value, Diagnostics> {
        let parsed = target::parse_document_id(id).map_err(|why| {
            Diagnostics::error(
                format!("Invalid import ID for {RESOURCE}: {why}"),
                format!("The ID is OPENSEARCH_URL|INDEX_PREFIX|NAME, e.g. `terraform import {RESOURCE}.oncall 'https://search.example.com|lfm|oncall'`. Authentication comes from the configuration, or from {} / {}.", target::ENV_USERNAME, target::ENV_PASSWORD),
            )
        })?;
        Ok(target::import_state(ATTRIBUTES, &parsed, &format!("{}|{}|{}", parsed.opensearch_url, parsed.index_prefix, parsed.name)))
    }
}

/// Create or update: the secret (or its removal), then the document; returns the new state.
async fn apply(ctx: &LfmContext, prior: Option<&Value>, planned: &Value) -> Result<Value, Diagnostics> {
    let target = Target::from_value(planned, RESOURCE)?;
    let name = planned.get("name").as_str().unwrap_or_default().to_owned();
    let docs = target::connect(ctx, &target, RESOURCE).await?;
    let aws = ctx.aws()?;
    let wanted = model::secret_parameter_name(&target.index_prefix, &name);
    let secret = match planned.get("webhook_secret").as_str() {
        Some(value) => {
            let arn = secret::put(aws, &wanted, value, &name).await?;
            Some(FoundSecret { name: wanted.clone(), value_and_arn: Some((value.to_owned(), arn)) })
        }
        None => None,
    };
    let index = model::index(&target.index_prefix);
    let doc = model::document(planned, secret.as_ref().map(|s| s.name.clone()), now());
    docs.ensure_template(&target.index_prefix, &index).await?;
    let json = serde_json::to_value(&doc).map_err(|e| Diagnostics::error("Cannot encode the destination document", e.to_string()))?;
    docs.put(&index, &name, &json).await?;
    if let (None, Some(old)) = (&secret, prior.and_then(|p| p.get("secret_parameter_name").as_str())) {
        // A secret removed from the configuration: its parameter goes once the document no
        // longer names it.
        secret::delete(aws, old).await?;
    }
    Ok(model::state_from_document(planned, &target, &doc, secret.as_ref()))
}

/// RFC 3339 UTC, seconds precision: `updated_at` of the documents.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
