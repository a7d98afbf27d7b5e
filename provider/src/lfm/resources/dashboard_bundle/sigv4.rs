//! AWS Signature Version 4 for OpenSearch (`es`) and OpenSearch Serverless (`aoss`) requests,
//! with `aws-sigv4` and the provider's AWS credentials.
//!
//! The collector signs its OpenSearch requests the same way in
//! `collector/src/store/opensearch/auth.rs`; the two small functions are duplicated on purpose
//! (no shared crate for one function). Serverless needs the payload hash as a signed
//! `x-amz-content-sha256` header; the managed service accepts it too, so it is sent for both.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use std::time::SystemTime;

/// The headers to add to a request: `x-amz-date`, `authorization`, `x-amz-content-sha256`
/// and, with temporary credentials, `x-amz-security-token`. `url` must be percent-encoded;
/// `headers` are the ones sent with it (`host` is taken from the URL).
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
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("SigV4 cannot sign {method} {url}: {e}"))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| format!("SigV4 signing failed: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}
