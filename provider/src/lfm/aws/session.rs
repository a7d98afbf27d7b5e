//! AWS sessions: the base session (default credential chain, optionally through the provider's
//! `assume_role`), per-service endpoint overrides, and sessions inside member accounts
//! obtained with `sts:AssumeRole`.

use crate::lfm::config::{Endpoints, ProviderConfig};
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use std::sync::RwLock;
use std::time::SystemTime;
use tokio::sync::OnceCell;

/// Session name LFM uses when it assumes a role in a member account (visible in CloudTrail).
pub const SESSION_NAME: &str = "terraform-provider-lfm";

/// The configured base session: the identity Terraform runs as (normally in the management
/// account).
pub struct Aws {
    base: SdkConfig,
    endpoints: Endpoints,
    partition: OnceCell<String>,
    /// The provider block's timeouts (also for OpenSearch calls: `lfm_dashboard_bundle`).
    timeouts: lfm_aws::Timeouts,
}

/// Credentials for one member account, from assuming a role there.
pub struct AccountSession {
    config: SdkConfig,
    endpoints: Endpoints,
}

/// An AWS API error reduced to what a diagnostic needs.
#[derive(Clone, Debug)]
pub struct AwsError {
    /// The service's error code (`NoSuchEntity`, `AccessDenied` ...); `None` for transport errors.
    pub code: Option<String>,
    pub message: String,
}

/// How the provider's settings are named in the fix of an AWS error.
pub const SETTINGS: lfm_aws::SettingNames = lfm_aws::SettingNames {
    connect_timeout: "the provider's connect_timeout_seconds",
    attempt_timeout: "the provider's request_timeout_seconds",
    operation_timeout: "the provider's operation_timeout_seconds",
    endpoint: "the provider's `endpoints.{prefix}` setting",
};

/// Where this provider process sends each service (set by [`Aws::new`]): Terraform starts one
/// provider process per provider configuration, so one table serves every error it renders.
static ENDPOINTS: RwLock<Option<(Endpoints, String)>> = RwLock::new(None);

/// The URL of the service with IAM prefix `prefix`: the `endpoints` override, else AWS's
/// regional endpoint.
fn endpoint_of(prefix: &str) -> Option<String> {
    let table = ENDPOINTS.read().ok()?;
    let (endpoints, region) = table.as_ref()?;
    let overridden = match prefix {
        "sts" => &endpoints.sts,
        "iam" => &endpoints.iam,
        "organizations" => &endpoints.organizations,
        "lambda" => &endpoints.lambda,
        "cloudwatch" => &endpoints.cloudwatch,
        "logs" => &endpoints.logs,
        "events" => &endpoints.events,
        "ssm" => &endpoints.ssm,
        "sns" => &endpoints.sns,
        _ => return None,
    };
    Some(overridden.clone().unwrap_or_else(|| lfm_aws::default_endpoint(prefix, region)))
}

impl AwsError {
    /// `message` becomes the one readable sentence of [`lfm_aws::AwsError`] (service,
    /// operation, AWS's code and message, the fix); `code` stays for decisions.
    pub fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let e = lfm_aws::AwsError::from_sdk(err);
        let endpoint = endpoint_of(&e.prefix);
        AwsError { code: e.code.clone(), message: e.at(endpoint.as_deref(), SETTINGS).to_string() }
    }
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl std::fmt::Display for AwsError {
    /// Without a final period: callers end the sentence.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = self.message.trim().trim_end_matches('.');
        match &self.code {
            Some(code) if !message.contains(code.as_str()) => write!(f, "{code}: {message}"),
            _ => f.write_str(message),
        }
    }
}

impl Aws {
    /// Build the base session. Makes no AWS call: credentials resolve on first use.
    pub async fn new(cfg: &ProviderConfig) -> Aws {
        if let Ok(mut table) = ENDPOINTS.write() {
            *table = Some((cfg.endpoints.clone(), cfg.region.clone()));
        }
        let default_chain = lfm_aws::load(&lfm_aws::AwsSettings {
            region: Some(cfg.region.clone()),
            timeouts: cfg.timeouts,
            max_attempts: cfg.max_retries.map_or(3, |r| r + 1),
        })
        .await;
        let base = match &cfg.assume_role {
            None => default_chain,
            Some(ar) => {
                let mut provider = aws_config::sts::AssumeRoleProvider::builder(ar.role_arn.clone())
                    .session_name(ar.session_name.clone().unwrap_or_else(|| SESSION_NAME.to_owned()))
                    .configure(&with_endpoint(&default_chain, cfg.endpoints.sts.as_deref()));
                if let Some(ext) = &ar.external_id {
                    provider = provider.external_id(ext.clone());
                }
                let provider = provider.build().await;
                default_chain.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
            }
        };
        Aws { base, endpoints: cfg.endpoints.clone(), partition: OnceCell::new(), timeouts: cfg.timeouts }
    }

    /// The provider block's connect, per-attempt and operation timeouts.
    pub fn timeouts(&self) -> lfm_aws::Timeouts {
        self.timeouts
    }

    pub fn region(&self) -> &str {
        self.base.region().map(Region::as_ref).unwrap_or_default()
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&with_endpoint(&self.base, self.endpoints.sts.as_deref()))
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&with_endpoint(&self.base, self.endpoints.organizations.as_deref()))
    }

    /// The base session's IAM client (for the management account itself).
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&with_endpoint(&self.base, self.endpoints.iam.as_deref()))
    }

    /// Lambda, CloudWatch Logs and EventBridge in the provider's own account and region
    /// (where `lfm_collector` deploys the collector).
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&with_endpoint(&self.base, self.endpoints.lambda.as_deref()))
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&with_endpoint(&self.base, self.endpoints.logs.as_deref()))
    }

    pub fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&with_endpoint(&self.base, self.endpoints.events.as_deref()))
    }

    /// Systems Manager Parameter Store in the provider's account and region
    /// (`lfm_alert_destination` keeps webhook secrets there).
    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&with_endpoint(&self.base, self.endpoints.ssm.as_deref()))
    }

    /// SNS in the provider's account and region.
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&with_endpoint(&self.base, self.endpoints.sns.as_deref()))
    }

    /// The base session's credentials, for requests signed outside the SDK (SigV4 to OpenSearch
    /// in `lfm_dashboard_bundle`).
    pub async fn credentials(&self) -> Result<Credentials, AwsError> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self.base.credentials_provider().ok_or_else(|| AwsError { code: None, message: "no AWS credentials provider is configured".into() })?;
        provider.provide_credentials().await.map_err(|e| AwsError {
            code: None,
            message: lfm_aws::AwsError::from_credentials(&e, "OpenSearch", "request signing (SigV4)").to_string(),
        })
    }

    /// The partition (`aws`, `aws-us-gov`, `aws-cn` ...) of the caller, from its identity ARN;
    /// from the region when the identity cannot be read.
    pub async fn partition(&self) -> String {
        let found = self
            .partition
            .get_or_try_init(|| async {
                let id = self.sts().get_caller_identity().send().await.map_err(AwsError::from_sdk)?;
                id.arn()
                    .and_then(|arn| arn.split(':').nth(1))
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError { code: None, message: "caller identity has no ARN".into() })
            })
            .await;
        match found {
            Ok(p) => p.clone(),
            Err(_) => partition_for_region(self.region()).to_owned(),
        }
    }

    /// `arn:{partition}:iam::{account}:role/{name}`.
    pub async fn role_arn(&self, account_id: &str, role_name: &str) -> String {
        role_arn(&self.partition().await, account_id, role_name)
    }

    /// Assume `role_name` in `account_id` with the base credentials.
    pub async fn assume_role(&self, account_id: &str, role_name: &str) -> Result<AccountSession, AwsError> {
        let arn = self.role_arn(account_id, role_name).await;
        let out = self
            .sts()
            .assume_role()
            .role_arn(&arn)
            .role_session_name(SESSION_NAME)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        let c = out
            .credentials()
            .ok_or_else(|| AwsError { code: None, message: format!("AssumeRole into {arn} returned no credentials") })?;
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            SystemTime::try_from(*c.expiration()).ok(),
            "lfm-assume-role",
        );
        let config = self.base.to_builder().credentials_provider(SharedCredentialsProvider::new(creds)).build();
        Ok(AccountSession { config, endpoints: self.endpoints.clone() })
    }
}

impl AccountSession {
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&with_endpoint(&self.config, self.endpoints.iam.as_deref()))
    }
}

/// `arn:{partition}:iam::{account}:role/{name}`, from the contract both halves share.
pub use lfm_schema::contract::role_arn;

/// The partition a region belongs to (used only when the caller identity is unavailable): the
/// one table both halves use.
pub use lfm_schema::contract::partition_of_region as partition_for_region;

use lfm_aws::with_endpoint;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_by_region() {
        assert_eq!(partition_for_region("us-east-1"), "aws");
        assert_eq!(partition_for_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_for_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_for_region("us-iso-east-1"), "aws-iso");
        assert_eq!(role_arn("aws-us-gov", "111122223333", "R"), "arn:aws-us-gov:iam::111122223333:role/R");
    }

    /// A loopback endpoint that answers every request 503 (STS's "ServiceUnavailable"),
    /// counting requests.
    async fn always_unavailable() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let mut got = Vec::new();
                    // One request per connection: read the head and the body (Content-Length).
                    loop {
                        let Ok(n) = sock.read(&mut buf).await else { return };
                        if n == 0 { return; }
                        got.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&got).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let len = text[..end].lines()
                                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                                .unwrap_or(0);
                            if got.len() >= end + 4 + len { break; }
                        }
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    let body = "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>try later</Message></Error><RequestId>1</RequestId></ErrorResponse>";
                    let reply = format!("HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        (url, count)
    }

    #[tokio::test]
    async fn max_retries_bounds_the_attempts_of_a_transient_failure() {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        for (max_retries, attempts) in [(Some(0), 1), (Some(2), 3), (None, 3)] {
            let (url, count) = always_unavailable().await;
            let cfg = ProviderConfig {
                region: "us-east-1".into(),
                assume_role: None,
                endpoints: Endpoints { sts: Some(url), ..Default::default() },
                max_retries,
                timeouts: lfm_aws::Timeouts::DEFAULT,
            };
            let err = Aws::new(&cfg).await.sts().get_caller_identity().send().await.unwrap_err();
            let err = AwsError::from_sdk(err);
            assert_eq!(err.code.as_deref(), Some("ServiceUnavailable"), "{err}");
            assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), attempts, "max_retries = {max_retries:?}");
        }
    }
}
