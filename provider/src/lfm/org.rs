//! The organisation the provider's credentials belong to (`organizations:DescribeOrganization`),
//! used for the `aws:PrincipalOrgID` condition when `organization_id` is not configured.

use super::aws::{Aws, AwsError};
use crate::framework::{AttrPath, Diagnostics};

/// The organisation ID (`o-...`), looked up once per provider run.
/// Errors point at `attribute` (the resource's `organization_id`) and say how to avoid the lookup.
pub async fn organization_id(aws: &Aws, attribute: &str) -> Result<String, Diagnostics> {
    aws.organization_id
        .get_or_try_init(|| async {
            let out = aws.organizations().describe_organization().send().await.map_err(AwsError::from_sdk)?;
            out.organization()
                .and_then(|o| o.id())
                .map(str::to_owned)
                .ok_or_else(|| AwsError { code: None, message: "DescribeOrganization returned no organization ID".into() })
        })
        .await
        .cloned()
        .map_err(|e| lookup_error(&e, attribute))
}

fn lookup_error(e: &AwsError, attribute: &str) -> Diagnostics {
    let fix = match e.code.as_deref() {
        Some("AWSOrganizationsNotInUseException") => {
            "The provider's credentials belong to an account that is not in an AWS Organization. Run the provider with credentials of the organisation's management account (or a member account), or set `organization_id`."
        }
        Some("AccessDeniedException") | Some("AccessDenied") => {
            "The provider's credentials may not call organizations:DescribeOrganization. Grant it, or set `organization_id` (o-...) explicitly."
        }
        _ => "Check the provider's credentials and the `endpoints.organizations` setting, or set `organization_id` (o-...) explicitly.",
    };
    Diagnostics::attribute_error(
        AttrPath::attr(attribute),
        "Could not look up the AWS Organization ID",
        format!("DescribeOrganization failed: {e}.\n{fix}"),
    )
}
