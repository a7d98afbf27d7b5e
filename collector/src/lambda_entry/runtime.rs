//! A client of the Lambda Runtime API (version 2018-06-01) over reqwest: the custom runtime's
//! side of <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.
//!
//! - `GET  /runtime/invocation/next`: blocks until an invocation arrives (no client timeout);
//! - `POST /runtime/invocation/{id}/response`: the function's result;
//! - `POST /runtime/invocation/{id}/error`: a function error (`errorType`, `errorMessage`);
//! - `POST /runtime/init/error`: the runtime cannot start (e.g. invalid configuration).

use super::handler::FunctionError;

pub const API_VERSION: &str = "2018-06-01";
/// Header the Runtime API reads the error type from (besides the JSON body).
const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("AWS_LAMBDA_RUNTIME_API is not set: `bootstrap` is the collector's Lambda entry point and runs only under a Lambda runtime (or the Runtime Interface Emulator); outside Lambda run `lfm-collector run`")]
    NotInLambda,
    #[error("init failed (reported to the Runtime API): {0}")]
    Init(FunctionError),
    #[error("Lambda Runtime API {url}: {reason}")]
    Api { url: String, reason: String },
}

/// One invocation as the Runtime API delivered it.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`: when Lambda stops the invocation (ms since the epoch).
    pub deadline_ms: Option<u64>,
    pub function_arn: Option<String>,
    pub body: Vec<u8>,
}

pub struct RuntimeApi {
    base: String,
    http: reqwest::Client,
}

impl RuntimeApi {
    /// The API at `AWS_LAMBDA_RUNTIME_API` (`host:port`), which Lambda sets for the runtime.
    pub fn from_env() -> Result<Self, RuntimeError> {
        let address = std::env::var("AWS_LAMBDA_RUNTIME_API")
            .ok()
            .filter(|a| !a.is_empty());
        let address = address.ok_or(RuntimeError::NotInLambda)?;
        Self::new(&address)
    }

    pub fn new(address: &str) -> Result<Self, RuntimeError> {
        let base = format!("http://{address}/{API_VERSION}");
        // No timeout: `next` waits as long as the function is idle. No proxy: the API is local.
        let http =
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| RuntimeError::Api {
                    url: base.clone(),
                    reason: e.to_string(),
                })?;
        Ok(Self { base, http })
    }

    /// Waits for the next invocation.
    pub async fn next(&self) -> Result<Invocation, RuntimeError> {
        let url = format!("{}/runtime/invocation/next", self.base);
        let failed = |reason: String| RuntimeError::Api {
            url: url.clone(),
            reason,
        };
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            let status = response.status();
            return Err(failed(format!(
                "HTTP {status}: {}",
                response.text().await.unwrap_or_default()
            )));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("Lambda-Runtime-Aws-Request-Id").ok_or_else(|| {
            failed("no Lambda-Runtime-Aws-Request-Id header in the invocation".into())
        })?;
        let deadline_ms = header("Lambda-Runtime-Deadline-Ms").and_then(|d| d.parse().ok());
        let function_arn = header("Lambda-Runtime-Invoked-Function-Arn");
        let body = response
            .bytes()
            .await
            .map_err(|e| failed(e.to_string()))?
            .to_vec();
        Ok(Invocation {
            request_id,
            deadline_ms,
            function_arn,
            body,
        })
    }

    /// Sends the result of `request_id`. Lambda refuses a response over 6 MB (HTTP 413): then
    /// the invocation gets an error saying so.
    pub async fn respond(
        &self,
        request_id: &str,
        result: &serde_json::Value,
    ) -> Result<(), RuntimeError> {
        let url = format!("{}/runtime/invocation/{request_id}/response", self.base);
        let body = serde_json::to_vec(result).expect("JSON value serializes");
        let response = self.http.post(&url).body(body).send().await;
        let response = response.map_err(|e| RuntimeError::Api {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            reqwest::StatusCode::PAYLOAD_TOO_LARGE => {
                let error = FunctionError {
                    error_type: "ResponseTooLarge",
                    message: "the run summary exceeds Lambda's response limit; see the function's log for it".into(),
                };
                self.fail(request_id, &error).await
            }
            status => Err(RuntimeError::Api {
                url,
                reason: format!(
                    "HTTP {status}: {}",
                    response.text().await.unwrap_or_default()
                ),
            }),
        }
    }

    /// Reports a function error for `request_id`.
    pub async fn fail(&self, request_id: &str, error: &FunctionError) -> Result<(), RuntimeError> {
        self.post_error(
            format!("{}/runtime/invocation/{request_id}/error", self.base),
            error,
        )
        .await
    }

    /// Reports that the runtime cannot initialise; Lambda then fails the pending invocation.
    pub async fn init_error(&self, error: &FunctionError) -> Result<(), RuntimeError> {
        self.post_error(format!("{}/runtime/init/error", self.base), error)
            .await
    }

    async fn post_error(&self, url: String, error: &FunctionError) -> Result<(), RuntimeError> {
        let response = self
            .http
            .post(&url)
            .header(ERROR_TYPE_HEADER, error.error_type)
            .json(error)
            .send()
            .await
            .map_err(|e| RuntimeError::Api {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            let status = response.status();
            Err(RuntimeError::Api {
                url,
                reason: format!(
                    "HTTP {status}: {}",
                    response.text().await.unwrap_or_default()
                ),
            })
        }
    }
}
