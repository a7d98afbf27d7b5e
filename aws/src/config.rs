//! The SDK configuration shared by every client: region, credentials (the SDK's default
//! chain), timeouts and retries. Endpoint overrides are applied per service with
//! [`with_endpoint`].
//!
//! Without timeouts an endpoint that accepts the connection and never answers holds a call
//! forever (the SDK sets none by default). The three bounds follow the SDK's `TimeoutConfig`:
//! <https://docs.aws.amazon.com/sdk-for-rust/latest/dg/timeouts.html>.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// How long an AWS call may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// One attempt: from sending the request to the end of the answer.
    pub attempt: Duration,
    /// The whole call, all attempts and the backoff between them included.
    pub operation: Duration,
}

impl Timeouts {
    /// Connect within 10 s, answer within 60 s per attempt, give up after 150 s in all.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(10),
        attempt: Duration::from_secs(60),
        operation: Duration::from_secs(150),
    };

    /// From whole seconds (as users write them); each must be at least 1.
    pub fn from_seconds(connect: u64, attempt: u64, operation: u64) -> Result<Timeouts, String> {
        for (name, value) in [("connect", connect), ("per-attempt", attempt), ("operation", operation)] {
            if value == 0 {
                return Err(format!("the {name} timeout must be at least 1 second"));
            }
        }
        Ok(Timeouts {
            connect: Duration::from_secs(connect),
            attempt: Duration::from_secs(attempt),
            operation: Duration::from_secs(operation),
        })
    }

    /// The SDK's form.
    pub fn sdk(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

/// What [`load`] needs besides the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsSettings {
    /// `None`: the SDK's region chain (AWS_REGION, profile ...).
    pub region: Option<String>,
    pub timeouts: Timeouts,
    /// Attempts per call, the first included (standard retry mode: exponential backoff with
    /// jitter on throttling, 5xx and transport errors).
    pub max_attempts: u32,
}

impl Default for AwsSettings {
    /// The SDK's standard mode: 3 attempts.
    fn default() -> Self {
        AwsSettings { region: None, timeouts: Timeouts::DEFAULT, max_attempts: 3 }
    }
}

/// The base configuration: default credential chain (environment, shared config and
/// credentials files, web identity, container and instance metadata), endpoints from the
/// environment (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), and `settings`. Makes no
/// AWS call: credentials resolve on first use.
pub async fn load(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(settings.timeouts.sdk())
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)));
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
}

/// `config` with every client built from it sent to `endpoint` (when given).
pub fn with_endpoint(config: &SdkConfig, endpoint: Option<&str>) -> SdkConfig {
    match endpoint {
        Some(url) => config.to_builder().endpoint_url(url).build(),
        None => config.clone(),
    }
}

/// AWS's regional endpoint of a service (`prefix` as in IAM actions: `sts`, `lambda`,
/// `logs` ...), for messages when no endpoint is overridden. IAM is global.
/// <https://docs.aws.amazon.com/general/latest/gr/rande.html>
pub fn default_endpoint(prefix: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    match prefix {
        "iam" if !region.starts_with("cn-") && !region.starts_with("us-gov-") => format!("https://iam.{suffix}"),
        _ => format!("https://{prefix}.{region}.{suffix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_must_be_positive() {
        assert_eq!(Timeouts::from_seconds(1, 2, 3).unwrap().operation, Duration::from_secs(3));
        let e = Timeouts::from_seconds(5, 0, 30).unwrap_err();
        assert!(e.contains("per-attempt") && e.contains("at least 1"), "{e}");
    }

    #[test]
    fn sdk_timeouts_carry_all_three() {
        let t = Timeouts::DEFAULT.sdk();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(60)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(150)));
    }

    #[test]
    fn default_endpoints() {
        assert_eq!(default_endpoint("sts", "eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(default_endpoint("iam", "eu-west-1"), "https://iam.amazonaws.com");
        assert_eq!(default_endpoint("lambda", "cn-north-1"), "https://lambda.cn-north-1.amazonaws.com.cn");
    }
}
