//! `bootstrap`: the collector's AWS Lambda entry point (custom runtime, `provided.al2023`).
//! A thin edge around [`lfm_collector::lambda_entry::serve`]: logs to stderr (CloudWatch Logs), runs
//! the Runtime API loop, exits non-zero only when the Runtime API is gone or init failed.
//! `lfm_collector` deploys it zipped as `bootstrap` (handler `bootstrap`, runtime provided.al2023).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "lfm_collector=info".into()),
        )
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    match lfm_collector::lambda_entry::serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bootstrap: {error}");
            ExitCode::FAILURE
        }
    }
}
