//! How the collector authenticates to OpenSearch: the values of `opensearch_auth`
//! (`LFM_OPENSEARCH_AUTH`, the `lfm_collector` attribute of the same name) and of
//! `opensearch_sigv4_service` (`LFM_OPENSEARCH_SIGV4_SERVICE`).
//!
//! Unset means no authentication, or basic auth when a user is given. The SigV4 service names
//! are the signing names of Amazon OpenSearch Service (`es`, managed domains) and OpenSearch
//! Serverless (`aoss`, collections): "Signing HTTP requests to Amazon OpenSearch Service",
//! <https://docs.aws.amazon.com/opensearch-service/latest/developerguide/request-signing.html>.

/// `opensearch_auth = "basic"`: HTTP basic auth (user + `LFM_OPENSEARCH_PASSWORD`).
pub const AUTH_BASIC: &str = "basic";
/// `opensearch_auth = "sigv4"`: requests signed with the AWS credentials (IAM).
pub const AUTH_SIGV4: &str = "sigv4";
/// Every accepted `opensearch_auth`.
pub const AUTH_VALUES: &[&str] = &[AUTH_BASIC, AUTH_SIGV4];
/// What `opensearch_auth` accepts, for error messages.
pub const AUTH_ACCEPTED: &str = "basic (with opensearch_user and LFM_OPENSEARCH_PASSWORD) or sigv4 (IAM, AWS credentials)";

/// SigV4 signing name of an Amazon OpenSearch Service domain (the default).
pub const SIGV4_SERVICE_ES: &str = "es";
/// SigV4 signing name of an OpenSearch Serverless collection.
pub const SIGV4_SERVICE_AOSS: &str = "aoss";
/// Every accepted `opensearch_sigv4_service`.
pub const SIGV4_SERVICES: &[&str] = &[SIGV4_SERVICE_ES, SIGV4_SERVICE_AOSS];
/// What `opensearch_sigv4_service` accepts, for error messages.
pub const SIGV4_SERVICES_ACCEPTED: &str = "es (Amazon OpenSearch Service domain) or aoss (OpenSearch Serverless collection)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accepted_texts_name_every_value() {
        for v in AUTH_VALUES {
            assert!(AUTH_ACCEPTED.contains(&format!("{v} (")), "{v}");
        }
        for v in SIGV4_SERVICES {
            assert!(SIGV4_SERVICES_ACCEPTED.contains(&format!("{v} (")), "{v}");
        }
    }
}
