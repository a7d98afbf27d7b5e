//! One readable sentence for a failed AWS call.
//!
//! [`AwsError::from_sdk`] reduces the SDK's `SdkError` (the same type for every service crate)
//! to what a person needs: the service and operation, what AWS answered (its error code and
//! message) or why no answer came (no credentials, endpoint unreachable, a timeout), and the
//! fix. [`AwsError::at`] adds where the call went and how the caller names its settings, so a
//! timeout says which setting to raise. `Display` is that sentence, without a final period,
//! so callers can embed it. Nothing here prints Rust `Debug` output.

use std::fmt;
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[cfg(test)]
mod tests;

/// What went wrong, as far as the fix is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credential chain found nothing: the request was never sent.
    NoCredentials,
    /// Credentials were found but could not be loaded (a profile, SSO or web identity failed).
    CredentialsUnavailable,
    /// AWS does not accept the credentials (unknown key, expired session, bad signature).
    InvalidCredentials,
    /// The identity may not perform the action.
    AccessDenied,
    /// No connection to the endpoint (refused, DNS, TLS).
    Unreachable,
    /// No answer in time.
    Timeout(TimeoutKind),
    /// AWS answered with another error code.
    Service,
    /// An answer the SDK could not read (not an AWS endpoint, a proxy's page ...).
    UnreadableResponse,
    Other,
}

/// Which of the [`crate::Timeouts`] ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    Attempt,
    Operation,
}

/// How a program names its settings, for the fix in a message (the provider's
/// `operation_timeout_seconds` is the collector's `--aws-operation-timeout` ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingNames {
    pub connect_timeout: &'static str,
    pub attempt_timeout: &'static str,
    pub operation_timeout: &'static str,
    /// Where the endpoint of a service is set (`{prefix}` is replaced by the service's
    /// prefix: `sts`, `iam` ...).
    pub endpoint: &'static str,
}

/// A failed AWS call, reduced to what a diagnostic needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub kind: ErrorKind,
    /// `STS`, `IAM`, `CloudWatch Logs` ...
    pub service: String,
    /// The service's prefix in IAM actions: `sts`, `iam`, `logs` ...
    pub prefix: String,
    /// `AssumeRole`, `GetRole` ...
    pub operation: String,
    /// AWS's error code (`NoSuchEntity`, `AccessDenied` ...); `None` when no AWS answer came.
    pub code: Option<String>,
    /// AWS's message, or the cause of a failure without an answer.
    pub message: String,
    pub status: Option<u16>,
    /// The URL the call went to, when the caller told ([`AwsError::at`]).
    pub endpoint: Option<String>,
    /// The limit that ran out, for [`ErrorKind::Timeout`].
    pub after: Option<Duration>,
    pub names: Option<SettingNames>,
}

/// Services LFM calls: (SDK crate suffix, name for people, IAM action prefix).
const SERVICES: &[(&str, &str, &str)] = &[
    ("sts", "STS", "sts"),
    ("iam", "IAM", "iam"),
    ("organizations", "Organizations", "organizations"),
    ("lambda", "Lambda", "lambda"),
    ("cloudwatch", "CloudWatch", "cloudwatch"),
    ("cloudwatchlogs", "CloudWatch Logs", "logs"),
    ("eventbridge", "EventBridge", "events"),
];

/// Error codes that mean AWS does not accept the credentials.
/// <https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html>
const INVALID_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
];

/// Error codes that mean the identity lacks a permission.
const ACCESS_DENIED: &[&str] =
    &["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "NotAuthorized"];

impl AwsError {
    /// From the SDK's error of operation error type `E` (`aws_sdk_iam::operation::get_role::GetRoleError`
    /// names the service and the operation).
    pub fn from_sdk<E>(error: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (service, prefix, operation) = service_and_operation(std::any::type_name::<E>());
        let mut e = AwsError {
            kind: ErrorKind::Other,
            service,
            prefix,
            operation,
            code: None,
            message: String::new(),
            status: None,
            endpoint: None,
            after: None,
            names: None,
        };
        match &error {
            SdkError::ServiceError(context) => {
                let err = context.err();
                e.code = err.code().map(str::to_owned);
                e.message = err.message().unwrap_or_default().to_owned();
                e.kind = classify_code(e.code.as_deref());
                e.status = status_of(&error);
            }
            SdkError::ResponseError(_) => {
                e.kind = ErrorKind::UnreadableResponse;
                e.status = status_of(&error);
                e.message = root_cause(&error);
            }
            SdkError::TimeoutError(_) => {
                let cause = chain(&error);
                let (kind, after) = timeout_of(&cause);
                e.kind = ErrorKind::Timeout(kind);
                e.after = after;
                e.message = cause;
            }
            SdkError::DispatchFailure(failure) => {
                if let Some(credentials) = find::<CredentialsError>(&error) {
                    return e.with_credentials(credentials);
                }
                let cause = chain(&error);
                match failure.as_connector_error() {
                    Some(c) if c.is_timeout() => {
                        let (kind, after) = timeout_of(&cause);
                        e.kind = ErrorKind::Timeout(if cause.contains("connect") { TimeoutKind::Connect } else { kind });
                        e.after = after;
                    }
                    Some(c) if c.is_io() => e.kind = ErrorKind::Unreachable,
                    _ => {}
                }
                e.message = root_cause(&error);
            }
            _ => {
                if let Some(credentials) = find::<CredentialsError>(&error) {
                    return e.with_credentials(credentials);
                }
                e.message = root_cause(&error);
            }
        }
        e
    }

    /// Loading credentials failed outside an SDK call (e.g. to sign a request to OpenSearch).
    pub fn from_credentials(error: &CredentialsError, service: &str, operation: &str) -> AwsError {
        let e = AwsError {
            kind: ErrorKind::Other,
            service: service.to_owned(),
            prefix: String::new(),
            operation: operation.to_owned(),
            code: None,
            message: String::new(),
            status: None,
            endpoint: None,
            after: None,
            names: None,
        };
        e.with_credentials(error)
    }

    /// An answer that has no error code (a missing field ...), for the same rendering.
    pub fn other(service: &str, operation: &str, message: impl Into<String>) -> AwsError {
        let (_, prefix, _) = service_and_operation("");
        AwsError {
            kind: ErrorKind::Other,
            service: service.to_owned(),
            prefix,
            operation: operation.to_owned(),
            code: None,
            message: message.into(),
            status: None,
            endpoint: None,
            after: None,
            names: None,
        }
    }

    /// The same error with AWS's `code` and `message` (tests, and answers checked by hand).
    pub fn service_error(service: &str, operation: &str, code: &str, message: impl Into<String>) -> AwsError {
        AwsError { kind: classify_code(Some(code)), code: Some(code.to_owned()), ..AwsError::other(service, operation, message) }
    }

    /// Where the call went and how the caller names its settings.
    pub fn at(mut self, endpoint: Option<&str>, names: SettingNames) -> AwsError {
        if let Some(url) = endpoint {
            self.endpoint = Some(url.to_owned());
        }
        self.names = Some(names);
        self
    }

    /// Whether AWS answered with error `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// `sts:AssumeRole`: the IAM action of the call.
    pub fn action(&self) -> String {
        format!("{}:{}", self.prefix, self.operation)
    }

    fn with_credentials(mut self, error: &CredentialsError) -> AwsError {
        self.kind = match error {
            CredentialsError::CredentialsNotLoaded(_) => ErrorKind::NoCredentials,
            _ => ErrorKind::CredentialsUnavailable,
        };
        self.message = root_cause(error);
        self
    }

    fn endpoint_text(&self) -> String {
        match &self.endpoint {
            Some(url) => url.clone(),
            None => format!("the {} endpoint", self.service),
        }
    }

    fn endpoint_setting(&self) -> String {
        match self.names {
            Some(n) if !self.prefix.is_empty() => n.endpoint.replace("{prefix}", &self.prefix),
            _ => "the endpoint setting".to_owned(),
        }
    }

    fn timeout_setting(&self, kind: TimeoutKind) -> &'static str {
        match (self.names, kind) {
            (Some(n), TimeoutKind::Connect) => n.connect_timeout,
            (Some(n), TimeoutKind::Attempt) => n.attempt_timeout,
            (Some(n), TimeoutKind::Operation) => n.operation_timeout,
            (None, TimeoutKind::Connect) => "the connect timeout",
            (None, TimeoutKind::Attempt) => "the per-attempt timeout",
            (None, TimeoutKind::Operation) => "the operation timeout",
        }
    }

    fn aws_answer(&self) -> String {
        let message = trim_period(&self.message);
        let mut parts: Vec<String> = Vec::new();
        match (&self.code, message.is_empty()) {
            (Some(code), false) => parts.push(format!("{code}: {message}")),
            (Some(code), true) => parts.push(code.clone()),
            (None, false) => parts.push(message.to_owned()),
            (None, true) => parts.push("no error code".to_owned()),
        }
        if let Some(status) = self.status {
            parts.push(format!("HTTP {status}"));
        }
        parts.join(", ")
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call = format!("{} {}", self.service, self.operation);
        match self.kind {
            ErrorKind::NoCredentials => write!(
                f,
                "{call} was not sent because no AWS credentials were found; the SDK looks for them in the \
                 environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN for temporary keys), \
                 in the shared config and credentials files (~/.aws/config, ~/.aws/credentials) under the profile \
                 AWS_PROFILE or `default` (SSO included), in a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE with \
                 AWS_ROLE_ARN), and in container or EC2 instance metadata: provide credentials in one of these places"
            ),
            ErrorKind::CredentialsUnavailable => write!(
                f,
                "{call} was not sent because the AWS credentials could not be loaded ({}): fix the source they come \
                 from (the profile in ~/.aws/config, an SSO login with `aws sso login`, the web identity token file)",
                trim_period(&self.message)
            ),
            ErrorKind::InvalidCredentials => write!(
                f,
                "{call} was refused because AWS does not accept the credentials ({}): renew them (sign in again if \
                 the session or SSO token expired) or replace the access key, and check that they belong to the \
                 partition of the region",
                self.aws_answer()
            ),
            ErrorKind::AccessDenied => write!(
                f,
                "{call} was denied ({}): allow {} to the identity making the call (its IAM policies, and any \
                 service control policy or permissions boundary that applies)",
                self.aws_answer(),
                self.action()
            ),
            ErrorKind::Unreachable => write!(
                f,
                "{call} failed because the endpoint {} could not be reached ({}): check {} and the network path \
                 (DNS, proxy, firewall)",
                self.endpoint_text(),
                lower_first(trim_period(&self.message)),
                self.endpoint_setting()
            ),
            ErrorKind::Timeout(kind) => {
                let limit = match self.after {
                    Some(d) => format!(" of {}", seconds(d)),
                    None => String::new(),
                };
                let what = match kind {
                    TimeoutKind::Connect => format!("could not connect to {} within the connect timeout{limit}", self.endpoint_text()),
                    TimeoutKind::Attempt => {
                        format!("got no answer from {} within the per-attempt timeout{limit}, in every attempt", self.endpoint_text())
                    }
                    TimeoutKind::Operation => {
                        format!("got no answer from {} within the operation timeout{limit} (all attempts)", self.endpoint_text())
                    }
                };
                write!(
                    f,
                    "{call} {what}: check that {} is right and answers, or raise {}",
                    self.endpoint_setting(),
                    self.timeout_setting(kind)
                )
            }
            ErrorKind::Service => write!(f, "{call} failed: {}", self.aws_answer()),
            ErrorKind::UnreadableResponse => write!(
                f,
                "{call} failed: {} answered with something the SDK could not read ({}): check that {} points at \
                 an AWS {} endpoint",
                self.endpoint_text(),
                self.aws_answer(),
                self.endpoint_setting(),
                self.service
            ),
            ErrorKind::Other => write!(f, "{call} failed: {}", self.aws_answer()),
        }
    }
}

impl std::error::Error for AwsError {}

fn classify_code(code: Option<&str>) -> ErrorKind {
    match code {
        Some(c) if INVALID_CREDENTIALS.contains(&c) => ErrorKind::InvalidCredentials,
        Some(c) if ACCESS_DENIED.contains(&c) => ErrorKind::AccessDenied,
        _ => ErrorKind::Service,
    }
}

/// (`STS`, `sts`, `AssumeRole`) from `aws_sdk_sts::operation::assume_role::AssumeRoleError`.
/// The SDK names every operation error `<Operation>Error` in module
/// `aws_sdk_<service>::operation::<operation>`; a name of another shape gives generic words.
fn service_and_operation(type_name: &str) -> (String, String, String) {
    let mut parts = type_name.split("::");
    let krate = parts.next().unwrap_or_default();
    let last = type_name.rsplit("::").next().unwrap_or_default();
    let (service, prefix) = match krate.strip_prefix("aws_sdk_") {
        Some(suffix) => SERVICES
            .iter()
            .find(|(s, _, _)| *s == suffix)
            .map(|(_, name, prefix)| (name.to_string(), prefix.to_string()))
            .unwrap_or_else(|| (suffix.to_uppercase(), suffix.to_owned())),
        None => ("AWS".to_owned(), String::new()),
    };
    let operation = match last.strip_suffix("Error") {
        Some(op) if !op.is_empty() && type_name.contains("::operation::") => op.to_owned(),
        _ => "call".to_owned(),
    };
    (service, prefix, operation)
}

fn status_of<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// The first error of type `T` in `error`'s source chain.
fn find<'a, T: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// Every cause's Display, joined by ": ", repeats left out (Display only: Debug output of
/// SDK internals is not for people).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        let part = e.to_string();
        if !part.is_empty() && !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        next = e.source();
    }
    text
}

/// The innermost cause's Display (`Connection refused (os error 111)` rather than the SDK's
/// "dispatch failure" / "io error" wrappers), without the OS error number.
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() {
            last = text;
        }
        next = e.source();
    }
    match last.find(" (os error") {
        Some(i) => last[..i].to_owned(),
        None => last,
    }
}

/// Which timeout the SDK reports, and after how long: its texts are "operation timeout (all
/// attempts including retries) occurred after 10s", "operation attempt timeout (single
/// attempt) occurred after 5s" and "HTTP connect timeout occurred after 1s".
fn timeout_of(text: &str) -> (TimeoutKind, Option<Duration>) {
    let kind = if text.contains("attempt timeout") {
        TimeoutKind::Attempt
    } else if text.contains("connect timeout") {
        TimeoutKind::Connect
    } else {
        TimeoutKind::Operation
    };
    let after = text.split("occurred after ").nth(1).and_then(parse_duration);
    (kind, after)
}

/// `10s`, `1.5s`, `500ms` (Rust's `Duration` Debug form, which the SDK's messages use).
fn parse_duration(text: &str) -> Option<Duration> {
    let token: String = text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
    let (number, scale) = if let Some(n) = token.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = token.strip_suffix("µs") {
        (n, 0.000_001)
    } else if let Some(n) = token.strip_suffix('s') {
        (n, 1.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| Duration::from_secs_f64(n * scale))
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", s as u64)
    } else {
        format!("{s:.1} s")
    }
}

fn trim_period(text: &str) -> &str {
    text.trim().trim_end_matches('.')
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if !text.starts_with("HTTP") && !text.starts_with("DNS") && !text.starts_with("TLS") => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}
