//! What the user configures, validated into a [`Config`] that the pipeline trusts.
//!
//! Sources, highest precedence first: command-line flags, `LFM_*` environment variables, a
//! JSON or TOML file (`--config`), defaults. [`cli`] reads the first two, [`file`] the third;
//! the Lambda entry point ([`crate::lambda_entry`]) reads the same environment with the same parser.

pub mod cli;
pub mod docs;
pub mod file;
pub mod schedule;
mod window;

pub use schedule::Schedule;
pub use window::Window;

use crate::store::opensearch::OpenSearchConfig;

pub const DEFAULT_ROLE_NAME: &str = lfm_schema::iam::DEFAULT_ROLE_NAME;
pub const DEFAULT_PERIOD_SECONDS: u32 = 300;
/// Documents per `_bulk` request; small enough for the default 100 MB request limit with room.
pub const DEFAULT_BULK_MAX_DOCS: usize = 1000;
pub const DEFAULT_ACCOUNT_CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing setting {name}: {hint}")]
    Missing { name: &'static str, hint: &'static str },
    #[error("invalid setting: {0}")]
    Invalid(String),
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
}

/// A validated collector configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// 12-digit AWS account IDs to collect from.
    pub accounts: Vec<String>,
    /// Role assumed in every account: `arn:{partition}:iam::{account}:role/{role_name}`.
    pub role_name: String,
    pub external_id: Option<String>,
    pub regions: Vec<String>,
    /// The regions' partition (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso` ...; [`partition_of`]).
    pub partition: String,
    /// The window for every account and region when `schedule.explicit_window`; otherwise the
    /// window of a pair without a checkpoint, whose end is every pair's end.
    pub window: Window,
    /// Checkpoints, backfill horizon, settle delay ([`schedule`]).
    pub schedule: Schedule,
    pub index_prefix: String,
    pub opensearch: OpenSearchConfig,
    /// Discover, harvest and derive, but write nothing (OpenSearch is not contacted).
    pub dry_run: bool,
    /// Accounts collected at the same time.
    pub account_concurrency: usize,
    /// One progress line per account on stderr (the CLI sets it when stderr is a terminal).
    pub progress: bool,
    /// Lambda prices and runtime deprecation dates (shipped in lfm-schema unless overridden).
    pub prices: lfm_schema::reference::PriceTable,
    pub runtimes: lfm_schema::reference::RuntimeTable,
    /// A runtime deprecated within this many days of the collection counts as `deprecating`.
    pub deprecation_warning_days: u32,
    /// After each run, delete `{prefix}-metrics-YYYY.MM.DD` indices older than this many
    /// days (`None`: keep everything).
    pub retention_days: Option<u32>,
    /// Read cold starts, init duration and memory from Lambda Insights metrics for the active
    /// functions that publish them (5 more GetMetricData queries each, $0.01 per 1,000 metrics
    /// requested, one more ListMetrics per account and region). `false`: those numbers come
    /// from the REPORT records alone (Logs Insights runs for every active function anyway).
    pub lambda_insights: bool,
    /// Connect, per-attempt and whole-call bounds of every AWS call (`--aws-*-timeout`).
    pub aws_timeouts: lfm_aws::Timeouts,
    /// All alert notifications of a run end within this (`crate::notify::DeliveryContext`).
    pub alert_delivery_timeout: std::time::Duration,
    /// Extra trusted CA certificates (PEM) for alert webhooks behind a private CA.
    pub alert_webhook_ca_file: Option<std::path::PathBuf>,
}

/// Default of [`Config::alert_delivery_timeout`], in seconds, and its bounds.
pub const DEFAULT_ALERT_DELIVERY_TIMEOUT_SECONDS: u64 = 30;
pub const ALERT_DELIVERY_TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=900;

/// Default of [`Config::deprecation_warning_days`].
pub const DEFAULT_DEPRECATION_WARNING_DAYS: u32 = 180;

/// The AWS partition of a region, for role ARNs (the one table both halves use).
pub use lfm_schema::contract::partition_of_region as partition_of;

pub(crate) fn validate_accounts(accounts: &[String]) -> Result<(), ConfigError> {
    if accounts.is_empty() {
        return Err(ConfigError::Missing {
            name: "accounts",
            hint: "give --accounts 111122223333,444455556666, LFM_ACCOUNTS or `accounts` in the config file",
        });
    }
    for account in accounts {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::Invalid(format!(
                "account {account:?} is not a 12-digit AWS account ID (keep leading zeros; quote it in TOML/JSON)"
            )));
        }
    }
    Ok(())
}

pub(crate) fn validate_regions(regions: &[String]) -> Result<&'static str, ConfigError> {
    let Some(first) = regions.first() else {
        return Err(ConfigError::Missing {
            name: "regions",
            hint: "give --regions us-east-1,eu-west-1, LFM_REGIONS or `regions` in the config file",
        });
    };
    let partition = partition_of(first);
    for region in regions {
        if region.is_empty() || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(ConfigError::Invalid(format!("region {region:?} is not an AWS region name like us-east-1")));
        }
        if partition_of(region) != partition {
            return Err(ConfigError::Invalid(format!(
                "regions {first} and {region} are in different AWS partitions; run one collector per partition"
            )));
        }
    }
    Ok(partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("us-iso-east-1"), "aws-iso", "the provider and the collector used to disagree here");
    }

    #[test]
    fn account_ids_must_have_12_digits() {
        assert!(validate_accounts(&["123456789012".into()]).is_ok());
        assert!(validate_accounts(&["12345678901".into()]).is_err());
        assert!(validate_accounts(&["12345678901a".into()]).is_err());
        assert!(validate_accounts(&[]).is_err());
    }

    #[test]
    fn regions_must_share_a_partition() {
        assert_eq!(validate_regions(&["us-east-1".into(), "eu-west-1".into()]).unwrap(), "aws");
        assert!(validate_regions(&["us-east-1".into(), "cn-north-1".into()]).is_err());
        assert!(validate_regions(&[]).is_err());
    }
}
