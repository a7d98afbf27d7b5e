//! The I/O: every request to OpenSearch (or Dashboards) goes through [`Client::request`] and
//! [`Request::send`], which authenticates it, bounds it by the [`crate::Timeouts`], and tries
//! again what [`crate::retry::decide`] calls transient.

use std::time::{Duration, Instant};

use crate::config::{Auth, ClientConfig};
use crate::error::{server_reason, Error, Problem, TimeoutKind};
use crate::retry::{decide, Attempt, Decision};
use crate::sigv4::Signer;

pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    signer: Signer,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder().connect_timeout(config.timeouts.connect).build().map_err(|e| Error {
            action: "setting up the HTTP client".into(),
            method: String::new(),
            url: config.url.clone(),
            problem: Problem::NotSent { cause: lfm_aws::error_chain(&e) },
            attempts: 0,
            settings: config.settings.clone(),
        })?;
        let signer = Signer::new(config.auth.clone(), config.aws_credentials.clone());
        Ok(Self { http, config, signer })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// `DELETE {path}`; absent already (404) is as good as deleted.
    pub async fn delete(&self, path: &str, action: impl Into<String>) -> Result<(), Error> {
        let response = self.request(reqwest::Method::DELETE, path).action(action).send().await?;
        if response.status == 404 {
            return Ok(());
        }
        response.success().map(|_| ())
    }

    /// A request to `{url}/{path}`; `path` may carry a query string.
    pub fn request(&self, method: reqwest::Method, path: &str) -> Request<'_> {
        let url = format!("{}/{}", self.config.url, path.trim_start_matches('/'));
        Request { client: self, action: format!("{method} {path}"), method, url, headers: Vec::new(), body: None }
    }
}

/// One call, built like reqwest's, sent with [`Request::send`].
pub struct Request<'a> {
    client: &'a Client,
    method: reqwest::Method,
    url: String,
    action: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Request<'_> {
    /// What this request does, for errors: `installing index template lfm-metrics`.
    pub fn action(self, action: impl Into<String>) -> Self {
        Self { action: action.into(), ..self }
    }

    pub fn json(self, json: &serde_json::Value) -> Self {
        self.body("application/json", json.to_string().into_bytes())
    }

    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers.push(("content-type".into(), content_type.into()));
        self.body = Some(body);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn build(&self, timeout: Duration) -> reqwest::RequestBuilder {
        let config = &self.client.config;
        let mut builder = self.client.http.request(self.method.clone(), &self.url).timeout(timeout);
        if let Auth::Basic { username, password } = &config.auth {
            builder = builder.basic_auth(username, password.as_ref());
        }
        for (name, value) in &config.default_headers {
            builder = builder.header(*name, *value);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &self.body {
            builder = builder.body(body.clone());
        }
        builder
    }

    fn error(&self, problem: Problem, attempts: u32) -> Error {
        Error {
            action: self.action.clone(),
            method: self.method.to_string(),
            url: self.url.clone(),
            problem,
            attempts,
            settings: self.client.config.settings.clone(),
        }
    }

    /// Sends with retries. `Ok` is any HTTP answer (the last one, when a transient status
    /// persisted); check it with [`Response::success`] or read `status`. `Err` is no answer:
    /// no connection, a timeout, or a request that could not be signed.
    pub async fn send(self) -> Result<Response, Error> {
        let config = &self.client.config;
        let (timeouts, policy) = (config.timeouts, config.retry);
        let deadline = Instant::now() + timeouts.overall;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let after = timeouts.overall;
                return Err(self.error(Problem::TimedOut { which: TimeoutKind::Overall, after }, attempt - 1));
            }
            // The last attempt gets what is left of the overall timeout.
            let (limit, limited_by_overall) =
                if remaining < timeouts.attempt { (remaining, true) } else { (timeouts.attempt, false) };
            let outcome = match self.attempt_once(limit).await {
                Ok((status, text)) => Ok((status, text)),
                Err(AttemptError::NotSent(cause)) => return Err(self.error(Problem::NotSent { cause }, attempt)),
                Err(AttemptError::Timeout { connect }) => {
                    let (which, after) = match (connect, limited_by_overall) {
                        (_, true) => (TimeoutKind::Overall, timeouts.overall),
                        (true, false) => (TimeoutKind::Connect, timeouts.connect),
                        (false, false) => (TimeoutKind::Attempt, timeouts.attempt),
                    };
                    Err((Attempt::TimedOut, Problem::TimedOut { which, after }))
                }
                Err(AttemptError::Unreachable(cause)) => Err((Attempt::NotConnected, Problem::Unreachable { cause })),
            };
            let kind = match &outcome {
                Ok((status, _)) => Attempt::Answered(*status),
                Err((kind, _)) => *kind,
            };
            let retry = decide(kind) == Decision::Retry && attempt < policy.max_attempts.max(1);
            let wait = policy.backoff(attempt);
            if retry && Instant::now() + wait < deadline {
                let what = match &outcome {
                    Ok((status, _)) => format!("HTTP {status}"),
                    Err((_, problem)) => self.error(problem.clone(), attempt).what_happened(),
                };
                tracing::warn!("{} {} ({}): {what}; attempt {attempt} of {}, again in {} ms", self.method, self.url, self.action, policy.max_attempts, wait.as_millis());
                tokio::time::sleep(wait).await;
                continue;
            }
            return match outcome {
                Ok((status, text)) => Ok(Response {
                    status,
                    text,
                    attempts: attempt,
                    action: self.action.clone(),
                    method: self.method.to_string(),
                    url: self.url.clone(),
                    settings: config.settings.clone(),
                }),
                Err((_, problem)) => Err(self.error(problem, attempt)),
            };
        }
    }

    async fn attempt_once(&self, limit: Duration) -> Result<(u16, String), AttemptError> {
        let mut request = self.build(limit).build().map_err(|e| AttemptError::NotSent(lfm_aws::error_chain(&e)))?;
        self.client.signer.sign(&mut request).await.map_err(AttemptError::NotSent)?;
        let http = &self.client.http;
        let exchange = async {
            let response = http.execute(request).await?;
            let status = response.status().as_u16();
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        };
        // reqwest's own timeout covers connecting, sending and reading; this one is the backstop.
        match tokio::time::timeout(limit + Duration::from_millis(50), exchange).await {
            Err(_) => Err(AttemptError::Timeout { connect: false }),
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) if e.is_timeout() => Err(AttemptError::Timeout { connect: e.is_connect() }),
            Ok(Err(e)) if e.is_builder() => Err(AttemptError::NotSent(lfm_aws::error_chain(&e))),
            Ok(Err(e)) => Err(AttemptError::Unreachable(lfm_aws::root_cause(&e))),
        }
    }
}

enum AttemptError {
    NotSent(String),
    Timeout { connect: bool },
    Unreachable(String),
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub text: String,
    /// Attempts made, the first included.
    pub attempts: u32,
    action: String,
    method: String,
    url: String,
    settings: crate::config::SettingNames,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or(serde_json::Value::Null)
    }

    /// `self` when 2xx, else the error with OpenSearch's type and reason.
    pub fn success(self) -> Result<Response, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.error())
        }
    }

    /// This answer as an error (whatever its status).
    pub fn error(&self) -> Error {
        let (error_type, reason) = server_reason(&self.text);
        self.problem(Problem::Status { status: self.status, error_type, reason })
    }

    /// An error about this answer: unreadable, or refusing part of the work.
    pub fn unexpected(&self, cause: impl Into<String>) -> Error {
        self.problem(Problem::Unexpected { cause: cause.into() })
    }

    fn problem(&self, problem: Problem) -> Error {
        Error {
            action: self.action.clone(),
            method: self.method.clone(),
            url: self.url.clone(),
            problem,
            attempts: self.attempts,
            settings: self.settings.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SigV4Service;

    fn built(auth: Auth) -> reqwest::Request {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:9/", auth)).unwrap();
        let request = client.request(reqwest::Method::GET, "_cluster/health");
        assert_eq!(request.url, "http://127.0.0.1:9/_cluster/health");
        request.build(Duration::from_secs(1)).build().unwrap()
    }

    #[test]
    fn basic_auth_and_none_do_not_sign() {
        let request = built(Auth::Basic { username: "lfm".into(), password: Some("secret".into()) });
        assert_eq!(request.headers()["authorization"], "Basic bGZtOnNlY3JldA==");
        assert!(built(Auth::None).headers().is_empty());
        assert!(built(Auth::SigV4 { service: SigV4Service::Es, region: None }).headers().is_empty(), "signed at send");
        let debug = format!("{:?}", Auth::Basic { username: "lfm".into(), password: Some("secret".into()) });
        assert!(!debug.contains("secret"), "{debug}");
    }
}
