//! Each case against a real SDK client and a real socket on loopback: a refused port, a
//! listener that never answers, and one that answers like STS or IAM with an error.

use super::*;
use crate::config::Timeouts;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NAMES: SettingNames = SettingNames {
    connect_timeout: "connect_timeout_seconds",
    attempt_timeout: "request_timeout_seconds",
    operation_timeout: "operation_timeout_seconds",
    endpoint: "endpoints.{prefix}",
};

/// What the credential chain returns when no source has credentials.
#[derive(Debug)]
struct NoCredentials;
impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded("no providers in chain provided credentials")))
    }
}

async fn sdk(endpoint: &str, timeouts: Timeouts, attempts: u32, credentials: Option<Credentials>) -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .timeout_config(timeouts.sdk())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts));
    match credentials {
        Some(c) => loader.credentials_provider(c),
        None => loader.credentials_provider(NoCredentials),
    }
    .load()
    .await
}

fn keys() -> Option<Credentials> {
    Some(Credentials::new("AKIAEXAMPLE", "secret", None, None, "test"))
}

async fn caller_identity(config: &aws_config::SdkConfig) -> AwsError {
    let err = aws_sdk_sts::Client::new(config).get_caller_identity().send().await.unwrap_err();
    AwsError::from_sdk(err)
}

/// A port nothing listens on.
async fn refused() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// Accepts connections, reads, never answers.
async fn silent() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    url
}

/// Answers every request with `status` and an AWS query-protocol error body.
async fn answering(status: u16, code: &str, message: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    );
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                loop {
                    let Ok(n) = sock.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} Error\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

fn assert_readable(text: &str) {
    for internal in ["DispatchFailure", "ConnectorError", "hyper", "Some(", "{ ", "os error", ".."] {
        assert!(!text.contains(internal), "SDK internals ({internal}) in: {text}");
    }
}

#[tokio::test]
async fn no_credentials_lists_where_they_are_looked_for() {
    let e = caller_identity(&sdk(&refused().await, Timeouts::DEFAULT, 1, None).await).await.at(None, NAMES);
    assert_eq!(e.kind, ErrorKind::NoCredentials, "{e}");
    let text = e.to_string();
    for place in ["STS GetCallerIdentity", "no AWS credentials were found", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "~/.aws/credentials", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "instance metadata"] {
        assert!(text.contains(place), "{place} missing: {text}");
    }
    assert!(!text.contains("network"), "{text}");
    assert_readable(&text);
}

#[tokio::test]
async fn invalid_and_expired_tokens() {
    for code in ["InvalidClientTokenId", "ExpiredToken"] {
        let url = answering(403, code, "The security token included in the request is invalid.").await;
        let e = caller_identity(&sdk(&url, Timeouts::DEFAULT, 1, keys()).await).await;
        assert_eq!(e.kind, ErrorKind::InvalidCredentials, "{e}");
        let text = e.to_string();
        assert!(text.starts_with("STS GetCallerIdentity was refused because AWS does not accept the credentials"), "{text}");
        assert!(text.contains(&format!("{code}: The security token included in the request is invalid, HTTP 403")), "{text}");
        assert!(text.contains("renew them"), "{text}");
        assert_readable(&text);
    }
}

#[tokio::test]
async fn access_denied_names_the_action() {
    let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole on resource: role LFM";
    let url = answering(403, "AccessDenied", message).await;
    let config = sdk(&url, Timeouts::DEFAULT, 1, keys()).await;
    let err = aws_sdk_iam::Client::new(&config).get_role().role_name("LFM").send().await.unwrap_err();
    let e = AwsError::from_sdk(err);
    assert_eq!((e.kind, e.action()), (ErrorKind::AccessDenied, "iam:GetRole".to_owned()));
    assert!(e.is("AccessDenied"));
    let text = e.to_string();
    assert!(text.starts_with("IAM GetRole was denied (AccessDenied: User: arn:aws:iam::123456789012:user/ci"), "{text}");
    assert!(text.contains("allow iam:GetRole to the identity making the call"), "{text}");
    assert_readable(&text);
}

#[tokio::test]
async fn other_service_errors_keep_code_and_message() {
    let url = answering(400, "ValidationError", "1 validation error detected.").await;
    let e = caller_identity(&sdk(&url, Timeouts::DEFAULT, 1, keys()).await).await;
    assert_eq!(e.to_string(), "STS GetCallerIdentity failed: ValidationError: 1 validation error detected, HTTP 400");
}

#[tokio::test]
async fn refused_connection_names_the_endpoint() {
    let url = refused().await;
    let e = caller_identity(&sdk(&url, Timeouts::DEFAULT, 1, keys()).await).await.at(Some(&url), NAMES);
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    let text = e.to_string();
    assert_eq!(
        text,
        format!("STS GetCallerIdentity failed because the endpoint {url} could not be reached (connection refused): check endpoints.sts and the network path (DNS, proxy, firewall)")
    );
    assert_readable(&text);
}

#[tokio::test]
async fn silent_endpoint_times_out_naming_endpoint_and_setting() {
    let url = silent().await;
    // Per attempt 1 s, 3 attempts, but the whole operation may take only 2 s.
    let timeouts = Timeouts { connect: Duration::from_secs(1), attempt: Duration::from_secs(1), operation: Duration::from_secs(2) };
    let started = Instant::now();
    let e = caller_identity(&sdk(&url, timeouts, 3, keys()).await).await.at(Some(&url), NAMES);
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert_eq!((e.kind, e.after), (ErrorKind::Timeout(TimeoutKind::Operation), Some(Duration::from_secs(2))), "{e}");
    let text = e.to_string();
    assert_eq!(
        text,
        format!("STS GetCallerIdentity got no answer from {url} within the operation timeout of 2 s (all attempts): check that endpoints.sts is right and answers, or raise operation_timeout_seconds")
    );
    assert_readable(&text);

    // One attempt, shorter than the operation: the per-attempt setting is the one to raise.
    let timeouts = Timeouts { operation: Duration::from_secs(30), ..timeouts };
    let e = caller_identity(&sdk(&url, timeouts, 1, keys()).await).await.at(Some(&url), NAMES);
    assert_eq!(e.kind, ErrorKind::Timeout(TimeoutKind::Attempt), "{e}");
    assert!(e.to_string().contains("within the per-attempt timeout of 1 s") && e.to_string().ends_with("raise request_timeout_seconds"), "{e}");
}

#[test]
fn service_and_operation_from_the_sdk_type() {
    let (s, p, o) = service_and_operation(std::any::type_name::<aws_sdk_sts::operation::assume_role::AssumeRoleError>());
    assert_eq!((s.as_str(), p.as_str(), o.as_str()), ("STS", "sts", "AssumeRole"));
    let (s, p, o) = service_and_operation("aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError");
    assert_eq!((s.as_str(), p.as_str(), o.as_str()), ("CloudWatch Logs", "logs", "StartQuery"));
    assert_eq!(service_and_operation("something::Else").0, "AWS");
}

#[test]
fn durations_from_sdk_texts() {
    assert_eq!(timeout_of("operation timeout (all attempts including retries) occurred after 10s"), (TimeoutKind::Operation, Some(Duration::from_secs(10))));
    assert_eq!(timeout_of("operation attempt timeout (single attempt) occurred after 1.5s"), (TimeoutKind::Attempt, Some(Duration::from_millis(1500))));
    assert_eq!(timeout_of("timeout: HTTP connect timeout occurred after 500ms").0, TimeoutKind::Connect);
}
