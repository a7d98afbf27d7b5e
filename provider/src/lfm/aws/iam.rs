//! The monitoring role's IAM operations, on an IAM client of the member account.
//!
//! Documents go in as JSON strings and come back URL-decoded (IAM returns them percent-encoded).
//! "Not found" is part of the answer, not an error: read returns `None`, delete succeeds.

use super::session::AwsError;
use super::retry::{is_iam_propagation_error, retry, RetryPolicy};
use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use lfm_schema::iam::PERMISSIONS_POLICY_NAME;

/// The role as IAM has it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleState {
    pub arn: String,
    /// Trust policy, decoded.
    pub trust_policy: String,
    /// The LFM inline policy, decoded; `None` when it was removed.
    pub permissions_policy: Option<String>,
    /// Policies on the role that are not the LFM inline policy (added outside Terraform).
    pub extra: ExtraPolicies,
}

/// What a role carries besides its one managed inline policy: the names of the other inline
/// policies and the ARNs of the attached managed policies, each sorted. A role that promises
/// exactly one set of permissions must carry none of these.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExtraPolicies {
    pub inline_policy_names: Vec<String>,
    pub attached_policy_arns: Vec<String>,
}

impl ExtraPolicies {
    pub fn is_empty(&self) -> bool {
        self.inline_policy_names.is_empty() && self.attached_policy_arns.is_empty()
    }
}

const NOT_FOUND: &str = "NoSuchEntity";
const DESCRIPTION: &str = "Assumed by the LFM collector to list Lambda functions and read their metrics. Managed by Terraform (lfm_monitored_account).";

/// Create the role with its trust policy and inline permissions policy; returns the role ARN.
/// If the inline policy cannot be put, the role is deleted again so nothing half-made remains.
/// `policy` bounds the retries of IAM's eventual consistency.
pub async fn create_role(iam: &Client, name: &str, trust_policy: &str, permissions_policy: &str, policy: RetryPolicy) -> Result<String, AwsError> {
    let created = retry(policy, is_iam_propagation_error, || async {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust_policy)
            .description(DESCRIPTION)
            .tags(Tag::builder().key("ManagedBy").value("terraform-provider-lfm").build().expect("key and value set"))
            .send()
            .await
            .map_err(AwsError::from_sdk)
    })
    .await?;
    let arn = created.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    // A role created a moment ago may still be NoSuchEntity to the next call.
    let put = retry(policy, |e| is_iam_propagation_error(e) || e.is(NOT_FOUND), || {
        put_permissions_policy(iam, name, permissions_policy)
    })
    .await;
    if let Err(e) = put {
        if let Err(cleanup) = delete_role(iam, name).await {
            tracing::warn!(role = name, error = %cleanup, "could not delete the half-created role");
        }
        return Err(e);
    }
    Ok(arn)
}

/// The role and its LFM inline policy; `None` when the role does not exist.
pub async fn read_role(iam: &Client, name: &str) -> Result<Option<RoleState>, AwsError> {
    let role = match iam.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e) => {
            let e = AwsError::from_sdk(e);
            return if e.is(NOT_FOUND) { Ok(None) } else { Err(e) };
        }
    };
    let Some(role) = role else { return Ok(None) };
    let permissions_policy = match iam.get_role_policy().role_name(name).policy_name(PERMISSIONS_POLICY_NAME).send().await {
        Ok(out) => Some(url_decode(out.policy_document())),
        Err(e) => {
            let e = AwsError::from_sdk(e);
            if e.is(NOT_FOUND) {
                None
            } else {
                return Err(e);
            }
        }
    };
    let extra = match extra_policies(iam, name, PERMISSIONS_POLICY_NAME).await {
        Ok(extra) => extra,
        Err(e) if e.is(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(RoleState {
        arn: role.arn().to_owned(),
        trust_policy: role.assume_role_policy_document().map(url_decode).unwrap_or_default(),
        permissions_policy,
        extra,
    }))
}

/// The role's inline policies other than `own` and its attached managed policies: one
/// ListRolePolicies and one ListAttachedRolePolicies (a page holds 100 by default; a role may
/// have at most 20 managed policies attached, and its inline policies share 10,240
/// characters, so a second page is practically never needed).
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRolePolicies.html>,
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html>,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>
pub async fn extra_policies(iam: &Client, name: &str, own: &str) -> Result<ExtraPolicies, AwsError> {
    let mut inline_policy_names: Vec<String> = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<String>, _>>()
        .await
        .map_err(AwsError::from_sdk)?;
    inline_policy_names.retain(|p| p != own);
    inline_policy_names.sort();
    let attached: Vec<_> = iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(AwsError::from_sdk)?;
    let mut attached_policy_arns: Vec<String> = attached.iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect();
    attached_policy_arns.sort();
    Ok(ExtraPolicies { inline_policy_names, attached_policy_arns })
}

/// Delete every inline policy of the role but `own` and detach every managed policy, as
/// listed now (not as last read): a role that may do exactly what its own policy allows.
/// Policies already gone are fine.
pub async fn remove_extra_policies(iam: &Client, name: &str, own: &str) -> Result<(), AwsError> {
    let extra = extra_policies(iam, name, own).await?;
    remove_policies(iam, name, &extra).await
}

/// DeleteRolePolicy for each listed inline policy, DetachRolePolicy for each managed one.
async fn remove_policies(iam: &Client, name: &str, extra: &ExtraPolicies) -> Result<(), AwsError> {
    let gone_is_ok = |r: Result<(), AwsError>| match r {
        Err(e) if e.is(NOT_FOUND) => Ok(()),
        other => other,
    };
    for policy in &extra.inline_policy_names {
        gone_is_ok(iam.delete_role_policy().role_name(name).policy_name(policy).send().await.map(drop).map_err(AwsError::from_sdk))?;
    }
    for arn in &extra.attached_policy_arns {
        gone_is_ok(iam.detach_role_policy().role_name(name).policy_arn(arn).send().await.map(drop).map_err(AwsError::from_sdk))?;
    }
    Ok(())
}

pub async fn update_trust_policy(iam: &Client, name: &str, trust_policy: &str, policy: RetryPolicy) -> Result<(), AwsError> {
    retry(policy, is_iam_propagation_error, || async {
        iam.update_assume_role_policy().role_name(name).policy_document(trust_policy).send().await.map_err(AwsError::from_sdk)
    })
    .await
    .map(drop)
}

pub async fn put_permissions_policy(iam: &Client, name: &str, permissions_policy: &str) -> Result<(), AwsError> {
    iam.put_role_policy()
        .role_name(name)
        .policy_name(PERMISSIONS_POLICY_NAME)
        .policy_document(permissions_policy)
        .send()
        .await
        .map(drop)
        .map_err(AwsError::from_sdk)
}

/// Delete the role with everything IAM requires removed first: inline policies, attached
/// managed policies, instance profile memberships. A role already gone is success.
pub async fn delete_role(iam: &Client, name: &str) -> Result<(), AwsError> {
    let gone_is_ok = |r: Result<(), AwsError>| match r {
        Err(e) if e.is(NOT_FOUND) => Ok(()),
        other => other,
    };
    // Every policy, the role's own inline one included ("" is no policy name).
    match extra_policies(iam, name, "").await {
        Ok(all) => remove_policies(iam, name, &all).await?,
        Err(e) => return gone_is_ok(Err(e)),
    }
    let profiles: Vec<_> = match iam.list_instance_profiles_for_role().role_name(name).into_paginator().items().send().collect().await {
        Ok(profiles) => profiles,
        Err(e) => return gone_is_ok(Err(AwsError::from_sdk(e))),
    };
    for profile in &profiles {
        gone_is_ok(
            iam.remove_role_from_instance_profile()
                .role_name(name)
                .instance_profile_name(profile.instance_profile_name())
                .send()
                .await
                .map(drop)
                .map_err(AwsError::from_sdk),
        )?;
    }
    gone_is_ok(iam.delete_role().role_name(name).send().await.map(drop).map_err(AwsError::from_sdk))
}

/// Decode IAM's percent-encoded policy documents (RFC 3986; `+` stays `+`).
/// Invalid escapes are kept as they are.
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_documents() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let decoded = url_decode(encoded);
        assert_eq!(
            decoded,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#
        );
        assert_eq!(url_decode("a%20b+c"), "a b+c");
        assert_eq!(url_decode("%E2%9C%93"), "✓");
    }

    #[test]
    fn keeps_plain_json_and_bad_escapes() {
        let plain = r#"{"Version": "2012-10-17", "Statement": []}"#;
        assert_eq!(url_decode(plain), plain);
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
    }
}
