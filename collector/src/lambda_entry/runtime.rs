//! The edge to the Lambda Runtime API (version 2018-06-01,
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), spoken by the maintained
//! `lambda_runtime` crate (awslabs/aws-lambda-rust-runtime): next invocation, response, function
//! error, panics caught. Here only what it leaves to its user:
//!
//! - [`check_environment`]: `lambda_runtime` panics when a variable Lambda sets is missing;
//!   outside Lambda `bootstrap` says so instead;
//! - [`report_init_error`]: `lambda_runtime` posts `/runtime/init/error` only for SnapStart
//!   hooks (its request type is private), so an invalid configuration is posted here with its
//!   `lambda_runtime_api_client`;
//! - [`empty_body_is_null`]: `lambda_runtime` parses every body as JSON; an empty one (an
//!   invocation without payload) becomes `null`, a normal run, as before.

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::LambdaInvocation;
use lambda_runtime_api_client::{body::Body, build_request, PooledClient};

use super::handler::FunctionError;

/// What Lambda sets for a custom runtime and `lambda_runtime` reads at start (it panics without).
const LAMBDA_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0} is not set: `bootstrap` is the collector's Lambda entry point and runs only under a Lambda runtime (or the Runtime Interface Emulator); outside Lambda run `lfm-collector run`")]
    NotInLambda(&'static str),
    #[error("init failed (reported to the Runtime API): {0}")]
    Init(FunctionError),
    #[error("Lambda Runtime API: {0}")]
    Api(String),
}

/// Fails with the first variable Lambda would have set that is missing.
pub fn check_environment() -> Result<(), RuntimeError> {
    match LAMBDA_VARIABLES.iter().find(|name| std::env::var(name).map_or(true, |v| v.is_empty())) {
        Some(name) => Err(RuntimeError::NotInLambda(name)),
        None => Ok(()),
    }
}

/// Posts `error` to `/runtime/init/error`: Lambda then fails the pending invocation with it.
pub async fn report_init_error(error: &FunctionError) -> Result<(), RuntimeError> {
    let body = serde_json::to_vec(error).expect("a function error serializes");
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", error.error_type)
        .body(Body::from(body))
        .map_err(|e| RuntimeError::Api(e.to_string()))?;
    let response = PooledClient::builder()
        .build()
        .call(request)
        .await
        .map_err(|e| RuntimeError::Api(format!("POST /runtime/init/error: {e}")))?;
    match response.status() {
        status if status.is_success() => Ok(()),
        status => Err(RuntimeError::Api(format!("POST /runtime/init/error: HTTP {status}"))),
    }
}

/// A layer around `lambda_runtime`'s service: an empty (or blank) body becomes `null`.
pub fn empty_body_is_null<S>() -> impl Layer<S, Service = EmptyBodyIsNull<S>> + Clone {
    lambda_runtime::tower::layer::layer_fn(EmptyBodyIsNull)
}

#[derive(Clone)]
pub struct EmptyBodyIsNull<S>(S);

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for EmptyBodyIsNull<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> S::Future {
        if invocation.body.iter().all(u8::is_ascii_whitespace) {
            invocation.body = (&b"null"[..]).into();
        }
        self.0.call(invocation)
    }
}
