//! Every setting of `lfm-collector run`, under each of its names.
//!
//! A setting reaches the collector in one of three ways: a flag (`--index-prefix`), an `LFM_*`
//! environment variable (`LFM_INDEX_PREFIX`: how the provider's `lfm_collector` configures the
//! Lambda function), or a key of the `--config` file (`index_prefix`: the quickstart's
//! `collector_config` output is such a file). [`SETTINGS`] lists them side by side.
//!
//! Who checks what (a rename anywhere fails `cargo test`, not only the end-to-end suite):
//! - the collector's clap definitions use the `ENV_*` constants, and a collector test compares
//!   every clap argument's flag and variable, and every config-file key, with [`SETTINGS`];
//! - the provider builds the function's environment from [`SETTINGS`] (the settings with a
//!   [`Setting::provider_attribute`]), and a provider test checks the names it sets;
//! - `schema/tests/contract_examples.rs` checks the `collector_config` keys and the `LFM_*`
//!   names in `examples/` against [`SETTINGS`].

/// One collector setting under each of its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Key in the `--config` file and in the quickstart's `collector_config` output (`None`:
    /// not a file setting, e.g. the password, which comes only from the environment).
    pub key: Option<&'static str>,
    /// Long flag of `lfm-collector run`, without the leading `--` (`None`: environment only).
    pub flag: Option<&'static str>,
    /// The `LFM_*` environment variable.
    pub env: &'static str,
    /// The `lfm_collector` attribute the provider sets this variable from (`None`: the
    /// provider leaves it to `extra_environment`).
    pub provider_attribute: Option<&'static str>,
    /// A list setting: the variable holds the values joined by commas.
    pub list: bool,
}

pub const ENV_CONFIG: &str = "LFM_CONFIG";
pub const ENV_ACCOUNTS: &str = "LFM_ACCOUNTS";
pub const ENV_ROLE_NAME: &str = "LFM_ROLE_NAME";
pub const ENV_EXTERNAL_ID: &str = "LFM_EXTERNAL_ID";
pub const ENV_REGIONS: &str = "LFM_REGIONS";
pub const ENV_OPENSEARCH_URL: &str = "LFM_OPENSEARCH_URL";
pub const ENV_OPENSEARCH_USER: &str = "LFM_OPENSEARCH_USER";
/// The basic-auth password: environment only, never a flag or a file key (it would show in
/// `ps` or in a file written by `terraform output`).
pub const ENV_OPENSEARCH_PASSWORD: &str = "LFM_OPENSEARCH_PASSWORD";
pub const ENV_OPENSEARCH_AUTH: &str = "LFM_OPENSEARCH_AUTH";
pub const ENV_OPENSEARCH_SIGV4_SERVICE: &str = "LFM_OPENSEARCH_SIGV4_SERVICE";
pub const ENV_OPENSEARCH_REGION: &str = "LFM_OPENSEARCH_REGION";
/// OpenSearch timeouts in seconds (the `lfm-opensearch` client's connect, per-attempt and
/// overall timeouts; defaults 10, 30 and 120).
pub const ENV_OPENSEARCH_CONNECT_TIMEOUT: &str = "LFM_OPENSEARCH_CONNECT_TIMEOUT";
pub const ENV_OPENSEARCH_REQUEST_TIMEOUT: &str = "LFM_OPENSEARCH_REQUEST_TIMEOUT";
pub const ENV_OPENSEARCH_OPERATION_TIMEOUT: &str = "LFM_OPENSEARCH_OPERATION_TIMEOUT";
pub const ENV_START: &str = "LFM_START";
pub const ENV_END: &str = "LFM_END";
pub const ENV_BACKFILL: &str = "LFM_BACKFILL";
pub const ENV_SETTLE: &str = "LFM_SETTLE";
pub const ENV_PERIOD: &str = "LFM_PERIOD";
pub const ENV_INDEX_PREFIX: &str = "LFM_INDEX_PREFIX";
pub const ENV_DRY_RUN: &str = "LFM_DRY_RUN";
pub const ENV_BULK_MAX_DOCS: &str = "LFM_BULK_MAX_DOCS";
pub const ENV_ACCOUNT_CONCURRENCY: &str = "LFM_ACCOUNT_CONCURRENCY";
pub const ENV_PRICES_FILE: &str = "LFM_PRICES_FILE";
pub const ENV_RUNTIMES_FILE: &str = "LFM_RUNTIMES_FILE";
pub const ENV_DEPRECATION_WARNING_DAYS: &str = "LFM_DEPRECATION_WARNING_DAYS";
pub const ENV_RETENTION_DAYS: &str = "LFM_RETENTION_DAYS";
pub const ENV_LAMBDA_INSIGHTS: &str = "LFM_LAMBDA_INSIGHTS";
/// Bounds of every AWS call (seconds): connect, one attempt, the whole call with retries
/// (`lfm_aws::Timeouts`; the provider's `connect_timeout_seconds` ... are the same three).
pub const ENV_AWS_CONNECT_TIMEOUT: &str = "LFM_AWS_CONNECT_TIMEOUT";
pub const ENV_AWS_REQUEST_TIMEOUT: &str = "LFM_AWS_REQUEST_TIMEOUT";
pub const ENV_AWS_OPERATION_TIMEOUT: &str = "LFM_AWS_OPERATION_TIMEOUT";
/// Alert delivery: seconds all notifications of a run may take (default 30, 1 to 900), and an
/// extra CA file (PEM) trusted for webhooks.
pub const ENV_ALERT_DELIVERY_TIMEOUT: &str = "LFM_ALERT_DELIVERY_TIMEOUT_SECONDS";
pub const ENV_ALERT_WEBHOOK_CA_FILE: &str = "LFM_ALERT_WEBHOOK_CA_FILE";
pub const ENV_OUTPUT: &str = "LFM_OUTPUT";

const fn setting(key: &'static str, flag: &'static str, env: &'static str) -> Setting {
    Setting { key: Some(key), flag: Some(flag), env, provider_attribute: None, list: false }
}

const fn from_provider(mut s: Setting, attribute: &'static str) -> Setting {
    s.provider_attribute = Some(attribute);
    s
}

const fn list(mut s: Setting) -> Setting {
    s.list = true;
    s
}

/// Every setting, in `lfm-collector run --help` order.
pub const SETTINGS: &[Setting] = &[
    Setting { key: None, flag: Some("config"), env: ENV_CONFIG, provider_attribute: None, list: false },
    list(from_provider(setting("accounts", "accounts", ENV_ACCOUNTS), "monitored_account_ids")),
    from_provider(setting("role_name", "role-name", ENV_ROLE_NAME), "role_name"),
    from_provider(setting("external_id", "external-id", ENV_EXTERNAL_ID), "external_id"),
    list(from_provider(setting("regions", "regions", ENV_REGIONS), "regions")),
    from_provider(setting("opensearch_url", "opensearch-url", ENV_OPENSEARCH_URL), "opensearch_url"),
    from_provider(setting("opensearch_user", "opensearch-user", ENV_OPENSEARCH_USER), "opensearch_username"),
    Setting {
        key: None,
        flag: None,
        env: ENV_OPENSEARCH_PASSWORD,
        provider_attribute: Some("opensearch_password"),
        list: false,
    },
    from_provider(setting("opensearch_auth", "opensearch-auth", ENV_OPENSEARCH_AUTH), "opensearch_auth"),
    from_provider(
        setting("opensearch_sigv4_service", "opensearch-sigv4-service", ENV_OPENSEARCH_SIGV4_SERVICE),
        "opensearch_sigv4_service",
    ),
    setting("opensearch_region", "opensearch-region", ENV_OPENSEARCH_REGION),
    setting("opensearch_connect_timeout", "opensearch-connect-timeout", ENV_OPENSEARCH_CONNECT_TIMEOUT),
    setting("opensearch_request_timeout", "opensearch-request-timeout", ENV_OPENSEARCH_REQUEST_TIMEOUT),
    setting("opensearch_operation_timeout", "opensearch-operation-timeout", ENV_OPENSEARCH_OPERATION_TIMEOUT),
    setting("start", "start", ENV_START),
    setting("end", "end", ENV_END),
    setting("backfill_horizon", "backfill", ENV_BACKFILL),
    setting("settle_delay", "settle", ENV_SETTLE),
    setting("period", "period", ENV_PERIOD),
    from_provider(setting("index_prefix", "index-prefix", ENV_INDEX_PREFIX), "index_prefix"),
    setting("dry_run", "dry-run", ENV_DRY_RUN),
    setting("bulk_max_docs", "bulk-max-docs", ENV_BULK_MAX_DOCS),
    setting("account_concurrency", "account-concurrency", ENV_ACCOUNT_CONCURRENCY),
    setting("prices_file", "prices", ENV_PRICES_FILE),
    setting("runtimes_file", "runtimes", ENV_RUNTIMES_FILE),
    setting("deprecation_warning_days", "deprecation-warning-days", ENV_DEPRECATION_WARNING_DAYS),
    setting("retention_days", "retention-days", ENV_RETENTION_DAYS),
    setting("lambda_insights", "lambda-insights", ENV_LAMBDA_INSIGHTS),
    setting("aws_connect_timeout", "aws-connect-timeout", ENV_AWS_CONNECT_TIMEOUT),
    setting("aws_request_timeout", "aws-request-timeout", ENV_AWS_REQUEST_TIMEOUT),
    setting("aws_operation_timeout", "aws-operation-timeout", ENV_AWS_OPERATION_TIMEOUT),
    setting("alert_delivery_timeout_seconds", "alert-delivery-timeout-seconds", ENV_ALERT_DELIVERY_TIMEOUT),
    setting("alert_webhook_ca_file", "alert-webhook-ca-file", ENV_ALERT_WEBHOOK_CA_FILE),
    Setting { key: None, flag: Some("output"), env: ENV_OUTPUT, provider_attribute: None, list: false },
];

/// The setting with environment variable `env`.
pub fn by_env(env: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.env == env)
}

/// The setting with config-file key `key`.
pub fn by_key(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == Some(key))
}

/// The settings `lfm_collector` writes into the function's environment from its attributes.
pub fn provider_settings() -> impl Iterator<Item = &'static Setting> {
    SETTINGS.iter().filter(|s| s.provider_attribute.is_some())
}

/// How a person is told where to set it: `index_prefix (--index-prefix, LFM_INDEX_PREFIX)`.
impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> =
            [self.flag.map(|fl| format!("--{fl}")), Some(self.env.to_owned())].into_iter().flatten().collect();
        match self.key {
            Some(key) => write!(f, "{key} ({})", names.join(", ")),
            None => f.write_str(&names.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_name_is_unique_and_well_formed() {
        let mut envs = BTreeSet::new();
        let mut keys = BTreeSet::new();
        let mut flags = BTreeSet::new();
        for s in SETTINGS {
            assert!(envs.insert(s.env), "{} twice", s.env);
            assert!(s.env.starts_with("LFM_") && s.env.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'), "{}", s.env);
            if let Some(key) = s.key {
                assert!(keys.insert(key), "{key} twice");
                assert!(key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{key}");
            }
            if let Some(flag) = s.flag {
                assert!(flags.insert(flag), "{flag} twice");
                assert!(flag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{flag}");
            }
        }
    }

    #[test]
    fn the_password_is_environment_only() {
        let password = by_env(ENV_OPENSEARCH_PASSWORD).unwrap();
        assert_eq!((password.key, password.flag), (None, None));
    }

    #[test]
    fn lookups_and_display() {
        assert_eq!(by_key("index_prefix").unwrap().env, ENV_INDEX_PREFIX);
        assert_eq!(by_env(ENV_BACKFILL).unwrap().flag, Some("backfill"));
        assert_eq!(by_key("index_prefix").unwrap().to_string(), "index_prefix (--index-prefix, LFM_INDEX_PREFIX)");
        assert_eq!(by_env(ENV_OPENSEARCH_PASSWORD).unwrap().to_string(), "LFM_OPENSEARCH_PASSWORD");
        let provider: Vec<&str> = provider_settings().map(|s| s.env).collect();
        assert_eq!(
            provider,
            [
                ENV_ACCOUNTS,
                ENV_ROLE_NAME,
                ENV_EXTERNAL_ID,
                ENV_REGIONS,
                ENV_OPENSEARCH_URL,
                ENV_OPENSEARCH_USER,
                ENV_OPENSEARCH_PASSWORD,
                ENV_OPENSEARCH_AUTH,
                ENV_OPENSEARCH_SIGV4_SERVICE,
                ENV_INDEX_PREFIX
            ]
        );
    }
}
