//! Where and how the store writes: the OpenSearch URL, the authentication ([`super::auth`]) and
//! the `_bulk` size. [`crate::config`] builds it from the user's settings; nothing in the store
//! reads the collector's configuration beyond it.

use super::auth::OpenSearchAuth;

/// Where and how documents are written. `auth`'s Debug hides the password.
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    pub url: String,
    /// `opensearch_auth`: none, basic (user + `LFM_OPENSEARCH_PASSWORD`) or sigv4.
    pub auth: OpenSearchAuth,
    pub bulk_max_docs: usize,
}
