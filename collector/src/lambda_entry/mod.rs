//! The collector as an AWS Lambda function: a custom runtime (`provided.al2023`) whose
//! `bootstrap` binary (`src/bin/bootstrap.rs`) calls [`serve`]. (The functions the collector
//! monitors are listed in [`crate::discover::functions`]; this module is the collector's own entry.)
//!
//! Same code path as the CLI: each invocation builds a [`crate::Config`] with the CLI's own
//! parser from the `LFM_*` environment variables (see `lfm-collector run --help`; `LFM_REGIONS`
//! defaults to the function's region), applies the event's overrides ([`event`]), and calls
//! [`crate::run`]. AWS credentials and endpoints come from the SDK's chain, which in Lambda
//! means the execution role: with `LFM_OPENSEARCH_AUTH=sigv4` the same credentials (session
//! token included) sign the OpenSearch requests, for the function's region unless
//! `LFM_OPENSEARCH_REGION` says otherwise (`lfm_opensearch::sigv4`).
//!
//! - [`runtime`]: the Lambda Runtime API client (next invocation, response, errors);
//! - [`event`]: which invocation events are accepted and what they may override (pure);
//! - [`handler`]: event + environment -> config -> run -> response.
//!
//! The response is the run summary as compact JSON plus `"succeeded": bool`; a run with failed
//! accounts or documents still responds (`succeeded: false`, the checkpoints keep the gap for
//! the next run). Errors are reserved for what produced no summary: an invalid event
//! (`InvalidEvent`), invalid configuration (`ConfigError`, also reported at init) and a run that
//! could not start (`RunFailed`, e.g. OpenSearch unreachable).
//!
//! Tested under AWS's Runtime Interface Emulator (tests/e2e/test_lambda_bootstrap.py). Packaging
//! it as the zip `lfm_collector` deploys (static or glibc <= 2.34, arm64) is not scripted yet.

pub mod event;
pub mod handler;
pub mod runtime;

use chrono::Utc;

use self::runtime::{RuntimeApi, RuntimeError};

/// The runtime loop: checks the configuration once at init (an invalid one is reported to
/// `/runtime/init/error`), then handles invocations until the Runtime API goes away.
pub async fn serve() -> Result<(), RuntimeError> {
    let api = RuntimeApi::from_env()?;
    if let Err(error) = handler::config_from_env(&event::Overrides::default(), Utc::now()) {
        tracing::error!(%error, "invalid configuration");
        api.init_error(&error).await?;
        return Err(RuntimeError::Init(error));
    }
    loop {
        let invocation = api.next().await?;
        let remaining_s = invocation
            .deadline_ms
            .map(|deadline| (deadline as i64 - Utc::now().timestamp_millis()) as f64 / 1000.0);
        tracing::info!(request_id = %invocation.request_id, ?remaining_s, function = ?invocation.function_arn, "invocation");
        match handler::handle(&invocation.body, Utc::now()).await {
            Ok(summary) => api.respond(&invocation.request_id, &summary).await?,
            Err(error) => {
                tracing::error!(%error, "invocation failed");
                api.fail(&invocation.request_id, &error).await?
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::handler::response;
    use crate::summary::{AccountOutcome, AccountStatus};
    use crate::RunSummary;

    fn summary() -> RunSummary {
        let start = "2026-11-26T15:00:00Z".parse().unwrap();
        let end = "2026-11-26T16:00:00Z".parse().unwrap();
        RunSummary {
            window: crate::config::Window::new(start, end, 300).unwrap(),
            dry_run: false,
            accounts_ok: 1,
            accounts_failed: 0,
            accounts: vec![AccountOutcome {
                account_id: "111122223333".into(),
                status: AccountStatus::Ok,
                functions: 3,
                errors: vec![],
            }],
            functions: 3,
            functions_active: 1,
            metric_queries: 12,
            api_calls: BTreeMap::new(),
            answers_skipped: BTreeMap::new(),
            documents_prepared: BTreeMap::new(),
            documents_written: 0,
            documents_written_by_index: BTreeMap::new(),
            documents_failed_count: 0,
            documents_failed: vec![],
            bulk_requests: 0,
            bulk_ms: 0,
            fatal_error: None,
            duration_ms: 5,
            run_id: "run-1".into(),
            started_at: end,
            schedule: Default::default(),
            logs_insights_bytes_scanned: 0,
            log_periods_withheld: 0,
            estimated_cost: Default::default(),
            run_record_error: None,
            retention: None,
        }
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
