//! `lfm-opensearch`: the one OpenSearch client of LFM. The collector's store
//! (`collector/src/store/opensearch/`) writes documents through it; the provider's
//! `lfm_dashboard_bundle` installs templates, retention and Dashboards saved objects through it.
//!
//! What it is: one HTTP client ([`Client`]) with
//! - authentication none, basic or AWS SigV4 (`es`/`aoss`), signed in one place ([`sigv4`]);
//! - connect, per-attempt and overall timeouts ([`Timeouts`]), so a silent endpoint fails in
//!   bounded time instead of hanging;
//! - one retry decision, a pure function of an attempt's outcome ([`retry`]);
//! - one error type whose message reads as a sentence: what was being done, the endpoint, the
//!   HTTP status with OpenSearch's error type and reason, and the fix ([`Error`]);
//! - the index-template install with the mapping upgrade of existing indices ([`templates`]),
//!   reading the templates from `lfm-schema`;
//! - the OpenSearch Dashboards saved-objects calls ([`dashboards`]).
//!
//! What it is not: the collector's `_bulk` encoding, checkpoints and retention, and the
//! provider's ISM policy and Terraform state stay with them; they only send through this client.
//!
//! Files: [`config`] (what a caller configures), [`client`] (the I/O), [`retry`], [`sigv4`],
//! [`error`], [`templates`], [`dashboards`]. Live tests against the test bed's OpenSearch node
//! are in `opensearch/tests/`.

pub mod client;
pub mod config;
pub mod dashboards;
pub mod error;
pub mod retry;
pub mod sigv4;
pub mod templates;

pub use client::{Client, Request, Response};
pub use config::{Auth, ClientConfig, SettingNames, SigV4Service, Timeouts};
pub use error::{Error, Problem, TimeoutKind};
pub use retry::{Attempt, Decision, RetryPolicy};
