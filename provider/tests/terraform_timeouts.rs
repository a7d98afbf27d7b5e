//! An AWS endpoint that accepts the connection and never answers: `terraform plan` must fail
//! within the provider's operation timeout, naming the service, the endpoint and the setting
//! (it used to print "Refreshing state..." until killed); the same for OpenSearch
//! (`lfm_dashboard_bundle`).

mod common;

use common::Workdir;
use lfm_aws::testing::silent_endpoint;
use std::time::{Duration, Instant};

#[test]
fn silent_endpoint_fails_plan_within_the_operation_timeout() {
    let url = silent_endpoint();
    let w = Workdir::new("silent-endpoint");
    w.write(
        "main.tf",
        &format!(
            r#"
terraform {{
  required_providers {{
    lfm = {{ source = "lfm/lfm", version = "0.1.0" }}
  }}
}}
provider "lfm" {{
  region                    = "us-east-1"
  connect_timeout_seconds   = 2
  request_timeout_seconds   = 2
  operation_timeout_seconds = 4
  endpoints {{
    sts           = "{url}"
    organizations = "{url}"
  }}
}}
data "lfm_organization_accounts" "all" {{}}
"#
        ),
    );
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);
    let started = Instant::now();
    let out = w.run(&["plan", "-input=false", "-no-color"]);
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&out.stderr).replace('\n', " ");
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(elapsed < Duration::from_secs(60), "plan took {elapsed:?}: {text}");
    for part in ["Organizations DescribeOrganization", url.as_str(), "operation timeout of 4 s", "operation_timeout_seconds"] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
    for internal in ["DispatchFailure", "TimeoutError", "Some("] {
        assert!(!text.contains(internal), "{internal:?} in: {text}");
    }
    assert!(!text.replace("...", "").contains(".."), "two periods in: {text}");
}

#[test]
fn timeouts_must_be_positive() {
    let w = Workdir::new("zero-timeout");
    w.write(
        "main.tf",
        r#"
terraform {
  required_providers {
    lfm = { source = "lfm/lfm", version = "0.1.0" }
  }
}
provider "lfm" {
  region                  = "us-east-1"
  request_timeout_seconds = 0
}
data "lfm_permissions_policy" "p" {}
"#,
    );
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);
    let out = w.run(&["plan", "-input=false", "-no-color"]);
    let text = String::from_utf8_lossy(&out.stderr).replace('\n', " ");
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("request_timeout_seconds") && text.contains("Got 0"), "{text}");
}

/// `lfm_dashboard_bundle` against an OpenSearch that accepts the connection and never answers:
/// `terraform apply` fails within the provider's operation timeout (it used to wait
/// `request_timeout_seconds` for each of 4 attempts, about two minutes), with one sentence
/// naming the call, the endpoint and the setting; a closed port says "no connection".
#[test]
fn silent_and_closed_opensearch_fail_apply_within_the_operation_timeout() {
    let silent = silent_endpoint();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for (url, expected) in [
        (&silent, ["no answer within the overall timeout of 4 s", "operation_timeout_seconds in the provider \"lfm\" block"]),
        (&closed, ["no connection (Connection refused)", "Check opensearch_url of lfm_dashboard_bundle"]),
    ] {
        let w = Workdir::new("silent-opensearch");
        w.write(
            "main.tf",
            &format!(
                r#"
terraform {{
  required_providers {{
    lfm = {{ source = "lfm/lfm", version = "0.1.0" }}
  }}
}}
provider "lfm" {{
  region                    = "us-east-1"
  connect_timeout_seconds   = 2
  operation_timeout_seconds = 4
}}
resource "lfm_dashboard_bundle" "b" {{
  opensearch_url = "{url}"
}}
"#
            ),
        );
        let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
        w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);
        let started = Instant::now();
        let out = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&out.stderr).split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(elapsed < Duration::from_secs(30), "apply took {elapsed:?}: {text}");
        let endpoint = format!("PUT {url}/_index_template/lfm-metrics");
        for part in expected.iter().copied().chain(["installing index template lfm-metrics failed", endpoint.as_str()]) {
            assert!(text.contains(part), "{part:?} missing from: {text}");
        }
        for internal in ["error sending request", "hyper", "Some(", "reqwest::"] {
            assert!(!text.contains(internal), "{internal:?} in: {text}");
        }
        assert!(!text.replace("...", "").contains(".."), "two periods in: {text}");
    }
}
