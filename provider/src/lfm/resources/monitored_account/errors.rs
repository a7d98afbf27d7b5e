//! Diagnostics for `lfm_monitored_account`: what failed, in which account and role, what to do.

use super::model::RoleKey;
use crate::framework::{AttrPath, Diagnostics};
use crate::lfm::aws::AwsError;

/// Assuming the bootstrap role (`bootstrap_arn`) failed.
pub fn assume_error(bootstrap_arn: &str, key: &RoleKey, e: &AwsError) -> Diagnostics {
    let fix = match e.code.as_deref() {
        Some("AccessDenied") => format!(
            "The role {bootstrap_arn} must exist in account {account} and its trust policy must allow the identity Terraform runs as to call sts:AssumeRole (accounts created by AWS Organizations have OrganizationAccountAccessRole trusting the management account). If the account uses another role for administration, set bootstrap_role_name.",
            account = key.account_id
        ),
        // The error's own sentence says what to do (credentials, endpoint, timeout).
        _ => String::new(),
    };
    let detail = format!("Assuming {bootstrap_arn} failed: {e}.");
    let detail = if fix.is_empty() { detail } else { format!("{detail}\n{fix}") };
    // Only a denied AssumeRole is about bootstrap_role_name; no credentials or an unreachable
    // STS are not.
    if e.is("AccessDenied") {
        Diagnostics::attribute_error(AttrPath::attr("bootstrap_role_name"), format!("Cannot assume the bootstrap role in account {}", key.account_id), detail)
    } else {
        Diagnostics::error(format!("Cannot assume the bootstrap role in account {}", key.account_id), detail)
    }
}

/// An IAM call on the monitoring role failed; `action` completes "Could not ... role".
pub fn iam_error(action: &str, key: &RoleKey, e: &AwsError) -> Diagnostics {
    let role = format!("{} in account {}", key.role_name, key.account_id);
    let (attribute, fix) = match e.code.as_deref() {
        Some("EntityAlreadyExists") => (
            Some("role_name"),
            format!(
                "A role with this name already exists. Bring it under Terraform with `terraform import <address> {}`, or choose another role_name.",
                key.id()
            ),
        ),
        Some("MalformedPolicyDocument") => (
            Some("monitoring_principal_arns"),
            "IAM rejected the policy. Every ARN in monitoring_principal_arns must name an existing role, user or account root.".to_owned(),
        ),
        Some("AccessDenied") => (
            Some("bootstrap_role_name"),
            format!(
                "The bootstrap role {} may not manage IAM roles in this account; it needs iam:GetRole, iam:CreateRole, iam:TagRole, iam:UpdateAssumeRolePolicy, iam:GetRolePolicy, iam:PutRolePolicy, iam:List*RolePolicies, iam:DeleteRolePolicy, iam:DetachRolePolicy, iam:DeleteRole.",
                key.bootstrap_role_name
            ),
        ),
        Some("LimitExceeded") => (None, "The account has reached an IAM quota (roles or policy size); remove unused roles or request a higher quota.".to_owned()),
        Some("DeleteConflict") => (None, "Something still uses the role; remove it (e.g. instance profiles, permission boundaries) and retry.".to_owned()),
        _ => (None, String::new()),
    };
    let summary = format!("Could not {action} role {role}");
    let detail = if fix.is_empty() { format!("{e}.") } else { format!("{e}.\n{fix}") };
    match attribute {
        Some(a) => Diagnostics::attribute_error(AttrPath::attr(a), summary, detail),
        None => Diagnostics::error(summary, detail),
    }
}
