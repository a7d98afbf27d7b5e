//! AWS Signature Version 4 for Amazon OpenSearch Service (`es`) and OpenSearch Serverless
//! (`aoss`), in one place for the collector and the provider.
//!
//! [`Signer`] resolves the credentials once (the caller's provider, else the AWS SDK's default
//! chain: on Lambda the execution role's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN`) and fetches them again five minutes before they expire. The region is
//! the configured one, else the SDK's.
//!
//! The payload hash goes in a signed `x-amz-content-sha256` header, which Serverless requires and
//! the managed service accepts ("Signing HTTP requests to Amazon OpenSearch Service"; for
//! Serverless "you must include the x-amz-content-sha256 header"). The query string is sent in
//! SigV4's canonical encoding ([`canonicalize_query`]). Tested against botocore's `SigV4Auth`.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use crate::config::{Auth, SigV4Service};

/// Credentials expiring sooner than this are fetched again before signing.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// Signs requests for an [`Auth::SigV4`]; does nothing for the other kinds.
pub struct Signer {
    auth: Auth,
    given: Option<SharedCredentialsProvider>,
    /// The credentials provider and region, resolved at the first signed request.
    resolved: tokio::sync::OnceCell<Result<(SharedCredentialsProvider, String), String>>,
    credentials: tokio::sync::Mutex<Option<Credentials>>,
}

impl Signer {
    pub fn new(auth: Auth, credentials: Option<SharedCredentialsProvider>) -> Self {
        Self { auth, given: credentials, resolved: tokio::sync::OnceCell::new(), credentials: tokio::sync::Mutex::new(None) }
    }

    /// Adds the SigV4 headers to `request` (nothing without SigV4). The error says what is
    /// missing (credentials, region) in a sentence.
    pub async fn sign(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let Auth::SigV4 { service, region } = &self.auth else {
            return Ok(());
        };
        let (provider, region) = self
            .resolved
            .get_or_init(|| async {
                let need_sdk = self.given.is_none() || region.is_none();
                let sdk = if need_sdk { Some(aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await) } else { None };
                let provider = match (&self.given, &sdk) {
                    (Some(given), _) => given.clone(),
                    (None, Some(sdk)) => sdk.credentials_provider().ok_or_else(|| {
                        "no AWS credentials provider: set AWS credentials (environment, profile or role)".to_string()
                    })?,
                    (None, None) => unreachable!("the SDK config is loaded without given credentials"),
                };
                let region = match (region, &sdk) {
                    (Some(region), _) => region.clone(),
                    (None, Some(sdk)) => sdk
                        .region()
                        .map(|r| r.to_string())
                        .ok_or_else(|| "no AWS region to sign for: set the OpenSearch region or AWS_REGION".to_string())?,
                    (None, None) => unreachable!("the SDK config is loaded without a region"),
                };
                Ok((provider, region))
            })
            .await
            .as_ref()
            .map_err(Clone::clone)?;
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
                    .map_err(|e| format!("cannot load AWS credentials: {}", lfm_aws::error_chain(&e)))?;
                *cached = Some(loaded);
            }
            cached.clone().expect("credentials just loaded")
        };
        sign_request(request, &credentials, *service, region, SystemTime::now())
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
