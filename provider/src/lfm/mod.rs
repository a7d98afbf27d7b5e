//! The LFM provider: its configuration, the AWS context the resources use, and its types.
//!
//! - [`config`]: the `provider "lfm"` block (region, assume_role, endpoints), parsed purely.
//! - [`aws`]: SDK clients, per-service endpoints, sessions inside member accounts.
//! - [`iam`], [`org`]: the IAM role operations; the organisation and its accounts.
//! - [`monitored_account`]: resource `lfm_monitored_account` (the monitoring role per account).
//! - [`collector`]: resource `lfm_collector` (the collector as a scheduled Lambda function).
//! - [`trust_policy`], [`permissions_policy`]: data sources `lfm_trust_policy` and
//!   `lfm_permissions_policy` (the monitoring role's documents, for roles made elsewhere).
//! - [`organization_accounts`]: data source `lfm_organization_accounts`.
//! - [`dashboard_bundle`]: resource `lfm_dashboard_bundle` (templates, retention, Dashboards saved objects).
//!
//! Generic protocol work (msgpack, planning, validators, RequiresReplace) is not here but in
//! `crate::protocol`, against the traits of `crate::framework`.

pub mod aws;
pub mod caller;
pub mod collector;
pub mod config;
pub mod contract;
pub mod dashboard_bundle;
pub mod iam;
pub mod monitored_account;
pub mod org;
pub mod organization_accounts;
pub mod permissions_policy;
pub mod retry;
pub mod trust_policy;

use self::aws::Aws;
use self::config::Parsed;
use crate::framework::{DataSource, Diagnostics, Provider, Resource, Schema, Value};
use async_trait::async_trait;

#[derive(Default)]
pub struct LfmProvider;


/// What resources get: the AWS base session, or why it is not available yet.
pub struct LfmContext {
    aws: Result<Aws, String>,
}

impl LfmContext {
    pub fn new(aws: Aws) -> Self {
        LfmContext { aws: Ok(aws) }
    }

    /// A context whose configuration is not known yet (`unknown` names what is missing).
    pub fn deferred(unknown: &str) -> Self {
        LfmContext { aws: Err(unknown.to_owned()) }
    }

    /// The AWS session, or an error for operations that cannot run without it.
    pub fn aws(&self) -> Result<&Aws, Diagnostics> {
        self.aws.as_ref().map_err(|unknown| {
            Diagnostics::error(
                "The lfm provider configuration is not known yet",
                format!("`{unknown}` in the provider \"lfm\" block depends on a value known only after apply. Apply the resources it depends on first (terraform apply -target=...), or configure the provider with known values."),
            )
        })
    }

    /// The AWS session when configured; `None` at plan time with unknown configuration.
    pub fn configured(&self) -> Option<&Aws> {
        self.aws.as_ref().ok()
    }
}

#[async_trait]
impl Provider for LfmProvider {
    type Context = LfmContext;

    fn schema(&self) -> Schema {
        config::schema()
    }

    async fn configure(&self, config: &Value) -> Result<LfmContext, Diagnostics> {
        match config::parse(config, |name| std::env::var(name).ok())? {
            Parsed::Ready(cfg) => Ok(LfmContext::new(Aws::new(&cfg).await)),
            Parsed::Deferred(unknown) => Ok(LfmContext::deferred(&unknown)),
        }
    }

    fn resources(&self) -> Vec<Box<dyn Resource<LfmContext>>> {
        vec![Box::new(monitored_account::MonitoredAccount), Box::new(dashboard_bundle::DashboardBundle), Box::new(collector::Collector)]
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<LfmContext>>> {
        vec![
            Box::new(trust_policy::TrustPolicy),
            Box::new(permissions_policy::PermissionsPolicy),
            Box::new(organization_accounts::OrganizationAccounts),
        ]
    }
}

/// A data source ID derived from its content: FNV-1a 64 in hex, stable across Rust releases
/// (std's hasher is not).
pub(crate) fn content_id(content: &str) -> String {
    let hash = content.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}
