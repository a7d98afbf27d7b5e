//! Resource `lfm_dashboard_bundle`: everything OpenSearch and OpenSearch Dashboards need to
//! show LFM's documents, from the one schema source (`lfm_schema`):
//!
//! - the index templates the collector also installs (same text), and their mappings put onto
//!   indices that already exist;
//! - retention: an ISM policy deleting old metrics indices where the ISM plugin answers
//!   (`retention_mode = "ism"`), otherwise `retention_mode = "collector"` (the collector deletes
//!   indices older than its own `retention_days`);
//! - the Dashboards saved objects (index patterns with stable IDs, visualisations, dashboards),
//!   imported with `POST api/saved_objects/_import?overwrite=true`.
//!
//! State keeps names, IDs and hashes, never the bundle (Terraform 1.0.x caps responses at
//! 4 MiB). Files: [`model`] (pure: target, hashes, plan), [`client`] (the calls, through the
//! one LFM OpenSearch client `lfm-opensearch`: authentication, timeouts, retries, errors).

pub mod client;
pub mod model;
#[cfg(test)]
mod tests;

use self::client::Client;
use self::model::{
    Auth, IsmMode, Target, ATTRIBUTES, BLOCKS, RETENTION_COLLECTOR, RETENTION_ISM, RETENTION_NONE,
};
use crate::lfm::{validators, LfmContext};
use crate::framework::{
    AttrPath, AttrType, Attribute, Block, Diagnostics, NestedBlock, Resource, Schema, Validator,
    Value,
};
use async_trait::async_trait;
use lfm_schema::dashboards::bundle;
use lfm_schema::contract::DEFAULT_INDEX_PREFIX;

pub struct DashboardBundle;

const HTTP_URL: Validator = Validator::Custom(model::http_url);

#[async_trait]
impl Resource<LfmContext> for DashboardBundle {
    fn type_name(&self) -> &'static str {
        "lfm_dashboard_bundle"
    }

    fn schema(&self) -> Schema {
        let sigv4 = Block::new("AWS Signature Version 4 with the provider's AWS credentials (Amazon OpenSearch Service or Serverless), for OpenSearch and Dashboards.")
            .attr(Attribute::string("service").default(Value::string("es")).validate(Validator::OneOf(&["es", "aoss"])).description("`es` for Amazon OpenSearch Service domains, `aoss` for OpenSearch Serverless collections."))
            .attr(Attribute::string("region").required().validate(validators::REGION).description("Region of the domain or collection."));
        let block = Block::new("The LFM index templates, retention and OpenSearch Dashboards saved objects (index patterns, visualisations, dashboards for fleet overview, errors and throttles, duration and timeouts, cold starts, memory, cost, runtimes, alerts and regressions), installed from the schema the collector writes by.")
            .attr(Attribute::string("id").computed().description("OPENSEARCH_URL|INDEX_PREFIX."))
            .attr(Attribute::string("opensearch_url").required().force_new().validate(HTTP_URL).description("Base URL of the OpenSearch cluster, e.g. https://search-lfm-abc.eu-west-1.es.amazonaws.com."))
            .attr(Attribute::string("dashboards_url").optional().validate(HTTP_URL).description("Base URL of OpenSearch Dashboards (e.g. https://search-lfm-abc.eu-west-1.es.amazonaws.com/_dashboards). Without it no saved objects are installed."))
            .attr(Attribute::string("index_prefix").default(Value::string(DEFAULT_INDEX_PREFIX)).force_new().validate(Validator::Custom(model::index_prefix)).description("Prefix of every LFM index and template; the same as the collector's."))
            .attr(Attribute::number("retention_days").optional().validate(Validator::IntRange { min: 1, max: 36_500 }).description("Delete metrics indices this many days old. Unset: keep everything."))
            .attr(Attribute::string("ism").default(Value::string("auto")).validate(Validator::OneOf(&["auto", "on", "off"])).description("Retention with an Index State Management policy: `auto` (when the ISM plugin answers, else left to the collector), `on` (required; fails without the plugin), `off` (always the collector)."))
            .attr(Attribute::string("username").optional().description("Basic authentication (the OpenSearch security plugin's internal users) for OpenSearch and Dashboards: user name. Set with password; not with sigv4. Attributes, not a block: Terraform 1.0.x crashes rendering diffs of blocks holding sensitive values."))
            .attr(Attribute::string("password").optional().sensitive().description("Basic authentication: password (sensitive)."))
            .attr(Attribute::number("request_timeout_seconds").default(Value::Number(30.0)).validate(Validator::IntRange { min: 1, max: 3600 }).description("Seconds one attempt of an OpenSearch or Dashboards request may take, answer included. The provider block's connect_timeout_seconds and operation_timeout_seconds (all attempts) bound these requests too."))
            .attr(Attribute::number("max_retries").default(Value::Number(3.0)).validate(Validator::IntRange { min: 0, max: 20 }).description("Retries of a request answered 429/502/503/504 or not answered (exponential backoff from 0.2 s), within the provider block's operation_timeout_seconds."))
            .attr(Attribute::list_of("template_names", AttrType::String).computed().description("Names of the index templates installed."))
            .attr(Attribute::map_of("template_hashes", AttrType::String).computed().description("SHA-256 of each installed template's canonical JSON; a template changed or deleted outside Terraform shows as a change."))
            .attr(Attribute::list_of("saved_object_ids", AttrType::String).computed().description("TYPE/ID of every saved object installed in Dashboards (index patterns, visualisations, dashboards), in import order."))
            .attr(Attribute::string("saved_objects_hash").computed().description("Content hash of the imported bundle; `incomplete` when objects were deleted outside Terraform, `edited` when they were changed inside Dashboards."))
            .attr(Attribute::string("saved_objects_fingerprint").computed().description("SHA-256 over the saved objects as Dashboards stores them (the attributes the bundle sets), read back after each import. An object edited inside Dashboards changes it: the next plan shows `saved_objects_hash` = `edited` and apply imports the bundle again."))
            .attr(Attribute::string("bundle_version").computed().description("Version of the dashboards bundle (the provider's version)."))
            .attr(Attribute::string("ism_policy_id").computed().description("ID of the ISM retention policy, when retention_mode is `ism`."))
            .attr(Attribute::string("retention_mode").computed().description("`ism`, `collector` (the collector deletes old indices: set its retention_days to the same value) or `none`."))
            .block(NestedBlock::single("sigv4", sigv4));
        debug_assert_eq!(block.attributes.len(), ATTRIBUTES.len());
        debug_assert_eq!(block.blocks.len(), BLOCKS.len());
        Schema { version: 0, block }
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        model::validate(config)
    }

    async fn modify_plan(
        &self,
        _ctx: &LfmContext,
        prior: Option<&Value>,
        planned: Value,
    ) -> Result<Value, Diagnostics> {
        if planned.is_null() {
            return Ok(planned);
        }
        // The cross-attribute checks again, now that values unknown at validation are known.
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
        let target = Target::from_value(current)?;
        let client = client(ctx, &target).await?;
        let mut state = current.clone();
        for attr in ATTRIBUTES.iter().chain(BLOCKS) {
            if matches!(state.get(attr), Value::Null) {
                state.set(attr, Value::Null);
            }
        }
        let templates = client.read_templates().await?;
        let expected_objects: Vec<String> = match state.get("saved_object_ids") {
            Value::List(ids) if !ids.is_empty() => state.get("saved_object_ids").strings(),
            _ if target.dashboards_url.is_some() => bundle(&target.index_prefix)
                .objects
                .iter()
                .map(|o| o.key())
                .collect(),
            _ => Vec::new(),
        };
        let (existing, stored) = client.existing_saved_objects(&expected_objects).await?;
        if templates.is_empty() && existing.is_empty() {
            return Ok(None);
        }
        state.set(
            "template_names",
            Value::string_list(templates.keys().cloned()),
        );
        state.set(
            "template_hashes",
            Value::Map(
                templates
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ),
        );
        if target.dashboards_url.is_some() {
            let complete = existing.len() == expected_objects.len();
            let fingerprint =
                model::saved_objects_fingerprint(&bundle(&target.index_prefix), &stored);
            let edited = matches!(state.get("saved_objects_fingerprint").as_str(), Some(f) if f != fingerprint);
            let hash = match (complete, state.get("saved_objects_hash").as_str()) {
                (false, _) => Value::string("incomplete"),
                (true, _) if edited => Value::string(model::SAVED_OBJECTS_EDITED),
                (true, Some(h)) => Value::string(h),
                (true, None) => Value::string(bundle(&target.index_prefix).content_hash),
            };
            state.set("saved_objects_hash", hash);
            state.set("saved_object_ids", Value::string_list(existing));
            if state.get("saved_objects_fingerprint").is_null() {
                // After an import, or from a provider version without it: taken as found.
                state.set("saved_objects_fingerprint", Value::string(fingerprint));
            }
        } else {
            state.set("saved_object_ids", Value::List(Vec::new()));
            state.set("saved_objects_hash", Value::Null);
            state.set("saved_objects_fingerprint", Value::Null);
        }
        let policy = model::ism_policy_id(&target.index_prefix);
        match state.get("retention_mode").as_str() {
            Some(RETENTION_ISM) => {
                if !client.ism_policy_exists(&policy).await? {
                    state.set("ism_policy_id", Value::Null);
                }
            }
            Some(_) => {}
            None => {
                // After an import: what retention is in place.
                let ism =
                    client.ism_available().await? && client.ism_policy_exists(&policy).await?;
                state.set(
                    "retention_mode",
                    Value::string(if ism { RETENTION_ISM } else { RETENTION_NONE }),
                );
                state.set(
                    "ism_policy_id",
                    if ism {
                        Value::string(policy)
                    } else {
                        Value::Null
                    },
                );
            }
        }
        if state.get("bundle_version").is_null() {
            // After an import: the objects found are taken as this provider's bundle.
            state.set(
                "bundle_version",
                Value::string(lfm_schema::dashboards::BUNDLE_VERSION),
            );
        }
        state.set(
            "id",
            Value::string(model::resource_id(
                &target.opensearch_url,
                &target.index_prefix,
            )),
        );
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &LfmContext,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        apply(ctx, Some(prior), planned).await
    }

    async fn delete(&self, ctx: &LfmContext, prior: &Value) -> Result<(), Diagnostics> {
        let target = Target::from_value(prior)?;
        let client = client(ctx, &target).await?;
        client
            .delete_saved_objects(&prior.get("saved_object_ids").strings())
            .await?;
        if let Some(policy) = prior.get("ism_policy_id").as_str() {
            client.delete_ism_policy(policy).await?;
        }
        // Templates only: data indices are the user's and stay.
        client.delete_templates().await
    }

    async fn import(&self, _ctx: &LfmContext, id: &str) -> Result<Value, Diagnostics> {
        let (url, prefix, dashboards) = model::parse_import_id(id)?;
        Ok(model::import_state(&url, &prefix, dashboards.as_deref()))
    }
}

async fn client(ctx: &LfmContext, target: &Target) -> Result<Client, Diagnostics> {
    let credentials = match target.auth {
        Auth::SigV4 { .. } => Some(ctx.aws()?.credentials().await.map_err(|e| {
            Diagnostics::attribute_error(
                AttrPath::attr("sigv4"),
                "No AWS credentials to sign OpenSearch requests with",
                format!("{e}. Configure the provider's AWS credentials (environment, profile or assume_role), or use username/password."),
            )
        })?),
        _ => None,
    };
    // The provider block's timeouts bound OpenSearch calls too (defaults before configuration).
    let timeouts = ctx.configured().map(|aws| aws.timeouts()).unwrap_or(lfm_aws::Timeouts::DEFAULT);
    Client::new(target, credentials, timeouts)
}

/// Create or update: templates, retention, saved objects; returns the new state.
async fn apply(
    ctx: &LfmContext,
    prior: Option<&Value>,
    planned: &Value,
) -> Result<Value, Diagnostics> {
    let target = Target::from_value(planned)?;
    let client = client(ctx, &target).await?;
    client.put_templates().await?;

    let policy = model::ism_policy_id(&target.index_prefix);
    let prior_policy = prior.and_then(|p| p.get("ism_policy_id").as_str().map(str::to_owned));
    let mode = match (target.retention_days, target.ism) {
        (None, _) => RETENTION_NONE,
        (Some(_), IsmMode::Off) => RETENTION_COLLECTOR,
        (Some(_), IsmMode::On) => {
            if !client.ism_available().await? {
                return Err(Diagnostics::attribute_error(
                    AttrPath::attr("ism"),
                    "The OpenSearch cluster has no Index State Management plugin",
                    format!("GET {}/_plugins/_ism/policies is not served. Set ism = \"auto\" or \"off\" to leave retention to the collector (set its retention_days too), or install the ISM plugin.", target.opensearch_url),
                ));
            }
            RETENTION_ISM
        }
        (Some(_), IsmMode::Auto) => {
            if client.ism_available().await? {
                RETENTION_ISM
            } else {
                RETENTION_COLLECTOR
            }
        }
    };
    if mode == RETENTION_ISM {
        client
            .put_ism_policy(&policy, target.retention_days.unwrap_or(1))
            .await?;
    } else if let Some(old) = prior_policy {
        client.delete_ism_policy(&old).await?;
    }

    // Saved objects: a removed or moved Dashboards loses what this resource put there.
    if let Some(prior) = prior {
        let prior_target = Target::from_value(prior)?;
        if prior_target.dashboards_url.is_some()
            && prior_target.dashboards_url != target.dashboards_url
        {
            let old = self::client(ctx, &prior_target).await?;
            old.delete_saved_objects(&prior.get("saved_object_ids").strings())
                .await?;
        }
    }
    let b = bundle(&target.index_prefix);
    let fingerprint = if target.dashboards_url.is_some() {
        client.import_saved_objects(&b).await?;
        let keys: Vec<String> = b.objects.iter().map(|o| o.key()).collect();
        let (_, stored) = client.existing_saved_objects(&keys).await?;
        Value::string(model::saved_objects_fingerprint(&b, &stored))
    } else {
        Value::Null
    };

    let mut planned = planned.clone();
    planned.set("retention_mode", Value::Unknown);
    let mut state = model::plan(planned, None);
    state.set("retention_mode", Value::string(mode));
    state.set(
        "ism_policy_id",
        if mode == RETENTION_ISM {
            Value::string(policy)
        } else {
            Value::Null
        },
    );
    state.set("saved_objects_fingerprint", fingerprint);
    let installed = client.read_templates().await?;
    state.set(
        "template_names",
        Value::string_list(installed.keys().cloned()),
    );
    state.set(
        "template_hashes",
        Value::Map(
            installed
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
    );
    Ok(state)
}
