//! The LFM provider itself: its configuration, the context resources get, and its types.
//! This is the only part of the crate that knows AWS and LFM; `crate::protocol` and
//! `crate::framework` are generic.
//!
//! - [`config`]: the `provider "lfm"` block (region, assume_role, endpoints), parsed purely.
//! - [`aws`]: AWS helpers: session (SDK clients, endpoints, member-account sessions), org,
//!   IAM, retry of IAM's eventual consistency, the caller's required permissions.
//! - [`resources`]: one folder per resource: `lfm_monitored_account`, `lfm_collector`,
//!   `lfm_dashboard_bundle`, `lfm_alert_destination`, `lfm_alert_rule`.
//! - [`opensearch_target`]: the OpenSearch connection attributes of the resources that write
//!   LFM documents, and their client.
//! - [`data_sources`]: `lfm_trust_policy`, `lfm_permissions_policy`,
//!   `lfm_organization_accounts`.
//! - [`contract`]: the provider's side of the provider/collector contract (`lfm_schema::contract`).
//! - [`validators`]: AWS-specific attribute validators (account ID, IAM role name, ARN,
//!   region, organisation ID, external ID), attached to schemas like the generic ones.
//!
//! Generic protocol work (msgpack, planning, generic validators, RequiresReplace) is not here
//! but in `crate::protocol`, against the traits of `crate::framework`.

pub mod aws;
pub mod config;
pub mod contract;
pub mod data_sources;
pub mod opensearch_target;
pub mod resources;
pub mod validators;

use self::aws::org::{self, Organization};
use self::aws::Aws;
use self::config::Parsed;
use crate::framework::{DataSource, Diagnostics, Provider, Resource, Schema, Value};
use async_trait::async_trait;

#[derive(Default)]
pub struct LfmProvider;


/// What resources get: the AWS base session, or why it is not available yet.
pub struct LfmContext {
    aws: Result<Aws, String>,
    /// Filled by [`LfmContext::organization`]; one DescribeOrganization per provider run.
    organization: tokio::sync::OnceCell<Organization>,
}

impl LfmContext {
    pub fn new(aws: Aws) -> Self {
        LfmContext { aws: Ok(aws), organization: Default::default() }
    }

    /// A context whose configuration is not known yet (`unknown` names what is missing).
    pub fn deferred(unknown: &str) -> Self {
        LfmContext { aws: Err(unknown.to_owned()), organization: Default::default() }
    }

    /// The organisation of the provider's credentials (looked up once per provider run).
    /// Errors name `attribute`, the argument that would avoid the lookup, or say which
    /// permission is missing.
    pub async fn organization(&self, attribute: &str) -> Result<Organization, Diagnostics> {
        org::organization(self.aws()?, &self.organization, attribute).await
    }

    /// The organisation ID (`o-...`); see [`LfmContext::organization`].
    pub async fn organization_id(&self, attribute: &str) -> Result<String, Diagnostics> {
        self.organization(attribute).await.map(|o| o.id)
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
        vec![
            Box::new(resources::monitored_account::MonitoredAccount),
            Box::new(resources::dashboard_bundle::DashboardBundle),
            Box::new(resources::collector::Collector),
            Box::new(resources::alert_destination::AlertDestination),
            Box::new(resources::alert_rule::AlertRule),
        ]
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<LfmContext>>> {
        vec![
            Box::new(data_sources::trust_policy::TrustPolicy),
            Box::new(data_sources::permissions_policy::PermissionsPolicy),
            Box::new(data_sources::organization_accounts::OrganizationAccounts),
        ]
    }
}

/// A data source ID derived from its content: FNV-1a 64 in hex, stable across Rust releases
/// (std's hasher is not).
pub(crate) fn content_id(content: &str) -> String {
    let hash = content.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}
