//! The provider's data sources, one file each (schema, read and unit tests).
//!
//! - [`trust_policy`], [`permissions_policy`]: `lfm_trust_policy` and `lfm_permissions_policy`,
//!   the monitoring role's documents, for roles made elsewhere.
//! - [`organization_accounts`]: `lfm_organization_accounts`, the organisation's accounts.

pub mod organization_accounts;
pub mod permissions_policy;
pub mod trust_policy;
