//! `sts:AssumeRole` into the monitoring role of one member account.

use std::time::SystemTime;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_types::SdkConfig;

use super::{DiscoverError, ASSUME_ROLE_ADVICE};
use crate::aws_error::{describe, with_advice};
use crate::metering::{actions, ApiCallCounter};

/// Session name shown in the member account's CloudTrail for every call the collector makes.
pub const SESSION_NAME: &str = "lfm-collector";

/// AWS configuration that acts inside one member account (region set per client later).
#[derive(Debug, Clone)]
pub struct AccountSession {
    pub account_id: String,
    pub sdk_config: SdkConfig,
}

/// `arn:{partition}:iam::{account}:role/{name}`, from the contract both halves share.
pub use lfm_schema::contract::role_arn;

/// Assumes `role_arn` with the collector's own credentials (`base`). The session lasts the
/// STS default of one hour, longer than a collection of one window takes.
pub async fn assume_role(
    base: &SdkConfig,
    account_id: &str,
    role_arn: &str,
    external_id: Option<&str>,
    calls: &ApiCallCounter,
) -> Result<AccountSession, DiscoverError> {
    let sts = aws_sdk_sts::Client::new(base);
    calls.record(actions::STS_ASSUME_ROLE);
    let failed = |reason: String| DiscoverError::AssumeRole {
        account_id: account_id.to_string(),
        role_arn: role_arn.to_string(),
        reason,
    };
    let output = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(SESSION_NAME)
        .set_external_id(external_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| failed(with_advice(&describe(e, base.region().map(|r| r.as_ref())), ASSUME_ROLE_ADVICE)))?;
    let keys = output
        .credentials()
        .ok_or_else(|| failed(format!("STS AssumeRole answered without credentials. {ASSUME_ROLE_ADVICE}")))?;
    let expiry = SystemTime::try_from(*keys.expiration()).ok();
    let credentials = Credentials::new(
        keys.access_key_id(),
        keys.secret_access_key(),
        Some(keys.session_token().to_string()),
        expiry,
        "lfm-assume-role",
    );
    let sdk_config = base.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build();
    Ok(AccountSession { account_id: account_id.to_string(), sdk_config })
}

#[cfg(test)]
mod tests {
    #[test]
    fn role_arn_format() {
        assert_eq!(
            super::role_arn("aws-cn", "111122223333", "LambdaMonitoringRole"),
            "arn:aws-cn:iam::111122223333:role/LambdaMonitoringRole"
        );
    }
}
