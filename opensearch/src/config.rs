//! What a caller configures: where OpenSearch is ([`ClientConfig::url`]), how to authenticate
//! ([`Auth`]), how long to wait ([`Timeouts`]), how often to try ([`RetryPolicy`]), and the
//! names its users know the settings by ([`SettingNames`]), so that an error can say which one
//! to change.

use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;

use lfm_schema::contract::opensearch_auth as contract;

use crate::retry::RetryPolicy;

/// Which AWS service a SigV4 signature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigV4Service {
    /// Amazon OpenSearch Service (managed domains).
    Es,
    /// Amazon OpenSearch Serverless collections.
    Aoss,
}

impl SigV4Service {
    /// The accepted values, from the contract in `lfm-schema`.
    pub const ACCEPTED: &'static str = contract::SIGV4_SERVICES_ACCEPTED;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es => contract::SIGV4_SERVICE_ES,
            Self::Aoss => contract::SIGV4_SERVICE_AOSS,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            contract::SIGV4_SERVICE_ES => Some(Self::Es),
            contract::SIGV4_SERVICE_AOSS => Some(Self::Aoss),
            _ => None,
        }
    }
}

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (a cluster without the security plugin, or behind a trusted network).
    None,
    /// HTTP basic auth (the security plugin's internal users).
    Basic { username: String, password: Option<String> },
    /// AWS Signature Version 4; `region: None` means the AWS SDK's region (`AWS_REGION`, profile).
    SigV4 { service: SigV4Service, region: Option<String> },
}

impl Auth {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Basic { .. } => "basic",
            Self::SigV4 { .. } => "sigv4",
        }
    }
}

/// Hides the password.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic { username, password } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &password.as_ref().map(|_| "***"))
                .finish(),
            Self::SigV4 { service, region } => f.debug_struct("SigV4").field("service", service).field("region", region).finish(),
        }
    }
}

/// How long to wait. A silent endpoint (TCP accepted, no answer) fails after `overall` at the
/// latest, whatever the retry policy says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// One attempt: from sending the request to the end of the answer.
    pub attempt: Duration,
    /// One call, all attempts and the waits between them included.
    pub overall: Duration,
}

impl Timeouts {
    pub const DEFAULT_CONNECT: Duration = Duration::from_secs(10);
    pub const DEFAULT_ATTEMPT: Duration = Duration::from_secs(30);
    pub const DEFAULT_OVERALL: Duration = Duration::from_secs(120);
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Self::DEFAULT_CONNECT, attempt: Self::DEFAULT_ATTEMPT, overall: Self::DEFAULT_OVERALL }
    }
}

/// The names the caller's users set things by (a CLI flag and environment variable, a Terraform
/// attribute): an [`crate::Error`] tells the user which one to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingNames {
    /// What sets the URL.
    pub url: String,
    /// What sets the credentials (basic auth or SigV4).
    pub credentials: String,
    pub connect_timeout: String,
    pub attempt_timeout: String,
    pub overall_timeout: String,
    /// What bounds the attempts (`None`: the caller has no such setting).
    pub attempts: Option<String>,
}

impl Default for SettingNames {
    fn default() -> Self {
        Self {
            url: "the OpenSearch URL".into(),
            credentials: "the credentials (basic auth user and password, or the AWS identity for SigV4)".into(),
            connect_timeout: "the connect timeout (Timeouts::connect)".into(),
            attempt_timeout: "the per-attempt timeout (Timeouts::attempt)".into(),
            overall_timeout: "the overall timeout (Timeouts::overall)".into(),
            attempts: Some("the number of attempts (RetryPolicy::max_attempts)".into()),
        }
    }
}

/// Everything a [`crate::Client`] needs.
#[derive(Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://search-lfm-abc.eu-west-1.es.amazonaws.com` (a trailing `/` is dropped).
    pub url: String,
    pub auth: Auth,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub settings: SettingNames,
    /// SigV4 only: where credentials come from; `None` is the AWS SDK's default chain
    /// (environment, profile, container or instance role; on Lambda the execution role).
    pub aws_credentials: Option<SharedCredentialsProvider>,
    /// Headers sent with every request (e.g. Dashboards' `osd-xsrf`).
    pub default_headers: Vec<(&'static str, &'static str)>,
}

impl ClientConfig {
    pub fn new(url: impl Into<String>, auth: Auth) -> Self {
        let url: String = url.into();
        Self {
            url: url.trim_end_matches('/').to_string(),
            auth,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            settings: SettingNames::default(),
            aws_credentials: None,
            default_headers: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}
