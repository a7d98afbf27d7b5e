//! Discover: which functions exist. Per account, assume the monitoring role
//! ([`assume_role`]), then per region list every function ([`functions`]), all pages.
//!
//! Output: [`FunctionRecord`]s, the inventory the later stages work from. Discovery lists
//! functions from the Lambda API rather than from CloudWatch or tags, so idle and untagged
//! functions are never dropped.

pub mod assume_role;
pub mod functions;

use chrono::{DateTime, Utc};

pub use assume_role::{assume_role, AccountSession};
pub use functions::list_functions;

/// One function's configuration, as `lambda:ListFunctions` returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRecord {
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    /// `None` for container images, which have no managed runtime.
    pub runtime: Option<String>,
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub architecture: Option<String>,
    pub package_type: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    /// Base64 SHA-256 of the deployment package (`CodeSha256`): a new value is a code deployment.
    pub code_sha256: Option<String>,
    /// `$LATEST` (what ListFunctions lists by default) or a published version number.
    pub version: Option<String>,
    pub code_size_bytes: Option<u64>,
    /// Where the function writes its logs: `LoggingConfig.LogGroup`, else `/aws/lambda/{name}`.
    pub log_group: String,
}

/// What to check when `sts:AssumeRole` into a monitoring role is refused.
pub const ASSUME_ROLE_ADVICE: &str = "Check that the role exists in the account, trusts the collector's principal (and the external id, if configured), and that the collector may call sts:AssumeRole on it";
/// What to check when `lambda:ListFunctions` is refused.
pub const LIST_FUNCTIONS_ADVICE: &str = "Check that the role grants lambda:ListFunctions and that the region is enabled in the account";

/// A call to AWS that failed, with where it failed and what to check.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// `reason`: the sentence of [`crate::aws_error`], with [`ASSUME_ROLE_ADVICE`] when AWS answered.
    #[error("account {account_id}, role {role_arn}: {reason}")]
    AssumeRole { account_id: String, role_arn: String, reason: String },
    /// `reason`: the sentence of [`crate::aws_error`], with [`LIST_FUNCTIONS_ADVICE`] when AWS answered.
    #[error("account {account_id} region {region}: {reason}")]
    ListFunctions { account_id: String, region: String, reason: String },
}
