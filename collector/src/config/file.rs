//! The optional configuration file (`--config path.json|path.toml`): the same settings as the
//! flags, with the same names in snake_case. Unknown keys are an error, not silently ignored.
//!
//! ```toml
//! accounts = ["111122223333", "444455556666"]
//! regions = ["us-east-1", "eu-west-1"]
//! role_name = "LambdaMonitoringRole"
//! opensearch_url = "https://search.example.com"
//! period = 300
//! backfill_horizon = "24h"
//! settle_delay = "5m"
//! # An Amazon OpenSearch Service domain with IAM auth (signed with the AWS credentials):
//! # opensearch_auth = "sigv4"          # or "basic" (opensearch_user + LFM_OPENSEARCH_PASSWORD)
//! # opensearch_sigv4_service = "es"    # "aoss" for OpenSearch Serverless
//! # opensearch_region = "eu-west-1"    # default: the AWS region (AWS_REGION)
//! # opensearch_request_timeout = 60    # seconds per attempt (also _connect_ and _operation_timeout)
//! ```

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub accounts: Option<Vec<String>>,
    pub role_name: Option<String>,
    pub external_id: Option<String>,
    pub regions: Option<Vec<String>>,
    pub opensearch_url: Option<String>,
    #[serde(alias = "opensearch_username")]
    pub opensearch_user: Option<String>,
    /// "basic" or "sigv4" (see `--opensearch-auth`).
    pub opensearch_auth: Option<String>,
    /// "es" or "aoss" (see `--opensearch-sigv4-service`).
    pub opensearch_sigv4_service: Option<String>,
    pub opensearch_region: Option<String>,
    /// Seconds (see `--opensearch-connect-timeout` and the two after it).
    pub opensearch_connect_timeout: Option<u64>,
    pub opensearch_request_timeout: Option<u64>,
    pub opensearch_operation_timeout: Option<u64>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub period: Option<u32>,
    pub index_prefix: Option<String>,
    pub dry_run: Option<bool>,
    pub bulk_max_docs: Option<usize>,
    pub account_concurrency: Option<usize>,
    /// A duration like "24h" (see `--backfill`).
    pub backfill_horizon: Option<String>,
    /// A duration like "5m" (see `--settle`).
    pub settle_delay: Option<String>,
    /// See `--prices`, `--runtimes`, `--deprecation-warning-days`, `--retention-days`.
    pub prices_file: Option<std::path::PathBuf>,
    pub runtimes_file: Option<std::path::PathBuf>,
    pub deprecation_warning_days: Option<u32>,
    pub retention_days: Option<u32>,
    /// See `--lambda-insights`.
    pub lambda_insights: Option<bool>,
    /// See `--aws-connect-timeout`, `--aws-request-timeout`, `--aws-operation-timeout` (seconds).
    pub aws_connect_timeout: Option<u64>,
    pub aws_request_timeout: Option<u64>,
    pub aws_operation_timeout: Option<u64>,
    /// See `--alert-delivery-timeout-seconds`, `--alert-webhook-ca-file`.
    pub alert_delivery_timeout_seconds: Option<u64>,
    pub alert_webhook_ca_file: Option<std::path::PathBuf>,
}

/// The keys [`FileConfig`] accepts, as serde sees them (a test compares them with
/// `lfm_schema::contract::SETTINGS`).
#[cfg(test)]
pub(crate) static FIELDS: std::sync::LazyLock<&'static [&'static str]> = std::sync::LazyLock::new(|| {
    /// A deserializer that only records the field names a struct asks for.
    struct Fields(Option<&'static [&'static str]>);
    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("only structs"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(serde::de::Error::custom("recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = FileConfig::deserialize(&mut fields);
    fields.0.expect("FileConfig is a struct")
});

impl FileConfig {
    /// Reads a `.json` or `.toml` file (decided by the extension).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::File { path: shown.clone(), reason: format!("cannot read it: {e}") })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::from_json(&text),
            Some("toml") => Self::from_toml(&text),
            _ => Err(ConfigError::Invalid("unknown extension: name it *.json or *.toml".into())),
        }
        .map_err(|e| ConfigError::File { path: shown, reason: e.to_string() })
    }

    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        serde_json::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_and_json() {
        let toml = FileConfig::from_toml(
            "accounts = [\"011122223333\"]\nregions = [\"us-east-1\"]\nperiod = 60\nstart = \"2026-11-26T15:00:00Z\"\n",
        )
        .unwrap();
        assert_eq!(toml.accounts.unwrap(), vec!["011122223333"]);
        assert_eq!(toml.period, Some(60));
        assert!(toml.start.is_some());
        let json = FileConfig::from_json(r#"{"regions": ["eu-west-1"], "dry_run": true}"#).unwrap();
        assert_eq!(json.dry_run, Some(true));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = FileConfig::from_json(r#"{"acounts": ["011122223333"]}"#).unwrap_err();
        assert!(err.to_string().contains("acounts"), "{err}");
    }
}
