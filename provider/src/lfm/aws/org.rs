//! The organisation the provider's credentials belong to: `organizations:DescribeOrganization`
//! (its ID for the `aws:PrincipalOrgID` condition, its management account) and
//! `organizations:ListAccounts` (its accounts, every page).

use super::session::{Aws, AwsError};
use tokio::sync::OnceCell;
use crate::framework::{AttrPath, Diagnostics};

/// What DescribeOrganization tells LFM.
#[derive(Clone, Debug, PartialEq)]
pub struct Organization {
    /// `o-...`
    pub id: String,
    pub management_account_id: String,
}

/// An account as ListAccounts returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgAccount {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub email: String,
    /// The account's `State` (ACTIVE, SUSPENDED, PENDING_ACTIVATION, PENDING_CLOSURE,
    /// CLOSED), or its older `Status` where the API returns no state: AWS retires `Status`
    /// on 2026-09-09, and both share the values ACTIVE, SUSPENDED and PENDING_CLOSURE.
    pub status: String,
    /// INVITED or CREATED.
    pub joined_method: String,
}

/// The organisation, looked up once into `cached` (the provider context keeps one per
/// provider run: `crate::lfm::LfmContext::organization`). Errors name `attribute`, the
/// argument that would avoid the lookup, or say which permission is missing.
pub async fn organization(aws: &Aws, cached: &OnceCell<Organization>, attribute: &str) -> Result<Organization, Diagnostics> {
    cached
        .get_or_try_init(|| async {
            let out = aws.organizations().describe_organization().send().await.map_err(AwsError::from_sdk)?;
            let org = out.organization();
            let id = org.and_then(|o| o.id()).unwrap_or_default();
            if id.is_empty() {
                return Err(AwsError { code: None, message: "DescribeOrganization returned no organization ID".into() });
            }
            Ok(Organization {
                id: id.to_owned(),
                management_account_id: org.and_then(|o| o.master_account_id()).unwrap_or_default().to_owned(),
            })
        })
        .await
        .cloned()
        .map_err(|e| lookup_error(&e, attribute))
}

/// Every account of the organisation, all pages of ListAccounts (`page_size`: the API's
/// MaxResults, `None` for its default of 20).
pub async fn list_accounts(aws: &Aws, page_size: Option<i32>) -> Result<Vec<OrgAccount>, Diagnostics> {
    let pages: Vec<_> = aws
        .organizations()
        .list_accounts()
        .set_max_results(page_size)
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| list_error(&AwsError::from_sdk(e)))?;
    Ok(pages
        .iter()
        .flat_map(|page| page.accounts())
        .map(|a| OrgAccount {
            id: a.id().unwrap_or_default().to_owned(),
            arn: a.arn().unwrap_or_default().to_owned(),
            name: a.name().unwrap_or_default().to_owned(),
            email: a.email().unwrap_or_default().to_owned(),
            status: match (a.state(), legacy_status(a)) {
                (Some(state), _) => state.as_str().to_owned(),
                (None, Some(status)) => status,
                (None, None) => String::new(),
            },
            joined_method: a.joined_method().map(|m| m.as_str().to_owned()).unwrap_or_default(),
        })
        .collect())
}

#[allow(deprecated)] // `Status` is read only where the API returns no `State`.
fn legacy_status(a: &aws_sdk_organizations::types::Account) -> Option<String> {
    a.status().map(|s| s.as_str().to_owned())
}

fn lookup_error(e: &AwsError, attribute: &str) -> Diagnostics {
    let fix = match e.code.as_deref() {
        Some("AWSOrganizationsNotInUseException") => {
            "The provider's credentials belong to an account that is not in an AWS Organization. Run the provider with credentials of the organisation's management account (or a member account), or set `organization_id`."
        }
        Some("AccessDeniedException") | Some("AccessDenied") => {
            "The provider's credentials may not call organizations:DescribeOrganization. Grant it, or set `organization_id` (o-...) explicitly."
        }
        _ => "Or set `organization_id` (o-...) explicitly.",
    };
    Diagnostics::attribute_error(
        AttrPath::attr(attribute),
        "Could not look up the AWS Organization ID",
        format!("{e}.\n{fix}"),
    )
}

fn list_error(e: &AwsError) -> Diagnostics {
    let fix = match e.code.as_deref() {
        Some("AWSOrganizationsNotInUseException") => {
            "The provider's credentials belong to an account that is not in an AWS Organization."
        }
        Some("AccessDeniedException") | Some("AccessDenied") => {
            "Only the organisation's management account, or a member account registered as a delegated administrator, may list its accounts, and the provider's identity needs organizations:ListAccounts and organizations:DescribeOrganization. Run Terraform with such credentials (the provider's assume_role block can switch to a role in the management account)."
        }
        _ => "",
    };
    let detail = if fix.is_empty() { format!("{e}.") } else { format!("{e}.\n{fix}") };
    Diagnostics::error("Could not list the organisation's accounts", detail)
}
