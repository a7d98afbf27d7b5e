//! Webhook delivery: one HTTPS POST per notification and destination, retried as
//! [`super::retry`] decides, within the time the caller gives.
//!
//! Headers (the receiver's contract, see ALERTS.md and the test bed's webhook receiver):
//! - `Content-Type: application/json`;
//! - `X-LFM-Idempotency-Key`: the notification's key (the same on every attempt and every run
//!   that sends the same evaluation again: receivers drop duplicates by it);
//! - `X-LFM-Timestamp`: unix seconds of the attempt;
//! - `X-LFM-Signature-256: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>` when the
//!   destination has a secret (the timestamp is signed so a receiver can refuse replays; the
//!   scheme of GitHub's `X-Hub-Signature-256` and Slack's `v0=` signatures).
//!
//! Plain `http://` is refused unless the host is loopback (127.0.0.0/8, ::1, `localhost`).
//! An extra CA (`alert_webhook_ca_file`, PEM) is trusted besides the public roots, for
//! receivers behind a private CA. Redirects are not followed (a 3xx fails the delivery).

use std::path::Path;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use reqwest::Url;
use sha2::Sha256;

use super::retry::{decide, Decision, Outcome};

/// Connecting (TCP and TLS) may take this long, at most.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt, answer included, may take this long, at most (less when the budget ends sooner).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The receiver's answer is read up to this many bytes (for the error message).
const ANSWER_BYTES: usize = 4096;

pub const HEADER_IDEMPOTENCY_KEY: &str = "X-LFM-Idempotency-Key";
pub const HEADER_TIMESTAMP: &str = "X-LFM-Timestamp";
pub const HEADER_SIGNATURE: &str = "X-LFM-Signature-256";

/// `sha256=` + hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The destination's URL, if LFM may send to it: https, or http to a loopback host (the rule
/// the provider applies at plan: `lfm_schema::alerts::webhook_url_problem`).
pub fn check_url(url: &str) -> Result<Url, String> {
    if let Some(problem) = lfm_schema::alerts::webhook_url_problem(url) {
        return Err(format!("url {problem}"));
    }
    Url::parse(url).map_err(|e| format!("url {url:?} is not a URL ({e})"))
}

/// The HTTP client of a run's webhook deliveries: public roots, plus `ca_file`'s
/// certificates when given (a readable error names the setting when it cannot be used).
pub fn client(ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("lfm-collector/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let setting = lfm_schema::contract::by_env(lfm_schema::contract::ENV_ALERT_WEBHOOK_CA_FILE).expect("a contract setting");
        let pem = std::fs::read(path).map_err(|e| format!("{setting} {}: cannot read it ({e})", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{setting} {}: not PEM certificates ({e})", path.display()))?;
        if certificates.is_empty() {
            return Err(format!("{setting} {}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)", path.display()));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| format!("cannot build the webhook HTTP client: {}", lfm_aws::error_chain(&e)))
}

/// What a delivery did: delivered or why not, and how many attempts it took.
pub struct Sent {
    pub result: Result<(), String>,
    pub attempts: u32,
}

/// POSTs `body` to `url` until delivered, refused, or `end` comes.
pub async fn send(http: &reqwest::Client, url: &Url, body: &[u8], key: &str, secret: Option<&str>, end: Instant) -> Sent {
    let mut attempts = 0;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let timeout = ATTEMPT_TIMEOUT.min(left);
        attempts += 1;
        let outcome = attempt(http, url, body, key, secret, timeout).await;
        match decide(&outcome, attempts, end.saturating_duration_since(Instant::now())) {
            Decision::Delivered => return Sent { result: Ok(()), attempts },
            Decision::Fail(why) => return Sent { result: Err(why), attempts },
            Decision::Retry(wait) => tokio::time::sleep(wait).await,
        }
    }
}

async fn attempt(http: &reqwest::Client, url: &Url, body: &[u8], key: &str, secret: Option<&str>, timeout: Duration) -> Outcome {
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = http
        .post(url.clone())
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(HEADER_IDEMPOTENCY_KEY, key)
        .header(HEADER_TIMESTAMP, timestamp.to_string());
    if let Some(secret) = secret {
        request = request.header(HEADER_SIGNATURE, signature(secret, timestamp, body));
    }
    let exchange = async {
        let response = request.body(body.to_vec()).send().await?;
        let status = response.status().as_u16();
        let mut text = Vec::new();
        let mut response = response;
        while text.len() < ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => text.extend_from_slice(&chunk),
                _ => break,
            }
        }
        text.truncate(ANSWER_BYTES);
        Ok::<_, reqwest::Error>(Outcome::Answer { status, text: String::from_utf8_lossy(&text).into_owned() })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Outcome::TimedOut(timeout),
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) if e.is_timeout() => Outcome::TimedOut(timeout),
        Ok(Err(e)) => Outcome::Unreachable(lfm_aws::root_cause(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An independent computation of the same signature (Python's standard library):
    /// ```python
    /// import hmac, hashlib
    /// body = b'{"rule":"high-errors","functions":1}'
    /// "sha256=" + hmac.new(b"s3cr3t", b"1767225600." + body, hashlib.sha256).hexdigest()
    /// ```
    const PYTHON_SIGNATURE: &str = "sha256=f510aa9050d09782c625218d8c4df5277ceba73be82831dce3c3700976fe104e";

    #[test]
    fn signature_matches_an_independent_hmac() {
        let body = br#"{"rule":"high-errors","functions":1}"#;
        assert_eq!(signature("s3cr3t", 1_767_225_600, body), PYTHON_SIGNATURE);
        // RFC 4231 test case 2 (key "Jefe"): the primitive itself.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in ["https://hooks.example.com/x", "http://127.0.0.1:8080/hook", "http://127.8.9.10/", "http://[::1]:9/", "http://localhost/x", "http://LOCALHOST:1/"] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        let err = check_url("http://hooks.example.com/x").unwrap_err();
        assert!(err.starts_with("url \"http://hooks.example.com/x\" uses plain http") && err.contains("use https"), "{err}");
        assert!(check_url("http://10.0.0.1/").is_err());
        assert!(check_url("http://localhost.example.com/").is_err());
        assert!(check_url("ftp://example.com/").is_err());
        assert!(check_url("not a url").unwrap_err().contains("is not a URL"), "{}", check_url("not a url").unwrap_err());
    }

    #[test]
    fn a_bad_ca_file_is_named() {
        let err = client(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.starts_with("alert_webhook_ca_file (--alert-webhook-ca-file, LFM_ALERT_WEBHOOK_CA_FILE) /nonexistent/ca.pem: cannot read it"), "{err}");
        let dir = std::env::temp_dir().join(format!("lfm-notify-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("empty.pem");
        std::fs::write(&file, "no certificate here\n").unwrap();
        let err = client(Some(&file)).unwrap_err();
        assert!(err.contains("no PEM certificate") || err.contains("not PEM"), "{err}");
        assert!(client(None).is_ok());
    }
}
