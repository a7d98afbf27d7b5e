//! What the identity Terraform runs as needs: its IAM actions, for the provider's docs.
//!
//! These are the Terraform caller's permissions, not the collector's: the collector's are
//! `lfm_schema::iam::COLLECTOR_ACTIONS`, which the monitoring role grants.

/// (action, where, why) for the provider's own identity (usually in the management account).
pub const CALLER_ACTIONS: &[(&str, &str)] = &[
    ("organizations:DescribeOrganization", "the organisation ID for `aws:PrincipalOrgID` when `organization_id` is not set; `lfm_organization_accounts`"),
    ("organizations:ListAccounts", "`lfm_organization_accounts` (only the management account or a delegated administrator may call it)"),
    ("ssm:DeleteParameter", "`lfm_alert_destination`: removes a webhook secret's parameter (`/lfm/INDEX_PREFIX/alert-destinations/*`)"),
    ("ssm:GetParameter", "`lfm_alert_destination`: reads a webhook secret back (drift, import)"),
    ("ssm:PutParameter", "`lfm_alert_destination`: keeps a webhook secret as a SecureString parameter"),
    ("sts:AssumeRole", "on the bootstrap role in each member account (`lfm_monitored_account`), and on `assume_role.role_arn` if set"),
    ("sts:GetCallerIdentity", "the partition of the role ARNs (`aws`, `aws-us-gov`, `aws-cn`)"),
];

/// What the bootstrap role in a member account must allow (`lfm_monitored_account`).
pub const BOOTSTRAP_ROLE_ACTIONS: &[&str] = &[
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:PutRolePolicy",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
];

/// The "Required permissions" section of `docs/index.md`.
pub fn permissions_markdown() -> String {
    let mut md = String::from(
        "## Required permissions\n\nThe identity Terraform runs as (the default credential chain, or `assume_role`), usually in the organisation's management account:\n\n",
    );
    for (action, why) in CALLER_ACTIONS {
        md.push_str(&format!("- `{action}`: {why}\n"));
    }
    md.push_str(
        "\nThe bootstrap role in each member account (`bootstrap_role_name`, by default `OrganizationAccountAccessRole`, which has administrator access) must trust that identity and allow:\n\n",
    );
    for action in BOOTSTRAP_ROLE_ACTIONS {
        md.push_str(&format!("- `{action}`\n"));
    }
    md.push_str(
        "\nThe LFM collector needs none of these: it assumes the monitoring role, whose inline policy (`lfm_permissions_policy`) allows only the read-only calls it makes.\n",
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_sorted_and_not_the_collectors() {
        let caller: Vec<&str> = CALLER_ACTIONS.iter().map(|(a, _)| *a).collect();
        for list in [&caller[..], BOOTSTRAP_ROLE_ACTIONS] {
            let mut sorted = list.to_vec();
            sorted.sort();
            assert_eq!(sorted, list);
        }
        for action in caller.iter().chain(BOOTSTRAP_ROLE_ACTIONS) {
            assert!(!lfm_schema::iam::COLLECTOR_ACTIONS.contains(action), "{action} is the caller's, not the collector's");
        }
    }
}
