//! `lfm-collector run`: parse the configuration, collect the windows the checkpoints (or
//! `--start/--end`) call for, print the summary.
//! `lfm-collector permissions`: print the IAM policy the monitoring role needs.
//! Exit status 0 only when every account was collected and every document written.

use std::process::ExitCode;

use clap::Parser;
use lfm_collector::config::cli::{Cli, Command, OutputFormat};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "lfm_collector=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let args = match Cli::parse().command {
        Command::Run(args) => args,
        Command::Permissions => {
            let policy = lfm_schema::iam::permissions_policy();
            println!("{}", serde_json::to_string_pretty(&policy).expect("policy serializes"));
            return ExitCode::SUCCESS;
        }
    };
    let mut config = match args.to_config(chrono::Utc::now()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("lfm-collector: {e}");
            return ExitCode::from(2);
        }
    };
    // A progress line per account for someone watching; nothing in pipes, logs and CI.
    config.progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let summary = lfm_collector::run(&config).await;
    match args.output {
        OutputFormat::Human => print!("{summary}"),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary).expect("summary serializes")),
    }
    if summary.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
