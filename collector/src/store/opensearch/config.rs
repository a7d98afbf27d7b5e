//! Where and how the store writes: the OpenSearch URL, the authentication, the timeouts and the
//! `_bulk` size. [`crate::config`] builds it from the user's settings; nothing in the store
//! reads the collector's configuration beyond it. [`OpenSearchConfig::client`] turns it into the
//! `lfm-opensearch` client configuration, with the collector's setting names for its errors.

use lfm_schema::contract;

pub use lfm_opensearch::{Auth as OpenSearchAuth, SigV4Service, Timeouts};

/// Where and how documents are written. `auth`'s Debug hides the password.
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    pub url: String,
    /// `opensearch_auth`: none, basic (user + `LFM_OPENSEARCH_PASSWORD`) or sigv4.
    pub auth: OpenSearchAuth,
    pub bulk_max_docs: usize,
    /// `opensearch_connect_timeout`, `opensearch_request_timeout`, `opensearch_operation_timeout`.
    pub timeouts: Timeouts,
}

impl OpenSearchConfig {
    /// The client configuration; its errors name the collector's settings.
    pub fn client(&self) -> lfm_opensearch::ClientConfig {
        let named = |env: &str| contract::by_env(env).expect("a contract setting").to_string();
        let mut config = lfm_opensearch::ClientConfig::new(self.url.clone(), self.auth.clone());
        config.timeouts = self.timeouts;
        config.settings = lfm_opensearch::SettingNames {
            url: named(contract::ENV_OPENSEARCH_URL),
            credentials: format!(
                "{} and {} (with opensearch_auth = sigv4: the AWS identity, {} and {})",
                named(contract::ENV_OPENSEARCH_USER),
                named(contract::ENV_OPENSEARCH_PASSWORD),
                named(contract::ENV_OPENSEARCH_SIGV4_SERVICE),
                named(contract::ENV_OPENSEARCH_REGION),
            ),
            connect_timeout: named(contract::ENV_OPENSEARCH_CONNECT_TIMEOUT),
            attempt_timeout: named(contract::ENV_OPENSEARCH_REQUEST_TIMEOUT),
            overall_timeout: named(contract::ENV_OPENSEARCH_OPERATION_TIMEOUT),
            attempts: None,
        };
        config
    }
}
