//! The contract between the two halves of LFM: what the provider (Terraform) hands the
//! collector, and the rules both apply to it.
//!
//! The provider's `lfm_collector` writes the collector function's environment, the quickstart
//! writes a `collector_config` file for `lfm-collector run --config`, and the collector reads
//! flags, `LFM_*` variables and that file. Everything they must agree on is declared here once:
//!
//! - [`settings`]: every collector setting with its CLI flag, `LFM_*` environment variable,
//!   config-file key (= the quickstart's `collector_config` key) and the `lfm_collector`
//!   attribute that sets it. clap's `env = ...` and the provider's environment use these
//!   constants; tests on both sides (and on the examples) fail when a name drifts.
//! - [`index_prefix`]: [`IndexPrefix`], the one validated index prefix (OpenSearch's
//!   index-name rules plus the suffixes LFM appends), and [`DEFAULT_INDEX_PREFIX`].
//! - [`partition`]: the region -> partition table, role ARNs, and the partition of an ARN.
//! - [`opensearch_auth`]: the accepted `opensearch_auth` and SigV4 service values.
//!
//! Not here: how either half talks to AWS or OpenSearch (that is each half's own code).

pub mod index_prefix;
pub mod opensearch_auth;
pub mod partition;
pub mod settings;

pub use index_prefix::{IndexPrefix, InvalidIndexPrefix, DEFAULT_INDEX_PREFIX};
pub use partition::{arn_partition, partition_of_region, role_arn};
pub use settings::*;
