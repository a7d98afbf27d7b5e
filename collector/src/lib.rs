//! `lfm-collector`: collects the numbers of every Lambda function across the AWS accounts of
//! an organisation and stores them in OpenSearch.
//!
//! Data flows one way through four stages, each a module with a typed boundary:
//!
//! 1. [`discover`]: assume the monitoring role per account, list every function per region
//!    -> [`discover::FunctionRecord`]s;
//! 2. [`harvest`]: fetch raw CloudWatch datapoints -> [`harvest::FunctionSeries`];
//! 3. [`derive`]: pure functions to `lfm-schema` documents -> [`store::IndexedDocument`]s;
//! 4. [`store`]: install index templates, `_bulk`-write, retry, report -> [`store::StoreReport`].
//!
//! [`run`] wires them for the windows [`checkpoint`] plans per account and region (from the
//! checkpoints in OpenSearch, or `--start/--end`), moves the checkpoints of what succeeded,
//! writes a run record ([`runrecord`]) and returns a [`RunSummary`]. Every stage counts its AWS
//! calls into [`metering`] (calls by IAM action, skipped answers, cost at list prices), which
//! depends on nothing else, so no stage imports the summary. The `lfm-collector` binary
//! is a thin CLI around it; the Lambda entry point ([`lambda_entry`], binary `bootstrap`) calls the same function.
//!
//! [`notify`] delivers alert notifications (SNS, signed webhooks) within a time budget, last
//! in a run, so it never fails or delays the collection.
//!
//! AWS endpoints and credentials come from the SDK's standard chain (`AWS_ENDPOINT_URL`,
//! profiles, instance roles ...); nothing here knows about emulators.

pub mod alert;
mod aws_error;
pub mod checkpoint;
pub mod config;
pub mod derive;
pub mod discover;
pub mod harvest;
pub mod lambda_entry;
pub mod metering;
pub mod notify;
pub mod progress;
mod run;
pub mod runrecord;
pub mod store;
pub mod summary;
pub mod time_limit;

pub use config::Config;
pub use run::{run, run_with_limit};
pub use summary::RunSummary;
