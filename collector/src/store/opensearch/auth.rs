//! How the collector authenticates to OpenSearch: nothing, basic auth (the security plugin's
//! internal users) or AWS Signature Version 4 for an Amazon OpenSearch Service domain (`es`) or
//! an OpenSearch Serverless collection (`aoss`) with IAM access control.
//!
//! Every request of [`super::OpenSearchStore`] (templates, mapping PUTs, `_bulk`, checkpoints,
//! run records, retention listing and deletes) goes through [`Authenticator::request`], which
//! returns an [`AuthedRequest`]: the same builder calls as reqwest's, signed at `send`.
//!
//! SigV4 credentials come from the AWS SDK's default chain (on Lambda: the execution role's
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`), resolved at the first
//! signed request and refreshed five minutes before they expire. The region is
//! `opensearch_region`, else the SDK's region (on Lambda: the function's region).
//!
//! [`signed_headers`] is the same small function as the provider's
//! `provider/src/lfm/dashboard_bundle/sigv4.rs`, duplicated on purpose (no shared crate for one
//! function): the payload hash goes in a signed `x-amz-content-sha256` header, which
//! Serverless requires and the managed service accepts. Tested against botocore's `SigV4Auth`.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

/// Which AWS service a SigV4 signature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigV4Service {
    /// Amazon OpenSearch Service (managed domains).
    Es,
    /// Amazon OpenSearch Serverless collections.
    Aoss,
}

impl SigV4Service {
    pub const ACCEPTED: &'static str = lfm_schema::contract::opensearch_auth::SIGV4_SERVICES_ACCEPTED;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es => lfm_schema::contract::opensearch_auth::SIGV4_SERVICE_ES,
            Self::Aoss => lfm_schema::contract::opensearch_auth::SIGV4_SERVICE_AOSS,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            lfm_schema::contract::opensearch_auth::SIGV4_SERVICE_ES => Some(Self::Es),
            lfm_schema::contract::opensearch_auth::SIGV4_SERVICE_AOSS => Some(Self::Aoss),
            _ => None,
        }
    }
}

/// How requests to OpenSearch are authenticated (`opensearch_auth`).
#[derive(Clone, PartialEq, Eq)]
pub enum OpenSearchAuth {
    /// No credentials (a cluster without the security plugin, or behind a trusted network).
    None,
    /// HTTP basic auth; the password comes only from `LFM_OPENSEARCH_PASSWORD`.
    Basic { username: String, password: Option<String> },
    /// Signed with the AWS credentials of the default chain; `region: None` means the SDK's region.
    SigV4 { service: SigV4Service, region: Option<String> },
}

impl OpenSearchAuth {
    /// The values `opensearch_auth` accepts.
    pub const ACCEPTED: &'static str = lfm_schema::contract::opensearch_auth::AUTH_ACCEPTED;

    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Basic { .. } => "basic",
            Self::SigV4 { .. } => "sigv4",
        }
    }
}

impl std::fmt::Debug for OpenSearchAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic { username, password } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &password.as_ref().map(|_| "***"))
                .finish(),
            Self::SigV4 { service, region } => {
                f.debug_struct("SigV4").field("service", service).field("region", region).finish()
            }
        }
    }
}

/// A request could not be sent: signing failed (no AWS credentials, no region), or HTTP did.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("SigV4 (opensearch_auth = sigv4): {0}")]
    Sign(String),
}

/// Applies an [`OpenSearchAuth`] to requests; holds the resolved AWS credentials for SigV4.
pub struct Authenticator {
    auth: OpenSearchAuth,
    /// SigV4: the credentials provider and region, resolved once at the first request.
    aws: tokio::sync::OnceCell<Result<(aws_credential_types::provider::SharedCredentialsProvider, String), String>>,
    credentials: tokio::sync::Mutex<Option<Credentials>>,
}

/// Credentials expiring sooner than this are fetched again before signing.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

impl Authenticator {
    pub fn new(auth: OpenSearchAuth) -> Self {
        Self { auth, aws: tokio::sync::OnceCell::new(), credentials: tokio::sync::Mutex::new(None) }
    }

    /// A request to `url`, with basic auth set now or SigV4 applied at [`AuthedRequest::send`].
    pub fn request<'a>(&'a self, http: &'a reqwest::Client, method: reqwest::Method, url: &str) -> AuthedRequest<'a> {
        let builder = http.request(method, url);
        let builder = match &self.auth {
            OpenSearchAuth::Basic { username, password } => builder.basic_auth(username, password.as_ref()),
            OpenSearchAuth::None | OpenSearchAuth::SigV4 { .. } => builder,
        };
        AuthedRequest { http, builder, authenticator: self }
    }

    async fn sign(&self, request: &mut reqwest::Request) -> Result<(), SendError> {
        let OpenSearchAuth::SigV4 { service, region } = &self.auth else {
            return Ok(());
        };
        let (provider, region) = self
            .aws
            .get_or_init(|| async {
                let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
                let provider = sdk.credentials_provider().ok_or_else(|| {
                    "no AWS credentials provider: set AWS credentials (environment, profile or role)".to_string()
                })?;
                let region = match region {
                    Some(region) => region.clone(),
                    None => sdk.region().map(|r| r.to_string()).ok_or_else(|| {
                        "no region to sign for: set opensearch_region (--opensearch-region, LFM_OPENSEARCH_REGION) \
                         or the AWS region (AWS_REGION)"
                            .to_string()
                    })?,
                };
                Ok((provider, region))
            })
            .await
            .as_ref()
            .map_err(|e| SendError::Sign(e.clone()))?;
        let credentials = {
            let mut cached = self.credentials.lock().await;
            let fresh = cached.as_ref().is_some_and(|c| match c.expiry() {
                Some(expiry) => expiry > SystemTime::now() + REFRESH_BEFORE_EXPIRY,
                None => true,
            });
            if !fresh {
                let loaded = provider
                    .provide_credentials()
                    .await
                    .map_err(|e| SendError::Sign(format!("cannot load AWS credentials: {}", super::error_chain(&e))))?;
                *cached = Some(loaded);
            }
            cached.clone().expect("credentials just loaded")
        };
        sign_request(request, &credentials, *service, region, SystemTime::now()).map_err(SendError::Sign)
    }
}

/// reqwest's request builder with the store's authentication applied at [`Self::send`].
pub struct AuthedRequest<'a> {
    http: &'a reqwest::Client,
    builder: reqwest::RequestBuilder,
    authenticator: &'a Authenticator,
}

impl AuthedRequest<'_> {
    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        Self { builder: self.builder.json(json), ..self }
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Self { builder: self.builder.body(body), ..self }
    }

    pub fn header(self, name: reqwest::header::HeaderName, value: &'static str) -> Self {
        Self { builder: self.builder.header(name, value), ..self }
    }

    pub async fn send(self) -> Result<reqwest::Response, SendError> {
        let mut request = self.builder.build()?;
        self.authenticator.sign(&mut request).await?;
        Ok(self.http.execute(request).await?)
    }
}

/// Adds the SigV4 headers to `request` as sent: its URL (percent-encoded by reqwest), its
/// headers plus `host` (hyper adds it on the wire), its body.
pub fn sign_request(
    request: &mut reqwest::Request,
    credentials: &Credentials,
    service: SigV4Service,
    region: &str,
    time: SystemTime,
) -> Result<(), String> {
    canonicalize_query(request.url_mut());
    let url = request.url().clone();
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => return Err(format!("cannot sign {url}: no host")),
    };
    let body: &[u8] = match request.body() {
        None => &[],
        Some(body) => body.as_bytes().ok_or_else(|| format!("cannot sign {url}: streaming body"))?,
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| format!("cannot sign {url}: header {name} is not text"))?;
        headers.push((name.as_str().to_string(), value.to_string()));
    }
    headers.push(("host".into(), host));
    let to_sign: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let signed = signed_headers(credentials, service.as_str(), region, request.method().as_str(), url.as_str(), &to_sign, body, time)?;
    for (name, value) in signed {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = reqwest::header::HeaderValue::from_str(&value).map_err(|e| e.to_string())?;
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

/// Rewrites the query string in SigV4's canonical encoding (every byte but `A-Za-z0-9-_.~`
/// percent-encoded), keeping the meaning. reqwest sends `expand_wildcards=open,closed` as
/// written; SigV4 signs `open%2Cclosed`, and whether the server's canonical form matches the raw
/// one depends on its normalization. Sending the canonical form leaves nothing to interpret.
pub fn canonicalize_query(url: &mut reqwest::Url) {
    let Some(query) = url.query() else { return };
    let encode = |text: &str| {
        let mut out = String::new();
        for byte in percent_decode(text) {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    };
    let canonical: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => format!("{}={}", encode(key), encode(value)),
            None => encode(pair),
        })
        .collect();
    url.set_query(Some(&canonical.join("&")));
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The headers to add to a request: `x-amz-date`, `authorization`, `x-amz-content-sha256`
/// and, with temporary credentials, `x-amz-security-token`. `url` must be percent-encoded;
/// `headers` are the ones sent with it, `host` included.
#[allow(clippy::too_many_arguments)] // one request: method, URL, headers, body, and who signs it when
pub fn signed_headers(
    credentials: &Credentials,
    service: &str,
    region: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("SigV4 parameters: {e}"))?
        .into();
    let request = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign {method} {url}: {e}"))?;
    let (instructions, _signature) = sign(request, &params).map_err(|e| format!("signing failed: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

#[cfg(test)]
mod tests;
