//! Command-line flags and `LFM_*` environment variables (clap), merged over the config file.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use lfm_schema::contract::{self, opensearch_auth as auth_values, IndexPrefix};

use super::file::FileConfig;
use super::*;
use crate::store::opensearch::{OpenSearchAuth, OpenSearchConfig, SigV4Service, Timeouts};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "lfm-collector", version, about = "Collects Lambda fleet metrics from many AWS accounts into OpenSearch")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect one window: discover functions, harvest CloudWatch, derive, store in OpenSearch.
    Run(Box<RunArgs>),
    /// Print the IAM permissions policy the monitoring role needs (JSON), from lfm-schema.
    Permissions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A JSON or TOML file with any of the settings below; flags and environment variables override it.
    #[arg(long, env = contract::ENV_CONFIG)]
    pub config: Option<PathBuf>,
    /// The AWS accounts to collect from: 12-digit account IDs, comma-separated.
    #[arg(long, env = contract::ENV_ACCOUNTS, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// The name of the IAM role the collector assumes in each account [default: LambdaMonitoringRole].
    #[arg(long, env = contract::ENV_ROLE_NAME)]
    pub role_name: Option<String>,
    /// The external ID the role's trust policy requires, if it requires one.
    #[arg(long, env = contract::ENV_EXTERNAL_ID)]
    pub external_id: Option<String>,
    /// The AWS regions to collect from, comma-separated.
    #[arg(long, env = contract::ENV_REGIONS, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// The OpenSearch base URL, e.g. https://search.example.com:9200.
    #[arg(long, env = contract::ENV_OPENSEARCH_URL)]
    pub opensearch_url: Option<String>,
    /// The basic-auth user for OpenSearch; the password comes only from LFM_OPENSEARCH_PASSWORD.
    #[arg(long, env = contract::ENV_OPENSEARCH_USER)]
    pub opensearch_user: Option<String>,
    /// How to authenticate to OpenSearch: basic (--opensearch-user and LFM_OPENSEARCH_PASSWORD)
    /// or sigv4 (IAM: requests signed with the AWS credentials of the default chain, e.g. a
    /// Lambda's execution role) [default: basic when a user is given, else none].
    #[arg(long, env = contract::ENV_OPENSEARCH_AUTH)]
    pub opensearch_auth: Option<String>,
    /// The service SigV4 signs for, used only with sigv4: es (Amazon OpenSearch Service domain) or
    /// aoss (OpenSearch Serverless) [default: es].
    #[arg(long = "opensearch-sigv4-service", env = contract::ENV_OPENSEARCH_SIGV4_SERVICE)]
    pub opensearch_sigv4_service: Option<String>,
    /// The region of the domain or collection, used only with sigv4 [default: the AWS region,
    /// AWS_REGION].
    #[arg(long, env = contract::ENV_OPENSEARCH_REGION)]
    pub opensearch_region: Option<String>,
    /// Seconds to wait for a connection to OpenSearch [default: 10 seconds].
    #[arg(long, env = contract::ENV_OPENSEARCH_CONNECT_TIMEOUT)]
    pub opensearch_connect_timeout: Option<u64>,
    /// Seconds one attempt of an OpenSearch request may take, answer included (a _bulk of
    /// bulk_max_docs documents must fit) [default: 30 seconds].
    #[arg(long, env = contract::ENV_OPENSEARCH_REQUEST_TIMEOUT)]
    pub opensearch_request_timeout: Option<u64>,
    /// Seconds one OpenSearch request may take with all its attempts (429/502/503/504 and lost
    /// connections are tried again) [default: 120 seconds].
    #[arg(long, env = contract::ENV_OPENSEARCH_OPERATION_TIMEOUT)]
    pub opensearch_operation_timeout: Option<u64>,
    /// The start of the collection window, RFC 3339 [default: each account and region's checkpoint, else one hour
    /// before the end]. An explicit window never moves a checkpoint backwards.
    #[arg(long, env = contract::ENV_START)]
    pub start: Option<DateTime<Utc>>,
    /// The end of the collection window, RFC 3339 [default: the last period boundary at or before now minus the settle delay].
    #[arg(long, env = contract::ENV_END)]
    pub end: Option<DateTime<Utc>>,
    /// How far back a run without --start catches up from an old checkpoint, e.g. 24h; older
    /// gaps are reported, not collected [default: 3h].
    #[arg(long = "backfill", env = contract::ENV_BACKFILL)]
    pub backfill_horizon: Option<String>,
    /// How long a period must be over before it is collected (CloudWatch publishes late), e.g.
    /// 5m or 0s [default: 5m].
    #[arg(long = "settle", env = contract::ENV_SETTLE)]
    pub settle_delay: Option<String>,
    /// The CloudWatch metrics period in seconds, a multiple of 60 [default: 300 seconds].
    #[arg(long, env = contract::ENV_PERIOD)]
    pub period: Option<u32>,
    /// The prefix of every index and template name [default: lfm].
    #[arg(long, env = contract::ENV_INDEX_PREFIX)]
    pub index_prefix: Option<String>,
    /// Discover, harvest and derive, but write nothing.
    #[arg(long, env = contract::ENV_DRY_RUN)]
    pub dry_run: bool,
    /// The number of documents sent in one _bulk request [default: 1000].
    #[arg(long, env = contract::ENV_BULK_MAX_DOCS)]
    pub bulk_max_docs: Option<usize>,
    /// How many accounts are collected at the same time [default: 4].
    #[arg(long, env = contract::ENV_ACCOUNT_CONCURRENCY)]
    pub account_concurrency: Option<usize>,
    /// A Lambda price table file (JSON, the layout of lfm-schema's data/lambda_prices.json) to
    /// use instead of the shipped one.
    #[arg(long = "prices", env = contract::ENV_PRICES_FILE)]
    pub prices_file: Option<std::path::PathBuf>,
    /// A runtime deprecation table file (JSON, the layout of lfm-schema's data/runtimes.json) to
    /// use instead of the shipped one.
    #[arg(long = "runtimes", env = contract::ENV_RUNTIMES_FILE)]
    pub runtimes_file: Option<std::path::PathBuf>,
    /// A runtime deprecated within this many days counts as deprecating [default: 180 days].
    #[arg(long, env = contract::ENV_DEPRECATION_WARNING_DAYS)]
    pub deprecation_warning_days: Option<u32>,
    /// Delete daily metrics indices older than this many days after each run [default: keep all].
    #[arg(long, env = contract::ENV_RETENTION_DAYS)]
    pub retention_days: Option<u32>,
    /// Read cold starts, init duration and memory from Lambda Insights metrics where functions
    /// publish them: true or false [default: true]. Each such active function costs 5 more
    /// GetMetricData queries; with false the REPORT records alone give these numbers.
    #[arg(long, env = contract::ENV_LAMBDA_INSIGHTS)]
    pub lambda_insights: Option<bool>,
    /// Seconds to connect to an AWS endpoint [default: 10 seconds].
    #[arg(long, env = contract::ENV_AWS_CONNECT_TIMEOUT)]
    pub aws_connect_timeout: Option<u64>,
    /// Seconds one attempt of an AWS call may take, answer included [default: 60 seconds].
    #[arg(long, env = contract::ENV_AWS_REQUEST_TIMEOUT)]
    pub aws_request_timeout: Option<u64>,
    /// Seconds one AWS call may take in all, retries and backoff included [default: 150 seconds].
    #[arg(long, env = contract::ENV_AWS_OPERATION_TIMEOUT)]
    pub aws_operation_timeout: Option<u64>,
    /// Seconds all alert notifications of a run may take, retries included, 1 to 900; never more
    /// than the Lambda invocation has left [default: 30 seconds].
    #[arg(long, env = contract::ENV_ALERT_DELIVERY_TIMEOUT)]
    pub alert_delivery_timeout_seconds: Option<u64>,
    /// A PEM file of CA certificates trusted for alert webhooks besides the public ones (a
    /// receiver behind a private CA).
    #[arg(long, env = contract::ENV_ALERT_WEBHOOK_CA_FILE)]
    pub alert_webhook_ca_file: Option<PathBuf>,
    /// How the run summary is printed: human (text for a person) or json (one JSON object for scripts).
    #[arg(long, env = contract::ENV_OUTPUT, value_enum, default_value = "human")]
    pub output: OutputFormat,
}

impl RunArgs {
    /// Merges flags/env over the config file (if any) over defaults, and validates.
    pub fn to_config(&self, now: DateTime<Utc>) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        merge(self, file, std::env::var(contract::ENV_OPENSEARCH_PASSWORD).ok(), now)
    }
}

fn non_empty(list: &[String]) -> Option<Vec<String>> {
    let cleaned: Vec<String> = list.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

fn merge(args: &RunArgs, file: FileConfig, password: Option<String>, now: DateTime<Utc>) -> Result<Config, ConfigError> {
    let aws_timeouts = aws_timeouts(args, &file)?;
    let accounts = non_empty(&args.accounts).or(file.accounts).unwrap_or_default();
    validate_accounts(&accounts)?;
    let regions = non_empty(&args.regions).or(file.regions).unwrap_or_default();
    let partition = validate_regions(&regions)?;

    let dry_run = args.dry_run || file.dry_run.unwrap_or(false);
    let url = args.opensearch_url.clone().or(file.opensearch_url);
    let url = match (url, dry_run) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, true) => String::new(),
        (None, false) => {
            return Err(ConfigError::Missing {
                name: "opensearch_url",
                hint: "give --opensearch-url, LFM_OPENSEARCH_URL or `opensearch_url` in the config file (or --dry-run)",
            })
        }
    };
    if !(dry_run || url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::Invalid(format!("OpenSearch URL {url:?} must start with http:// or https://")));
    }

    let auth = opensearch_auth(
        args.opensearch_auth.clone().or(file.opensearch_auth),
        args.opensearch_user.clone().or(file.opensearch_user),
        password,
        args.opensearch_sigv4_service.clone().or(file.opensearch_sigv4_service),
        args.opensearch_region.clone().or(file.opensearch_region),
    )?;

    let period = args.period.or(file.period).unwrap_or(DEFAULT_PERIOD_SECONDS);
    let duration = |name: &str, value: Option<String>, default| match value {
        Some(text) => schedule::parse_duration(name, &text),
        None => Ok(default),
    };
    let backfill_horizon = duration(
        "backfill_horizon",
        args.backfill_horizon.clone().or(file.backfill_horizon),
        schedule::DEFAULT_BACKFILL_HORIZON,
    )?;
    let settle_delay = duration("settle_delay", args.settle_delay.clone().or(file.settle_delay), schedule::DEFAULT_SETTLE_DELAY)?;
    let (window, explicit_window) = match (args.start.or(file.start), args.end.or(file.end)) {
        (None, None) => (schedule::default_window(now, period, settle_delay)?, false),
        (Some(start), Some(end)) => (Window::new(start, end, period)?, true),
        (Some(start), None) => (Window::new(start, now, period)?, true),
        (None, Some(_)) => return Err(ConfigError::Invalid("--end given without --start".into())),
    };
    let schedule = Schedule { explicit_window, backfill_horizon, settle_delay };

    let timeouts = opensearch_timeouts(
        args.opensearch_connect_timeout.or(file.opensearch_connect_timeout),
        args.opensearch_request_timeout.or(file.opensearch_request_timeout),
        args.opensearch_operation_timeout.or(file.opensearch_operation_timeout),
    )?;
    let bulk_max_docs = args.bulk_max_docs.or(file.bulk_max_docs).unwrap_or(DEFAULT_BULK_MAX_DOCS);
    if bulk_max_docs == 0 {
        return Err(ConfigError::Invalid("bulk_max_docs must be at least 1".into()));
    }
    let index_prefix = match args.index_prefix.clone().or(file.index_prefix) {
        Some(text) => IndexPrefix::parse(&text).map_err(|e| {
            let setting = contract::by_env(contract::ENV_INDEX_PREFIX).expect("a contract setting");
            ConfigError::Invalid(format!("{setting}: \"{}\" {}", e.value, e.rule()))
        })?,
        None => IndexPrefix::default(),
    }
    .to_string();

    let reference_file = |flag: &str, key: &str, path: &std::path::Path| -> Result<String, ConfigError> {
        std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            reason: format!("{flag} / {key}: cannot read it: {e}"),
        })
    };
    let prices = match args.prices_file.clone().or(file.prices_file) {
        Some(path) => lfm_schema::reference::PriceTable::from_json(&reference_file("--prices", "prices_file", &path)?).map_err(|e| {
            ConfigError::File {
                path: path.display().to_string(),
                reason: format!("--prices / prices_file: not a price table ({e}); follow the layout of lfm-schema's data/lambda_prices.json"),
            }
        })?,
        None => lfm_schema::reference::PriceTable::shipped(),
    };
    let runtimes = match args.runtimes_file.clone().or(file.runtimes_file) {
        Some(path) => lfm_schema::reference::RuntimeTable::from_json(&reference_file("--runtimes", "runtimes_file", &path)?).map_err(|e| {
            ConfigError::File {
                path: path.display().to_string(),
                reason: format!("--runtimes / runtimes_file: not a runtime table ({e}); follow the layout of lfm-schema's data/runtimes.json"),
            }
        })?,
        None => lfm_schema::reference::RuntimeTable::shipped(),
    };
    let deprecation_warning_days = args
        .deprecation_warning_days
        .or(file.deprecation_warning_days)
        .unwrap_or(crate::config::DEFAULT_DEPRECATION_WARNING_DAYS);
    if deprecation_warning_days > 3650 {
        return Err(ConfigError::Invalid(format!(
            "deprecation_warning_days {deprecation_warning_days}: at most 3650 (ten years); AWS announces deprecations months ahead"
        )));
    }
    let retention_days = args.retention_days.or(file.retention_days);
    if retention_days == Some(0) {
        return Err(ConfigError::Invalid(
            "retention_days 0 would delete today's metrics: use at least 1, or leave it unset to keep everything".into(),
        ));
    }

    let alert_delivery_timeout_seconds = args
        .alert_delivery_timeout_seconds
        .or(file.alert_delivery_timeout_seconds)
        .unwrap_or(crate::config::DEFAULT_ALERT_DELIVERY_TIMEOUT_SECONDS);
    if !crate::config::ALERT_DELIVERY_TIMEOUT_RANGE.contains(&alert_delivery_timeout_seconds) {
        let setting = contract::by_env(contract::ENV_ALERT_DELIVERY_TIMEOUT).expect("a contract setting");
        return Err(ConfigError::Invalid(format!(
            "{setting}: {alert_delivery_timeout_seconds} seconds: use 1 to 900 (notifications run after the collection, \
             within the Lambda's 15 minutes)"
        )));
    }
    let alert_webhook_ca_file = args.alert_webhook_ca_file.clone().or(file.alert_webhook_ca_file);
    if let Some(path) = &alert_webhook_ca_file {
        if let Err(e) = std::fs::metadata(path) {
            let setting = contract::by_env(contract::ENV_ALERT_WEBHOOK_CA_FILE).expect("a contract setting");
            return Err(ConfigError::File { path: path.display().to_string(), reason: format!("{setting}: cannot read it: {e}") });
        }
    }

    Ok(Config {
        accounts,
        role_name: args.role_name.clone().or(file.role_name).unwrap_or_else(|| DEFAULT_ROLE_NAME.into()),
        external_id: args.external_id.clone().or(file.external_id),
        regions,
        partition: partition.into(),
        window,
        schedule,
        index_prefix,
        opensearch: OpenSearchConfig { url, auth, bulk_max_docs, timeouts },
        dry_run,
        account_concurrency: args
            .account_concurrency
            .or(file.account_concurrency)
            .unwrap_or(DEFAULT_ACCOUNT_CONCURRENCY)
            .max(1),
        progress: false,
        prices,
        runtimes,
        deprecation_warning_days,
        retention_days,
        lambda_insights: args.lambda_insights.or(file.lambda_insights).unwrap_or(true),
        aws_timeouts,
        alert_delivery_timeout: Duration::from_secs(alert_delivery_timeout_seconds),
        alert_webhook_ca_file,
    })
}

/// The AWS SDK's timeouts (seconds, 1 to 3600 each; defaults `lfm_aws::Timeouts::DEFAULT`).
fn aws_timeouts(args: &RunArgs, file: &FileConfig) -> Result<lfm_aws::Timeouts, ConfigError> {
    let defaults = lfm_aws::Timeouts::DEFAULT;
    Ok(lfm_aws::Timeouts {
        connect: timeout_seconds(contract::ENV_AWS_CONNECT_TIMEOUT, args.aws_connect_timeout.or(file.aws_connect_timeout), defaults.connect)?,
        attempt: timeout_seconds(contract::ENV_AWS_REQUEST_TIMEOUT, args.aws_request_timeout.or(file.aws_request_timeout), defaults.attempt)?,
        operation: timeout_seconds(
            contract::ENV_AWS_OPERATION_TIMEOUT,
            args.aws_operation_timeout.or(file.aws_operation_timeout),
            defaults.operation,
        )?,
    })
}

/// One timeout setting (named by its variable `env` in the contract): 1 to 3600 seconds.
fn timeout_seconds(env: &str, value: Option<u64>, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(s @ 1..=3600) => Ok(Duration::from_secs(s)),
        Some(s) => {
            let setting = contract::by_env(env).expect("a contract setting");
            Err(ConfigError::Invalid(format!("{setting}: {s} seconds: use 1 to 3600")))
        }
    }
}

/// The OpenSearch timeouts (seconds, 1 to 3600 each; defaults `lfm_opensearch::Timeouts`'s).
fn opensearch_timeouts(connect: Option<u64>, request: Option<u64>, operation: Option<u64>) -> Result<Timeouts, ConfigError> {
    let defaults = Timeouts::default();
    Ok(Timeouts {
        connect: timeout_seconds(contract::ENV_OPENSEARCH_CONNECT_TIMEOUT, connect, defaults.connect)?,
        attempt: timeout_seconds(contract::ENV_OPENSEARCH_REQUEST_TIMEOUT, request, defaults.attempt)?,
        overall: timeout_seconds(contract::ENV_OPENSEARCH_OPERATION_TIMEOUT, operation, defaults.overall)?,
    })
}

/// `opensearch_auth` and the settings that go with it, checked together.
fn opensearch_auth(
    kind: Option<String>,
    user: Option<String>,
    password: Option<String>,
    service: Option<String>,
    region: Option<String>,
) -> Result<OpenSearchAuth, ConfigError> {
    let user = user.filter(|u| !u.trim().is_empty());
    let password = password.filter(|p| !p.is_empty());
    let kind = kind.map(|k| k.trim().to_ascii_lowercase()).filter(|k| !k.is_empty());
    let sigv4_only = || -> Result<(), ConfigError> {
        for (name, value) in [("opensearch_sigv4_service (--opensearch-sigv4-service, LFM_OPENSEARCH_SIGV4_SERVICE)", &service), ("opensearch_region (--opensearch-region, LFM_OPENSEARCH_REGION)", &region)] {
            if value.is_some() {
                return Err(ConfigError::Invalid(format!(
                    "{name} is only used with opensearch_auth = sigv4: set opensearch_auth to sigv4 or remove it"
                )));
            }
        }
        Ok(())
    };
    match kind.as_deref() {
        None | Some(auth_values::AUTH_BASIC) => {
            sigv4_only()?;
            match (user, kind.is_some()) {
                (Some(username), _) => Ok(OpenSearchAuth::Basic { username, password }),
                (None, true) => Err(ConfigError::Invalid(
                    "opensearch_auth = basic needs opensearch_user (--opensearch-user, LFM_OPENSEARCH_USER) and \
                     LFM_OPENSEARCH_PASSWORD; leave opensearch_auth unset for an OpenSearch without authentication"
                        .into(),
                )),
                (None, false) if password.is_some() => Err(ConfigError::Invalid(
                    "LFM_OPENSEARCH_PASSWORD is set but opensearch_user (--opensearch-user, LFM_OPENSEARCH_USER) is not: \
                     basic auth needs both"
                        .into(),
                )),
                (None, false) => Ok(OpenSearchAuth::None),
            }
        }
        Some(auth_values::AUTH_SIGV4) => {
            if user.is_some() || password.is_some() {
                return Err(ConfigError::Invalid(
                    "opensearch_auth = sigv4 cannot be combined with opensearch_user (LFM_OPENSEARCH_USER) / \
                     LFM_OPENSEARCH_PASSWORD: SigV4 signs with the AWS credentials; remove the user and password, \
                     or use opensearch_auth = basic"
                        .into(),
                ));
            }
            let service = match service.as_deref().map(str::trim) {
                None | Some("") => SigV4Service::Es,
                Some(text) => SigV4Service::parse(text).ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "opensearch_sigv4_service {text:?} (--opensearch-sigv4-service, LFM_OPENSEARCH_SIGV4_SERVICE): use {}",
                        auth_values::SIGV4_SERVICES_ACCEPTED
                    ))
                })?,
            };
            let region = region.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
            if let Some(region) = &region {
                if validate_regions(std::slice::from_ref(region)).is_err() {
                    return Err(ConfigError::Invalid(format!(
                        "opensearch_region {region:?} (--opensearch-region, LFM_OPENSEARCH_REGION) is not an AWS region name like eu-west-1"
                    )));
                }
            }
            Ok(OpenSearchAuth::SigV4 { service, region })
        }
        Some(other) => Err(ConfigError::Invalid(format!(
            "opensearch_auth {other:?} (--opensearch-auth, LFM_OPENSEARCH_AUTH): use {}",
            auth_values::AUTH_ACCEPTED
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> RunArgs {
        match Cli::try_parse_from(["lfm-collector", "run"].iter().chain(args)).unwrap().command {
            Command::Run(run) => *run,
            other => panic!("parsed {other:?}"),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-26T16:20:00Z".parse().unwrap()
    }

    #[test]
    fn flags_override_the_file_and_defaults_fill_the_rest() {
        let args = parse(&["--accounts", "111122223333,444455556666", "--period", "60", "--opensearch-url", "http://127.0.0.1:9200/"]);
        let file = FileConfig::from_toml(
            "accounts = [\"999999999999\"]\nregions = [\"eu-west-1\"]\nopensearch_url = \"http://elsewhere:9200\"\nperiod = 900\n",
        )
        .unwrap();
        let config = merge(&args, file, None, now()).unwrap();
        assert_eq!(config.accounts, vec!["111122223333", "444455556666"]);
        assert_eq!(config.regions, vec!["eu-west-1"]);
        assert_eq!(config.opensearch.url, "http://127.0.0.1:9200");
        assert_eq!(config.window.period_seconds, 60);
        // Default window: one hour up to the last boundary at or before now - 5 min settle.
        assert_eq!(config.window.start, "2026-11-26T15:15:00Z".parse::<DateTime<Utc>>().unwrap());
        assert!(!config.schedule.explicit_window);
        assert_eq!(config.schedule.backfill_horizon, chrono::TimeDelta::hours(3));
        assert_eq!(config.role_name, DEFAULT_ROLE_NAME);
        assert_eq!(config.index_prefix, "lfm");
        assert_eq!(config.partition, "aws");
    }

    #[test]
    fn aws_timeouts_from_flag_or_file_and_at_least_one_second() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--dry-run"];
        let c = merge(&parse(&base), FileConfig::default(), None, now()).unwrap();
        assert_eq!(c.aws_timeouts, lfm_aws::Timeouts::DEFAULT);
        let flags = [&base[..], &["--aws-operation-timeout", "7"]].concat();
        let file = FileConfig::from_toml("aws_connect_timeout = 2\naws_operation_timeout = 9\n").unwrap();
        let c = merge(&parse(&flags), file, None, now()).unwrap();
        assert_eq!((c.aws_timeouts.connect.as_secs(), c.aws_timeouts.attempt.as_secs(), c.aws_timeouts.operation.as_secs()), (2, 60, 7));
        let zero = [&base[..], &["--aws-request-timeout", "0"]].concat();
        let e = merge(&parse(&zero), FileConfig::default(), None, now()).unwrap_err().to_string();
        assert!(e.contains("aws_request_timeout (--aws-request-timeout, LFM_AWS_REQUEST_TIMEOUT): 0 seconds: use 1 to 3600"), "{e}");
    }

    #[test]
    fn opensearch_timeouts_default_to_the_clients_and_are_bounded() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--opensearch-url=http://x:9200"];
        let config = merge(&parse(&base), FileConfig::default(), None, now()).unwrap();
        assert_eq!(config.opensearch.timeouts, Timeouts::default());
        let set: Vec<&str> = base.iter().copied().chain(["--opensearch-connect-timeout=3", "--opensearch-request-timeout=45"]).collect();
        let file = FileConfig::from_toml("opensearch_request_timeout = 5\nopensearch_operation_timeout = 300\n").unwrap();
        let timeouts = merge(&parse(&set), file, None, now()).unwrap().opensearch.timeouts;
        assert_eq!(
            (timeouts.connect, timeouts.attempt, timeouts.overall),
            (Duration::from_secs(3), Duration::from_secs(45), Duration::from_secs(300)),
            "the flag wins over the file"
        );
        let zero: Vec<&str> = base.iter().copied().chain(["--opensearch-operation-timeout=0"]).collect();
        let e = merge(&parse(&zero), FileConfig::default(), None, now()).unwrap_err().to_string();
        assert!(
            e.contains("opensearch_operation_timeout (--opensearch-operation-timeout, LFM_OPENSEARCH_OPERATION_TIMEOUT): 0 seconds: use 1 to 3600"),
            "{e}"
        );
    }

    #[test]
    fn lambda_insights_on_by_default_off_by_flag_or_file() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--opensearch-url=http://x:9200"];
        assert!(merge(&parse(&base), FileConfig::default(), None, now()).unwrap().lambda_insights);
        let off: Vec<&str> = base.iter().copied().chain(["--lambda-insights", "false"]).collect();
        assert!(!merge(&parse(&off), FileConfig::default(), None, now()).unwrap().lambda_insights);
        let file = FileConfig::from_toml("lambda_insights = false\n").unwrap();
        assert!(!merge(&parse(&base), file, None, now()).unwrap().lambda_insights);
        // The flag wins over the file.
        let on: Vec<&str> = base.iter().copied().chain(["--lambda-insights", "true"]).collect();
        let file = FileConfig::from_toml("lambda_insights = false\n").unwrap();
        assert!(merge(&parse(&on), file, None, now()).unwrap().lambda_insights);
        let bad = Cli::try_parse_from(["lfm-collector", "run", "--lambda-insights", "maybe"]).err().unwrap().to_string();
        assert!(bad.contains("--lambda-insights") && bad.contains("maybe"), "{bad}");
    }

    #[test]
    fn reference_tables_warning_days_and_retention() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--opensearch-url=http://x:9200"];
        let config = merge(&parse(&base), FileConfig::default(), None, now()).unwrap();
        assert_eq!(config.deprecation_warning_days, crate::config::DEFAULT_DEPRECATION_WARNING_DAYS);
        assert_eq!(config.retention_days, None, "keep everything unless asked");
        assert_eq!(config.prices, lfm_schema::reference::PriceTable::shipped());

        let dir = std::env::temp_dir().join(format!("lfm-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prices = dir.join("prices.json");
        let mut table = serde_json::to_value(lfm_schema::reference::PriceTable::shipped()).unwrap();
        table["regions"]["us-east-1"]["request_usd_per_million"] = serde_json::json!(0.25);
        std::fs::write(&prices, table.to_string()).unwrap();
        let file = FileConfig::from_toml(&format!(
            "prices_file = {:?}\ndeprecation_warning_days = 30\nretention_days = 90\n",
            prices.display().to_string()
        ))
        .unwrap();
        let config = merge(&parse(&base), file, None, now()).unwrap();
        assert_eq!(config.prices.lookup("us-east-1", "x86_64").unwrap().0, 0.25 / 1e6);
        assert_eq!((config.deprecation_warning_days, config.retention_days), (30, Some(90)));

        let garbage = dir.join("runtimes.json");
        std::fs::write(&garbage, "{\"not\": \"a table\"}").unwrap();
        let mut args = parse(&base);
        args.runtimes_file = Some(garbage);
        let err = merge(&args, FileConfig::default(), None, now()).unwrap_err().to_string();
        assert!(err.contains("--runtimes / runtimes_file") && err.contains("runtimes.json"), "{err}");
        let mut args = parse(&base);
        args.prices_file = Some(dir.join("missing.json"));
        let err = merge(&args, FileConfig::default(), None, now()).unwrap_err().to_string();
        assert!(err.contains("--prices / prices_file: cannot read it"), "{err}");
        let mut args = parse(&base);
        args.retention_days = Some(0);
        let err = merge(&args, FileConfig::default(), None, now()).unwrap_err().to_string();
        assert!(err.contains("retention_days 0"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn alert_delivery_timeout_and_webhook_ca_file() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--opensearch-url=http://x:9200"];
        let config = merge(&parse(&base), FileConfig::default(), None, now()).unwrap();
        assert_eq!((config.alert_delivery_timeout, config.alert_webhook_ca_file), (Duration::from_secs(30), None));

        let dir = std::env::temp_dir().join(format!("lfm-cli-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let file = FileConfig::from_toml(&format!(
            "alert_delivery_timeout_seconds = 900\nalert_webhook_ca_file = {:?}\n",
            ca.display().to_string()
        ))
        .unwrap();
        let config = merge(&parse(&base), file, None, now()).unwrap();
        assert_eq!((config.alert_delivery_timeout, config.alert_webhook_ca_file), (Duration::from_secs(900), Some(ca)));
        let flag: Vec<&str> = base.iter().copied().chain(["--alert-delivery-timeout-seconds=5"]).collect();
        let file = FileConfig::from_toml("alert_delivery_timeout_seconds = 60\n").unwrap();
        assert_eq!(merge(&parse(&flag), file, None, now()).unwrap().alert_delivery_timeout, Duration::from_secs(5), "the flag wins");

        for bad in ["0", "901"] {
            let args: Vec<String> = base.iter().map(|s| s.to_string()).chain([format!("--alert-delivery-timeout-seconds={bad}")]).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let e = merge(&parse(&args), FileConfig::default(), None, now()).unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "alert_delivery_timeout_seconds (--alert-delivery-timeout-seconds, LFM_ALERT_DELIVERY_TIMEOUT_SECONDS): {bad} seconds: use 1 to 900"
                )),
                "{e}"
            );
        }
        let mut args = parse(&base);
        args.alert_webhook_ca_file = Some(dir.join("missing.pem"));
        let e = merge(&args, FileConfig::default(), None, now()).unwrap_err().to_string();
        assert!(e.contains("missing.pem") && e.contains("alert_webhook_ca_file (--alert-webhook-ca-file, LFM_ALERT_WEBHOOK_CA_FILE): cannot read it"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn missing_opensearch_url_is_fine_only_for_dry_runs() {
        if std::env::var_os("LFM_OPENSEARCH_URL").is_some() {
            return; // clap reads the environment; the live tests set this variable.
        }
        let args = parse(&["--accounts", "111122223333", "--regions", "us-east-1"]);
        let err = merge(&args, FileConfig::default(), None, now()).unwrap_err();
        assert!(err.to_string().contains("LFM_OPENSEARCH_URL"), "{err}");
        let args = parse(&["--accounts", "111122223333", "--regions", "us-east-1", "--dry-run"]);
        assert!(merge(&args, FileConfig::default(), None, now()).unwrap().dry_run);
    }

    #[test]
    fn opensearch_auth_none_basic_or_sigv4() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--opensearch-url=https://d.eu-west-1.es.amazonaws.com"];
        let with = |extra: &[&str], file: &str, password: Option<&str>| {
            let args = parse(&base.iter().chain(extra).copied().collect::<Vec<_>>());
            merge(&args, FileConfig::from_toml(file).unwrap(), password.map(String::from), now()).map(|c| c.opensearch.auth)
        };
        assert_eq!(with(&[], "", None).unwrap(), OpenSearchAuth::None);
        assert_eq!(
            with(&["--opensearch-user=lfm"], "", Some("pw")).unwrap(),
            OpenSearchAuth::Basic { username: "lfm".into(), password: Some("pw".into()) },
            "basic when a user is given"
        );
        assert_eq!(
            with(&["--opensearch-auth=sigv4"], "", None).unwrap(),
            OpenSearchAuth::SigV4 { service: SigV4Service::Es, region: None },
            "es and the AWS region by default"
        );
        assert_eq!(
            with(&[], "opensearch_auth = \"sigv4\"\nopensearch_sigv4_service = \"aoss\"\nopensearch_region = \"eu-west-1\"\n", None).unwrap(),
            OpenSearchAuth::SigV4 { service: SigV4Service::Aoss, region: Some("eu-west-1".into()) }
        );
        assert_eq!(
            with(&["--opensearch-sigv4-service=es"], "opensearch_auth = \"sigv4\"\nopensearch_sigv4_service = \"aoss\"\n", None).unwrap(),
            OpenSearchAuth::SigV4 { service: SigV4Service::Es, region: None },
            "flags override the file"
        );

        let err = |extra: &[&str], file: &str, password: Option<&str>| with(extra, file, password).unwrap_err().to_string();
        let e = err(&["--opensearch-auth=iam"], "", None);
        assert!(e.contains("opensearch_auth \"iam\"") && e.contains("LFM_OPENSEARCH_AUTH") && e.contains("basic") && e.contains("sigv4"), "{e}");
        let e = err(&["--opensearch-auth=sigv4", "--opensearch-sigv4-service=aos"], "", None);
        assert!(e.contains("opensearch_sigv4_service \"aos\"") && e.contains("es (") && e.contains("aoss ("), "{e}");
        let e = err(&["--opensearch-auth=sigv4", "--opensearch-user=lfm"], "", None);
        assert!(e.contains("opensearch_auth = sigv4") && e.contains("opensearch_user") && e.contains("LFM_OPENSEARCH_PASSWORD"), "{e}");
        let e = err(&["--opensearch-auth=sigv4"], "", Some("pw"));
        assert!(e.contains("cannot be combined") && e.contains("LFM_OPENSEARCH_PASSWORD"), "{e}");
        let e = err(&["--opensearch-auth=sigv4", "--opensearch-region=EU west"], "", None);
        assert!(e.contains("opensearch_region \"EU west\""), "{e}");
        let e = err(&["--opensearch-auth=basic"], "", None);
        assert!(e.contains("opensearch_auth = basic needs opensearch_user"), "{e}");
        let e = err(&["--opensearch-user=lfm"], "opensearch_sigv4_service = \"es\"\n", None);
        assert!(e.contains("opensearch_sigv4_service") && e.contains("only used with opensearch_auth = sigv4"), "{e}");
        let e = err(&[], "", Some("pw"));
        assert!(e.contains("LFM_OPENSEARCH_PASSWORD is set but opensearch_user"), "{e}");
        let e = FileConfig::from_toml("opensearch_auth = 4\n").unwrap_err().to_string();
        assert!(e.contains("opensearch_auth"), "{e}");
    }

    /// The contract (lfm-schema) and clap agree: every `run` argument has the flag and
    /// variable the contract gives it, and every contract setting with a flag is an argument.
    #[test]
    fn every_argument_is_a_contract_setting_and_back() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let run = cli.find_subcommand("run").expect("the run subcommand");
        let mut from_clap = std::collections::BTreeSet::new();
        for arg in run.get_arguments().filter(|a| a.get_id() != "help") {
            let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_else(|| panic!("--{} has no environment variable", arg.get_id()));
            let setting = contract::by_env(env).unwrap_or_else(|| panic!("{env} is not in lfm_schema::contract::SETTINGS"));
            assert_eq!(arg.get_long(), setting.flag, "{env}");
            from_clap.insert(env.to_owned());
        }
        for setting in contract::SETTINGS.iter().filter(|s| s.flag.is_some()) {
            assert!(from_clap.contains(setting.env), "contract setting {setting} is not an argument of `lfm-collector run`");
        }
        // Every variable the contract names is read: with a flag by clap, the password by `to_config`.
        let parsed = Cli::try_parse_from(["lfm-collector", "run", "--index-prefix=lfm.prod", "--opensearch-sigv4-service=aoss"]).unwrap();
        assert!(matches!(parsed.command, Command::Run(_)));
    }

    /// The config file accepts exactly the contract's keys.
    #[test]
    fn the_config_file_keys_are_the_contract_keys() {
        // serde lists a field's aliases among its names; opensearch_username is the old name of opensearch_user.
        let fields: std::collections::BTreeSet<&str> =
            crate::config::file::FIELDS.iter().copied().filter(|f| *f != "opensearch_username").collect();
        let keys: std::collections::BTreeSet<&str> = contract::SETTINGS.iter().filter_map(|s| s.key).collect();
        assert_eq!(fields, keys, "FileConfig fields (left) vs lfm_schema::contract::SETTINGS keys (right)");
        for key in keys {
            let err = FileConfig::from_json(&format!("{{\"{key}\": {{}}}}")).unwrap_err().to_string();
            assert!(!err.contains("unknown field"), "{key}: {err}");
        }
    }

    #[test]
    fn auth_and_sigv4_values_are_the_contracts() {
        for service in auth_values::SIGV4_SERVICES {
            assert_eq!(SigV4Service::parse(service).map(SigV4Service::as_str), Some(*service));
        }
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--opensearch-url=http://x:9200", "--opensearch-user=u"];
        for auth in auth_values::AUTH_VALUES {
            let args = parse(&base.iter().copied().chain([format!("--opensearch-auth={auth}").as_str()]).collect::<Vec<_>>());
            let result = merge(&args, FileConfig::default(), None, now());
            // sigv4 refuses the user: the value itself was accepted.
            let accepted = match &result { Ok(c) => c.opensearch.auth.kind() == *auth, Err(e) => !e.to_string().contains("use basic") };
            assert!(accepted, "{auth}: {result:?}");
        }
    }

    #[test]
    fn index_prefix_follows_the_contract() {
        let base = ["--accounts=111122223333", "--regions=us-east-1", "--dry-run"];
        let with = |prefix: &str| merge(&parse(&base.iter().copied().chain([format!("--index-prefix={prefix}").as_str()]).collect::<Vec<_>>()), FileConfig::default(), None, now());
        assert_eq!(with("lfm.prod").unwrap().index_prefix, "lfm.prod");
        let e = with("-lfm").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid setting: index_prefix (--index-prefix, LFM_INDEX_PREFIX): \"-lfm\" must not begin with '-': OpenSearch index names cannot begin with '-', '_' or '+', and names beginning with '.' are hidden or system indices; begin with a letter or digit, e.g. \"lfm\""
        );
        assert!(with("_lfm").is_err() && with("Lfm").is_err() && with("").is_err());
        let file = FileConfig::from_toml("index_prefix = \"a b\"\n").unwrap();
        let e = merge(&parse(&base), file, None, now()).unwrap_err().to_string();
        assert!(e.contains("index_prefix (--index-prefix, LFM_INDEX_PREFIX): \"a b\" must not contain a space"), "{e}");
    }

    #[test]
    fn explicit_window() {
        let args = parse(&[
            "--accounts=111122223333",
            "--regions=us-east-1",
            "--opensearch-url=http://x:9200",
            "--start=2026-11-26T10:00:00Z",
            "--end=2026-11-26T12:00:00+00:00",
        ]);
        let config = merge(&args, FileConfig::default(), None, now()).unwrap();
        assert_eq!(config.window.period_count(), 24);
        assert!(config.schedule.explicit_window);
    }

    #[test]
    fn backfill_and_settle_from_flags_or_file() {
        let args = parse(&["--accounts=111122223333", "--regions=us-east-1", "--dry-run", "--backfill=24h"]);
        let file = FileConfig::from_toml("settle_delay = \"0s\"\nbackfill_horizon = \"6h\"\n").unwrap();
        let config = merge(&args, file, None, now()).unwrap();
        assert_eq!(config.schedule.backfill_horizon, chrono::TimeDelta::hours(24));
        assert_eq!(config.schedule.settle_delay, chrono::TimeDelta::zero());
        assert_eq!(config.window.end, now());
        let args = parse(&["--accounts=111122223333", "--regions=us-east-1", "--dry-run", "--backfill=a day"]);
        let err = merge(&args, FileConfig::default(), None, now()).unwrap_err();
        assert!(err.to_string().contains("backfill_horizon"), "{err}");
    }
}
