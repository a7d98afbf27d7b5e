//! The collector against an AWS endpoint that accepts the connection and never answers (as
//! a new user's STS did: `terraform plan` hung until killed). The run must end within the
//! configured timeouts, and the account's error must name the service and operation, the
//! endpoint, and the setting to raise, with no Rust `Debug` output. Needs no test bed.

use std::process::Command;
use std::time::{Duration, Instant};

use lfm_aws::testing::silent_endpoint;

fn collector(url: &str, timeouts: &[&str]) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_lfm-collector"))
        .args(["run", "--dry-run", "--accounts=111122223333", "--regions=us-east-1", "--output=json"])
        .args(timeouts)
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL_STS")
        .env_remove("LFM_CONFIG")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run lfm-collector");
    (out, started.elapsed())
}

fn account_error(out: &std::process::Output) -> String {
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    summary["accounts"][0]["errors"][0].as_str().unwrap_or_else(|| panic!("no account error in {summary}")).to_string()
}

fn assert_readable(text: &str) {
    for internal in ["DispatchFailure", "TimeoutError", "ConnectorError", "Some(", "{ ", "hyper_util"] {
        assert!(!text.contains(internal), "{internal:?} in: {text}");
    }
}

#[test]
fn a_silent_sts_ends_the_run_within_the_request_timeout_naming_endpoint_and_setting() {
    let url = silent_endpoint();
    let (out, elapsed) = collector(&url, &["--aws-request-timeout=2", "--aws-operation-timeout=30"]);
    // 5 attempts of 2 s with backoff between them, well under the operation timeout.
    assert!(elapsed < Duration::from_secs(25), "took {elapsed:?}");
    assert!(!out.status.success());
    let error = account_error(&out);
    eprintln!("{error}");
    for part in [
        "account 111122223333",
        "STS AssumeRole",
        url.as_str(),
        "per-attempt timeout of 2 s",
        "aws_request_timeout (--aws-request-timeout, LFM_AWS_REQUEST_TIMEOUT)",
        "AWS_ENDPOINT_URL",
    ] {
        assert!(error.contains(part), "{part:?} missing from: {error}");
    }
    assert_readable(&error);
}

#[test]
fn the_operation_timeout_bounds_every_attempt_together() {
    let url = silent_endpoint();
    let (out, elapsed) = collector(&url, &["--aws-request-timeout=60", "--aws-operation-timeout=3"]);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    let error = account_error(&out);
    eprintln!("{error}");
    for part in ["STS AssumeRole", url.as_str(), "operation timeout of 3 s", "--aws-operation-timeout", "LFM_AWS_OPERATION_TIMEOUT"] {
        assert!(error.contains(part), "{part:?} missing from: {error}");
    }
    assert_readable(&error);
}
