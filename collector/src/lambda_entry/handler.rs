//! One invocation: the configuration from the environment (the CLI's `LFM_*` variables, read
//! by the CLI's own parser) with the event's overrides on top, then [`crate::run`], the same call
//! as `lfm-collector run`.

use chrono::{DateTime, Utc};
use clap::Parser;
use serde::Serialize;

use super::event::{self, Overrides};
use crate::config::cli::RunArgs;
use crate::config::{Config, ConfigError};
use crate::RunSummary;

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

/// Handles one invocation event: the run summary (compact JSON with `succeeded`), or an error
/// when the event or configuration is invalid or the run could not start at all.
pub async fn handle(body: &[u8], now: DateTime<Utc>) -> Result<serde_json::Value, FunctionError> {
    let overrides = event::parse(body).map_err(|e| FunctionError {
        error_type: "InvalidEvent",
        message: e.to_string(),
    })?;
    let config = config_from_env(&overrides, now)?;
    tracing::info!(
        accounts = config.accounts.len(),
        regions = config.regions.len(),
        dry_run = config.dry_run,
        "collecting"
    );
    let summary = crate::run(&config).await;
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
    Ok(value)
}
