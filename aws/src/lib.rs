//! `lfm-aws`: what the LFM collector and the Terraform provider share about talking to AWS.
//!
//! - [`config`]: the SDK configuration both build their clients from: region, endpoint
//!   overrides, the default credential chain, and bounded time ([`Timeouts`]: connect,
//!   per attempt, whole operation) and retries ([`config::AwsSettings::max_attempts`]).
//! - [`error`]: one readable sentence for a failed AWS call ([`AwsError`]): which service and
//!   operation, what AWS answered (code and message) or why no answer came, and what to do.
//! - [`testing`]: a silent endpoint for the timeout tests of both halves.
//!
//! It is not an AWS client: each half still calls the SDK crates it needs (`aws-sdk-sts`,
//! `aws-sdk-iam` ...) and adds its own context (account, role, attribute) at the edge.

pub mod config;
pub mod error;
pub mod testing;

pub use config::{default_endpoint, load, with_endpoint, AwsSettings, Timeouts};
pub use error::{chain as error_chain, root_cause, AwsError, ErrorKind, SettingNames, TimeoutKind};
