//! Data source `lfm_trust_policy`: the monitoring role's trust policy as JSON, for accounts
//! whose role is created by other means (CloudFormation StackSets, another module).

use crate::lfm::validators::{self, AT_LEAST_ONE_PRINCIPAL, EXTERNAL_ID, ORGANIZATION_ID};
use crate::lfm::{content_id, LfmContext};
use crate::framework::{AttrType, Attribute, Block, DataSource, Diagnostics, Schema, Validator, Value};
use async_trait::async_trait;
use lfm_schema::iam::trust_policy;

pub struct TrustPolicy;

#[async_trait]
impl DataSource<LfmContext> for TrustPolicy {
    fn type_name(&self) -> &'static str {
        "lfm_trust_policy"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("The trust policy LFM puts on a monitoring role, as JSON.")
                .attr(Attribute::string("id").computed().description("A hash of the document."))
                .attr(Attribute::list_of("monitoring_principal_arns", AttrType::String).required()
                    .validate(Validator::Each(Box::new(validators::ARN)))
                    .validate(AT_LEAST_ONE_PRINCIPAL)
                    .description("ARNs of the principals allowed to assume the role."))
                .attr(Attribute::string("organization_id").optional().computed().validate(ORGANIZATION_ID).description("Organisation the principals must belong to. Default: the organisation of the provider's credentials."))
                .attr(Attribute::string("external_id").optional().sensitive().validate(EXTERNAL_ID).description("External ID the collector must pass (sts:ExternalId)."))
                .attr(Attribute::string("json").computed().sensitive().description("The trust policy document. Sensitive because it contains external_id; wrap it in nonsensitive() to print it when no external ID is set.")),
        }
    }

    async fn read(&self, ctx: &LfmContext, config: &Value) -> Result<Value, Diagnostics> {
        if let Some(aws) = ctx.configured() {
            let foreign = crate::lfm::contract::principals_in_partition(config, "monitoring_principal_arns", aws.region());
            if foreign.has_errors() {
                return Err(foreign);
            }
        }
        let inputs = Inputs::decode(config);
        let mut out = config.clone();
        let organization_id = match inputs.organization_id {
            Some(id) => id,
            None => ctx.organization_id("organization_id").await?,
        };
        let json = trust_policy(&inputs.monitoring_principal_arns, Some(&organization_id), inputs.external_id.as_deref()).to_string();
        out.set("organization_id", Value::String(organization_id));
        out.set("id", Value::String(content_id(&json)));
        out.set("json", Value::String(json));
        Ok(out)
    }
}

/// The data source's configuration, decoded once.
#[derive(Clone, Debug, PartialEq)]
pub struct Inputs {
    pub monitoring_principal_arns: Vec<String>,
    /// `None`: the organisation of the provider's credentials.
    pub organization_id: Option<String>,
    pub external_id: Option<String>,
}

impl Inputs {
    /// From the configuration (known when Terraform reads a data source).
    pub fn decode(config: &Value) -> Inputs {
        Inputs {
            monitoring_principal_arns: config.get("monitoring_principal_arns").strings(),
            organization_id: config.get("organization_id").as_str().map(str::to_owned),
            external_id: config.get("external_id").as_str().map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lfm::LfmContext;

    #[tokio::test]
    async fn renders_the_trust_policy_without_aws_when_organization_is_given() {
        let config = Value::object([
            ("id", Value::Null),
            ("monitoring_principal_arns", Value::string_list(["arn:aws:iam::123456789012:role/lfm-collector"])),
            ("organization_id", Value::string("o-abc123defg")),
            ("external_id", Value::string("ext-1")),
            ("json", Value::Null),
        ]);
        let ctx = LfmContext::deferred("test");
        let out = TrustPolicy.read(&ctx, &config).await.unwrap();
        let doc: serde_json::Value = serde_json::from_str(out.get("json").as_str().unwrap()).unwrap();
        let cond = &doc["Statement"][0]["Condition"]["StringEquals"];
        assert_eq!(cond["aws:PrincipalOrgID"], "o-abc123defg");
        assert_eq!(cond["sts:ExternalId"], "ext-1");
        assert_eq!(out.get("id").as_str().unwrap().len(), 16);
        assert_eq!(TrustPolicy.read(&ctx, &config).await.unwrap(), out, "stable id");
    }

    #[tokio::test]
    async fn organization_lookup_needs_a_configured_provider() {
        let config = Value::object([
            ("monitoring_principal_arns", Value::string_list(["arn:aws:iam::123456789012:root"])),
            ("organization_id", Value::Null),
        ]);
        let err = TrustPolicy.read(&LfmContext::deferred("region"), &config).await.unwrap_err();
        assert!(err.has_errors());
    }
}
