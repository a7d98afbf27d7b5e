//! The provider's managed resources, one folder each (schema and CRUD in `mod.rs`, the pure
//! model beside it, unit tests in `tests.rs`; live tests in `provider/tests/`).
//!
//! - [`monitored_account`]: `lfm_monitored_account`, the monitoring role in one member account.
//! - [`collector`]: `lfm_collector`, the collector as a scheduled Lambda function.
//! - [`dashboard_bundle`]: `lfm_dashboard_bundle`, index templates, retention and Dashboards
//!   saved objects in OpenSearch.
//! - [`alert_destination`]: `lfm_alert_destination`, an SNS topic or webhook alerts go to (a
//!   document, and an SSM parameter for a webhook secret).
//! - [`alert_rule`]: `lfm_alert_rule`, an alert rule document the collector evaluates.

pub mod alert_destination;
pub mod alert_rule;
pub mod collector;
pub mod dashboard_bundle;
pub mod monitored_account;
