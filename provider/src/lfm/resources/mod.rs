//! The provider's managed resources, one folder each (schema and CRUD in `mod.rs`, the pure
//! model beside it, unit tests in `tests.rs`; live tests in `provider/tests/`).
//!
//! - [`monitored_account`]: `lfm_monitored_account`, the monitoring role in one member account.
//! - [`collector`]: `lfm_collector`, the collector as a scheduled Lambda function.
//! - [`dashboard_bundle`]: `lfm_dashboard_bundle`, index templates, retention and Dashboards
//!   saved objects in OpenSearch.

pub mod collector;
pub mod dashboard_bundle;
pub mod monitored_account;
