//! Data source `lfm_permissions_policy`: the monitoring role's inline permissions policy
//! (exactly the actions the collector calls, from `lfm_schema::iam`), for roles created by
//! other means. Pure: no AWS call, works before the provider's credentials are known.

use crate::lfm::{content_id, LfmContext};
use crate::framework::{AttrType, Attribute, Block, DataSource, Diagnostics, Schema, Value};
use async_trait::async_trait;
use lfm_schema::iam::{permissions_policy, COLLECTOR_ACTIONS, PERMISSIONS_POLICY_NAME};

pub struct PermissionsPolicy;

#[async_trait]
impl DataSource<LfmContext> for PermissionsPolicy {
    fn type_name(&self) -> &'static str {
        "lfm_permissions_policy"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("The least-privilege inline policy LFM puts on a monitoring role: allows exactly the read-only calls the collector makes in a member account. Use it for monitoring roles created by other means (CloudFormation StackSets, another module); `lfm_monitored_account` puts the same policy on the roles it manages. Makes no AWS call.")
                .attr(Attribute::string("id").computed().description("A hash of the policy document; changes whenever the document does."))
                .attr(Attribute::string("policy_name").computed().description(&format!("Name LFM gives the inline policy on the role (`{PERMISSIONS_POLICY_NAME}`)."))) 
                .attr(Attribute::list_of("actions", AttrType::String).computed().description("The IAM actions the policy allows, sorted (e.g. `lambda:ListFunctions`). Grows when a new collector version calls more APIs."))
                .attr(Attribute::string("json").computed().description("The policy document as JSON, for `aws_iam_role_policy.policy` or `aws_iam_policy.policy`.")),
        }
    }

    async fn read(&self, _ctx: &LfmContext, config: &Value) -> Result<Value, Diagnostics> {
        let mut out = config.clone();
        let json = permissions_policy().to_string();
        out.set("id", Value::string(content_id(&json)));
        out.set("policy_name", Value::string(PERMISSIONS_POLICY_NAME));
        out.set("actions", Value::string_list(COLLECTOR_ACTIONS.iter().copied()));
        out.set("json", Value::String(json));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_the_collector_policy_without_aws() {
        let config = Value::object([("id", Value::Null), ("policy_name", Value::Null), ("actions", Value::Null), ("json", Value::Null)]);
        let out = PermissionsPolicy.read(&LfmContext::deferred("region"), &config).await.unwrap();
        let doc: serde_json::Value = serde_json::from_str(out.get("json").as_str().unwrap()).unwrap();
        assert_eq!(doc, permissions_policy());
        assert_eq!(out.get("actions").strings(), COLLECTOR_ACTIONS);
        assert_eq!(out.get("policy_name").as_str(), Some(PERMISSIONS_POLICY_NAME));
        assert_eq!(out.get("id").as_str().unwrap().len(), 16);
    }
}
