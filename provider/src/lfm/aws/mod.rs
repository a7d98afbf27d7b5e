//! The AWS helpers every resource and data source shares: you are in the provider's AWS layer.
//!
//! - [`session`]: the base session (SDK clients, per-service endpoints) and sessions inside
//!   member accounts (`sts:AssumeRole`); [`AwsError`], an AWS error reduced to what a
//!   diagnostic needs; the partition and role-ARN helpers.
//! - [`org`]: the organisation (DescribeOrganization) and its accounts (ListAccounts).
//! - [`iam`]: the monitoring role's IAM operations (create, read, update, delete), and the
//!   policies on a role besides its own (listed on read, removed on update).
//! - [`retry`]: retrying IAM's eventual consistency, bounded in time.
//! - [`caller`]: the IAM actions the identity Terraform runs as needs (for the docs).
//!
//! Nothing here knows Terraform values: resources decode their configuration and call these
//! with plain Rust types. Dependencies point one way: `org`, `iam` and `retry` use `session`,
//! never the other way round.

pub mod caller;
pub mod iam;
pub mod org;
pub mod retry;
pub mod session;

pub use session::{AccountSession, Aws, AwsError};
