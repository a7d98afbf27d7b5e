//! One invocation: the configuration from the environment (the CLI's `LFM_*` variables, read
//! by the CLI's own parser) with the event's overrides on top, then [`crate::run_with_limit`],
//! the same run as `lfm-collector run`, stopping before the invocation's deadline.

use std::panic::AssertUnwindSafe;

use chrono::{DateTime, Utc};
use clap::Parser;
use futures::FutureExt;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;

use super::event::{self, Overrides};
use crate::config::cli::RunArgs;
use crate::config::{Config, ConfigError};
use crate::time_limit::TimeLimit;
use crate::RunSummary;

/// Lambda's limit on a synchronous invocation's response ("Lambda quotas": invocation payload,
/// 6 MB each for request and response): a larger one would fail after the run.
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// The CLI's `run` settings, read from `LFM_*` environment variables only (no arguments).
#[derive(Debug, Parser)]
#[command(name = "bootstrap", no_binary_name = true)]
struct EnvArgs {
    #[command(flatten)]
    run: RunArgs,
}

/// An invocation that produced no summary: Lambda reports it as a function error with this
/// type and message (`{"errorType": ..., "errorMessage": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionError {
    #[serde(rename = "errorType")]
    pub error_type: &'static str,
    #[serde(rename = "errorMessage")]
    pub message: String,
}

impl FunctionError {
    pub fn config(error: impl std::fmt::Display) -> Self {
        Self {
            error_type: "ConfigError",
            message: format!("lfm-collector configuration: {error}"),
        }
    }

    /// A panic caught while handling an invocation (`lambda_runtime` would catch it too, but
    /// reports a Rust type name as the error type).
    pub fn panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        Self {
            error_type: "Panic",
            message: format!(
                "lfm-collector stopped on a bug (panic: {what}); the function's log says where. Documents already \
                 written stay and no checkpoint moved, so the next invocation collects the same windows again. \
                 Please report it with the log"
            ),
        }
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Self {
        Diagnostic { error_type: error.error_type.to_string(), error_message: error.message }
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

/// The configuration of one invocation at `now`. `LFM_REGIONS` defaults to the function's own
/// region (`AWS_REGION`, set by Lambda) when neither it nor a config file names regions.
pub fn config_from_env(overrides: &Overrides, now: DateTime<Utc>) -> Result<Config, FunctionError> {
    let mut args = EnvArgs::try_parse_from(std::iter::empty::<String>())
        .map_err(|e| {
            FunctionError::config(format!(
                "an LFM_* environment variable: {}",
                e.render().to_string().trim()
            ))
        })?
        .run;
    if let Some(backfill) = &overrides.backfill {
        args.backfill_horizon = Some(backfill.clone());
    }
    if let Some(settle) = &overrides.settle {
        args.settle_delay = Some(settle.clone());
    }
    if overrides.start.is_some() {
        args.start = overrides.start;
        args.end = overrides.end;
    } else if overrides.end.is_some() {
        args.end = overrides.end;
    }
    if let Some(dry_run) = overrides.dry_run {
        args.dry_run = dry_run;
    }
    match args.to_config(now) {
        Err(ConfigError::Missing {
            name: "regions", ..
        }) if args.regions.is_empty() => {
            match std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()) {
                Some(region) => {
                    args.regions = vec![region];
                    args.to_config(now).map_err(FunctionError::config)
                }
                None => Err(FunctionError::config(
                    "missing setting regions: set LFM_REGIONS (e.g. us-east-1,eu-west-1) in the function's environment",
                )),
            }
        }
        other => other.map_err(FunctionError::config),
    }
}

/// The `lambda_runtime` handler: [`handle`] for the event, stopping before the invocation's
/// deadline; a panic becomes the function error [`FunctionError::panic`].
pub async fn invocation(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, FunctionError> {
    let (payload, context) = event.into_parts();
    let now = Utc::now();
    let limit = match DateTime::from_timestamp_millis(context.deadline as i64) {
        Some(deadline) if context.deadline > 0 => TimeLimit::until(deadline, now),
        _ => TimeLimit::NONE,
    };
    let remaining_s = limit.deadline().map(|d| (d - now).num_milliseconds() as f64 / 1000.0);
    tracing::info!(request_id = %context.request_id, remaining_s, function = %context.invoked_function_arn, "invocation");
    let result = AssertUnwindSafe(handle(payload, now, limit)).catch_unwind().await;
    let result = result.unwrap_or_else(|panic| Err(FunctionError::panic(panic.as_ref())));
    if let Err(error) = &result {
        tracing::error!(%error, "invocation failed");
    }
    result
}

/// Handles one invocation event: the run summary (compact JSON with `succeeded`), or an error
/// when the event or configuration is invalid or the run could not start at all.
pub async fn handle(event: serde_json::Value, now: DateTime<Utc>, limit: TimeLimit) -> Result<serde_json::Value, FunctionError> {
    let overrides = event::from_value(event).map_err(|e| FunctionError {
        error_type: "InvalidEvent",
        message: e.to_string(),
    })?;
    let config = config_from_env(&overrides, now)?;
    #[cfg(debug_assertions)]
    if let Some(message) = &overrides.panic {
        panic!("{message}");
    }
    tracing::info!(
        accounts = config.accounts.len(),
        regions = config.regions.len(),
        dry_run = config.dry_run,
        "collecting"
    );
    let summary = crate::run_with_limit(&config, limit).await;
    // The human summary goes to the function's log (stdout -> CloudWatch Logs).
    print!("{summary}");
    response(&summary)
}

/// A run that stopped before collecting anything is a function error; a run with failed
/// accounts or documents is a normal response whose `succeeded` is false.
pub fn response(summary: &RunSummary) -> Result<serde_json::Value, FunctionError> {
    if let Some(fatal) = &summary.fatal_error {
        return Err(FunctionError {
            error_type: "RunFailed",
            message: fatal.clone(),
        });
    }
    let mut value = serde_json::to_value(summary).expect("summary serializes");
    if let serde_json::Value::Object(fields) = &mut value {
        fields.insert("succeeded".into(), summary.succeeded().into());
    }
    if value.to_string().len() > MAX_RESPONSE_BYTES {
        return Err(FunctionError {
            error_type: "ResponseTooLarge",
            message: "the run summary exceeds Lambda's 6 MB response limit; see the function's log for it".into(),
        });
    }
    Ok(value)
}
