//! The collector as an AWS Lambda function: a custom runtime (`provided.al2023`) whose
//! `bootstrap` binary (`src/bin/bootstrap.rs`) calls [`serve`]. (The functions the collector
//! monitors are listed in [`crate::discover::functions`]; this module is the collector's own entry.)
//!
//! Same code path as the CLI: each invocation builds a [`crate::Config`] with the CLI's own
//! parser from the `LFM_*` environment variables (see `lfm-collector run --help`; `LFM_REGIONS`
//! defaults to the function's region), applies the event's overrides ([`event`]), and calls
//! [`crate::run_with_limit`] with the invocation's deadline. AWS credentials and endpoints come
//! from the SDK's chain, which in Lambda means the execution role: with `LFM_OPENSEARCH_AUTH=sigv4`
//! the same credentials (session token included) sign the OpenSearch requests, for the function's
//! region unless `LFM_OPENSEARCH_REGION` says otherwise (`lfm_opensearch::sigv4`).
//!
//! - `lambda_runtime` (awslabs/aws-lambda-rust-runtime) speaks the Runtime API: next
//!   invocation, response, function error; [`runtime`] holds what it leaves to us (the
//!   environment check, the init error, empty bodies) and why;
//! - [`event`]: which invocation events are accepted and what they may override (pure);
//! - [`handler`]: event + environment -> config -> run -> response.
//!
//! The response is the run summary as compact JSON plus `"succeeded": bool`; a run with failed
//! accounts or documents still responds (`succeeded: false`, the checkpoints keep the gap for
//! the next run). Errors are reserved for what produced no summary: an invalid event
//! (`InvalidEvent`), invalid configuration (`ConfigError`, also reported at init), a run that
//! could not start (`RunFailed`, e.g. OpenSearch unreachable) and a bug (`Panic`: the panic is
//! caught, reported as the invocation's error, and the runtime takes the next invocation).
//!
//! **The deadline.** Lambda stops an invocation at its deadline (`Lambda-Runtime-Deadline-Ms`,
//! `lambda_runtime::Context::deadline`) without warning. The run gets it as a
//! [`crate::time_limit::TimeLimit`]: it starts no new work shortly before, drops work in flight
//! a little later, writes what it harvested, moves the checkpoints of what it collected and
//! responds with `succeeded: false` and `cut_short` saying so; the next run continues from the
//! checkpoints, without a gap or a period collected twice. Were the process killed anyway,
//! nothing is lost either: checkpoints move only after their documents are written.
//!
//! Tested under AWS's Runtime Interface Emulator (tests/e2e/test_lambda_bootstrap.py), which
//! serves the same Runtime API. `scripts/package-collector` builds the zip `lfm_collector`
//! deploys.

pub mod event;
pub mod handler;
pub mod runtime;

use chrono::Utc;
use lambda_runtime::{service_fn, Runtime};

pub use self::runtime::RuntimeError;

/// The runtime: checks the environment and the configuration once at init (an invalid one is
/// reported to `/runtime/init/error`), then hands the invocations to `lambda_runtime` until
/// the Runtime API goes away.
pub async fn serve() -> Result<(), RuntimeError> {
    runtime::check_environment()?;
    if let Err(error) = handler::config_from_env(&event::Overrides::default(), Utc::now()) {
        tracing::error!(%error, "invalid configuration");
        runtime::report_init_error(&error).await?;
        return Err(RuntimeError::Init(error));
    }
    Runtime::new(service_fn(handler::invocation))
        .layer(runtime::empty_body_is_null())
        .run()
        .await
        .map_err(|e| RuntimeError::Api(e.to_string()))
}

#[cfg(test)]
mod tests {

    use super::handler::response;
    use crate::summary::{AccountOutcome, AccountStatus};
    use crate::RunSummary;

    fn summary() -> RunSummary {
        let start = "2026-11-26T15:00:00Z".parse().unwrap();
        let end = "2026-11-26T16:00:00Z".parse().unwrap();
        let mut summary = RunSummary::new(crate::config::Window::new(start, end, 300).unwrap(), false, "run-1".into(), end);
        summary.accounts_ok = 1;
        summary.accounts = vec![AccountOutcome {
            account_id: "111122223333".into(),
            status: AccountStatus::Ok,
            functions: 3,
            errors: vec![],
        }];
        summary.functions = 3;
        summary.functions_active = 1;
        summary.metric_queries = 12;
        summary.duration_ms = 5;
        summary
    }

    #[test]
    fn a_panic_is_a_readable_function_error() {
        let payload: Box<dyn std::any::Any + Send> = Box::new("index out of bounds");
        let error = super::handler::FunctionError::panic(payload.as_ref());
        let diagnostic = lambda_runtime::Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "Panic");
        assert!(diagnostic.error_message.contains("panic: index out of bounds"), "{}", diagnostic.error_message);
        assert!(diagnostic.error_message.contains("no checkpoint moved"));
        let payload: Box<dyn std::any::Any + Send> = Box::new(String::from("formatted 42"));
        assert!(super::handler::FunctionError::panic(payload.as_ref()).message.contains("formatted 42"));
    }

    #[test]
    fn a_run_cut_short_responds_with_the_reason() {
        let mut summary = summary();
        summary.cut_short = Some("started no new work 90 s before the invocation's deadline".into());
        let body = response(&summary).unwrap();
        assert_eq!(body["succeeded"], false);
        assert!(body["cut_short"].as_str().unwrap().contains("deadline"));
        assert!(summary.to_string().starts_with("LFM collection CUT SHORT"), "{summary}");
    }

    #[test]
    fn failed_accounts_still_respond_but_a_fatal_error_does_not() {
        let mut summary = summary();
        let ok = response(&summary).unwrap();
        assert_eq!(ok["succeeded"], true);
        assert_eq!(ok["run_id"], "run-1");
        assert_eq!(ok["metric_queries"], 12);
        summary.accounts[0].status = AccountStatus::Failed;
        summary.accounts[0]
            .errors
            .push("sts:AssumeRole denied".into());
        assert_eq!(response(&summary).unwrap()["succeeded"], false);
        summary.fatal_error = Some("OpenSearch at http://x: refused".into());
        let error = response(&summary).unwrap_err();
        assert_eq!(error.error_type, "RunFailed");
        assert!(error.message.contains("OpenSearch"));
        let body = serde_json::to_value(&error).unwrap();
        assert_eq!(body["errorType"], "RunFailed");
        assert!(body["errorMessage"].as_str().unwrap().contains("refused"));
    }
}
