//! Acceptance test of `lfm_alert_destination` and `lfm_alert_rule` with Terraform 1.0.3 and the
//! built provider binary, against the test bed's real OpenSearch node and moto (SSM):
//! create (documents with exactly the declared fields, the webhook secret in SSM and not in the
//! document), empty second plan, a threshold changed (update in place), a rule document
//! deleted by hand (plan re-creates it), import of both kinds and verify, bad rules refused at
//! plan naming the attribute with the collector's message, destroy (documents and the SSM
//! parameter gone).
//!
//! Needs `LFM_OPENSEARCH_URL`, `LFM_MOTO_URL` and Terraform 1.0.3: `python -m lfm_testbed up`,
//! then `eval "$(python -m lfm_testbed env)"`.

mod common;

use common::{moto_url, opensearch_url, Workdir};
use lfm_schema::alerts::{validate_rule, AlertRuleDocument};
use serde_json::{json, Value as Json};

const USER: &str = "lfm-admin";
const PASSWORD: &str = "not-a-real-secret";
const SECRET: &str = "hmac-secret-for-tests";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:lfm-alerts";

impl Workdir {
    /// Actions `terraform plan` would take on `address` (`[]` = nothing to do).
    fn actions_on(&self, address: &str) -> Vec<String> {
        self.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        let plan: Json = serde_json::from_str(&self.ok(&["show", "-json", "tfplan"])).unwrap();
        plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["address"] == address)
            .flat_map(|c| c["change"]["actions"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_owned))
            .filter(|a| a != "no-op")
            .collect()
    }

    fn resource(&self, address: &str) -> Json {
        let show: Json = serde_json::from_str(&self.ok(&["show", "-json"])).unwrap();
        show["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or(Json::Null)
    }

    fn apply(&self) -> String {
        self.ok(&["apply", "-input=false", "-no-color", "-auto-approve"])
    }
}

fn main_tf(os: &str, moto: &str, prefix: &str, threshold: &str, extra: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    lfm = {{ source = "lfm/lfm", version = "0.1.0" }}
  }}
}}
provider "lfm" {{
  region = "us-east-1"
  endpoints {{
    sts = "{moto}"
    ssm = "{moto}"
  }}
}}
variable "secret" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}
locals {{
  os = "{os}"
}}
resource "lfm_alert_destination" "hook" {{
  name           = "hook"
  webhook_url    = "http://127.0.0.1:9/lfm"
  webhook_secret = var.secret
  webhook_format = "slack"
  opensearch_url = local.os
  index_prefix   = "{prefix}"
  username       = "{USER}"
  password       = "{PASSWORD}"
}}
resource "lfm_alert_destination" "topic" {{
  name           = "topic"
  sns_topic_arn  = "{TOPIC}"
  opensearch_url = local.os
  index_prefix   = "{prefix}"
  username       = "{USER}"
  password       = "{PASSWORD}"
}}
resource "lfm_alert_rule" "errors" {{
  name                  = "high-errors"
  metric                = "error_rate"
  comparison            = "GreaterThanThreshold"
  threshold             = {threshold}
  datapoints_to_alarm   = 2
  evaluation_periods    = 3
  function_name_pattern = "prod-*"
  severity              = "critical"
  destination_ids       = [lfm_alert_destination.hook.id, lfm_alert_destination.topic.id]
  opensearch_url        = local.os
  index_prefix          = "{prefix}"
  username              = "{USER}"
  password              = "{PASSWORD}"
}}
resource "lfm_alert_rule" "regressions" {{
  name            = "regressions"
  kind            = "deploy_regression"
  destination_ids = [lfm_alert_destination.topic.id]
  opensearch_url  = local.os
  index_prefix    = "{prefix}"
  username        = "{USER}"
  password        = "{PASSWORD}"
}}
{extra}
"#
    )
}

async fn document(http: &reqwest::Client, os: &str, index: &str, id: &str) -> Option<Json> {
    let r = http.get(format!("{os}/{index}/_doc/{id}")).basic_auth(USER, Some(PASSWORD)).send().await.unwrap();
    match r.status().as_u16() {
        404 => None,
        200 => Some(r.json::<Json>().await.unwrap()["_source"].clone()),
        other => panic!("GET {index}/_doc/{id}: {other}"),
    }
}

async fn ssm() -> aws_sdk_ssm::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    aws_sdk_ssm::Client::new(&config)
}

/// The document without `updated_at` (set at each write).
fn without_updated_at(mut doc: Json) -> Json {
    let updated = doc.as_object_mut().unwrap().remove("updated_at");
    assert!(updated.and_then(|u| u.as_str().map(str::to_owned)).is_some_and(|u| u.ends_with('Z')), "updated_at is UTC RFC 3339");
    doc
}

#[tokio::test]
async fn alerts_with_terraform_1_0_3() {
    let (os, moto) = (opensearch_url(), moto_url());
    let http = reqwest::Client::new();
    let ssm = ssm().await;
    let prefix = format!("lfmalerts{}", std::process::id());
    let (rules, destinations) = (format!("{prefix}-alert-rules"), format!("{prefix}-alert-destinations"));
    let parameter = format!("/lfm/{prefix}/alert-destinations/hook/webhook-secret");

    let w = Workdir::new("alerts");
    w.write("main.tf", &main_tf(&os, &moto, &prefix, "0.05", ""));
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);

    // Create: documents with exactly the declared fields (and the documented defaults).
    let applied = w.apply();
    assert!(!applied.contains(SECRET) && !applied.contains(PASSWORD), "secrets are never shown");
    let rule = without_updated_at(document(&http, &os, &rules, "high-errors").await.expect("rule written"));
    assert_eq!(
        rule,
        json!({
            "name": "high-errors", "kind": "threshold", "enabled": true, "description": null, "severity": "critical",
            "metric": "error_rate", "comparison": "GreaterThanThreshold", "threshold": 0.05,
            "datapoints_to_alarm": 2, "evaluation_periods": 3, "min_invocations": 10,
            "account_ids": [], "regions": [], "function_name_pattern": "prod-*", "runtimes": [],
            "destinations": ["hook", "topic"], "renotify_minutes": 240, "regression_metrics": []
        })
    );
    let regression = without_updated_at(document(&http, &os, &rules, "regressions").await.unwrap());
    assert_eq!(regression["regression_metrics"], json!(["error_rate", "duration_p99_ms", "cold_start_rate", "cost_per_invocation_usd"]));
    assert_eq!((regression["metric"].clone(), regression["threshold"].clone()), (Json::Null, Json::Null));
    let hook = without_updated_at(document(&http, &os, &destinations, "hook").await.unwrap());
    assert_eq!(hook, json!({"name": "hook", "type": "webhook", "topic_arn": null, "url": "http://127.0.0.1:9/lfm", "format": "slack", "secret_parameter": parameter}));
    let topic = without_updated_at(document(&http, &os, &destinations, "topic").await.unwrap());
    assert_eq!(topic, json!({"name": "topic", "type": "sns", "topic_arn": TOPIC, "url": null, "format": "json", "secret_parameter": null}));
    let stored = ssm.get_parameter().name(&parameter).with_decryption(true).send().await.expect("secret parameter");
    let stored = stored.parameter().unwrap();
    assert_eq!((stored.value(), stored.r#type().map(|t| t.as_str())), (Some(SECRET), Some("SecureString")));
    let state = w.resource("lfm_alert_destination.hook");
    assert_eq!(state["secret_parameter_name"], parameter.as_str());
    assert_eq!(state["secret_parameter_arn"], stored.arn().unwrap());
    assert_eq!(state["id"], format!("{os}|{prefix}|hook"));
    assert_eq!(w.resource("lfm_alert_destination.topic")["topic_arn"], TOPIC);

    // Second plan: empty.
    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "plan after apply is empty:\n{}", String::from_utf8_lossy(&plan.stdout));

    // A threshold changed: updated in place.
    w.write("main.tf", &main_tf(&os, &moto, &prefix, "0.1", ""));
    assert_eq!(w.actions_on("lfm_alert_rule.errors"), ["update"]);
    w.apply();
    assert_eq!(document(&http, &os, &rules, "high-errors").await.unwrap()["threshold"], 0.1);
    assert_eq!(w.actions_on("lfm_alert_rule.errors"), Vec::<String>::new());

    // Changed outside Terraform: the plan shows the drift and apply restores it.
    let mut edited = document(&http, &os, &rules, "high-errors").await.unwrap();
    edited["threshold"] = json!(0.5);
    let put = http.put(format!("{os}/{rules}/_doc/high-errors?refresh=true")).basic_auth(USER, Some(PASSWORD)).json(&edited).send().await.unwrap();
    assert!(put.status().is_success());
    assert_eq!(w.actions_on("lfm_alert_rule.errors"), ["update"]);

    // Deleted by hand: the plan re-creates it.
    let deleted = http.delete(format!("{os}/{rules}/_doc/high-errors?refresh=true")).basic_auth(USER, Some(PASSWORD)).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    assert_eq!(w.actions_on("lfm_alert_rule.errors"), ["create"]);
    w.apply();
    assert_eq!(document(&http, &os, &rules, "high-errors").await.unwrap()["threshold"], 0.1);

    // Import (credentials from the environment, as import.sh documents) and verify.
    let env = [("LFM_OPENSEARCH_USERNAME", USER), ("LFM_OPENSEARCH_PASSWORD", PASSWORD)];
    for (address, name) in [("lfm_alert_rule.errors", "high-errors"), ("lfm_alert_rule.regressions", "regressions"), ("lfm_alert_destination.hook", "hook")] {
        let before = w.resource(address);
        w.ok(&["state", "rm", address]);
        w.ok_env(&["import", "-input=false", "-no-color", address, &format!("{os}|{prefix}|{name}")], &env);
        let imported = w.resource(address);
        for (k, v) in before.as_object().unwrap() {
            if !["username", "password"].contains(&k.as_str()) {
                assert_eq!(&imported[k], v, "{address}.{k} after import");
            }
        }
    }
    w.ok_env(&["apply", "-input=false", "-no-color", "-auto-approve"], &env);
    for address in ["lfm_alert_rule.errors", "lfm_alert_rule.regressions", "lfm_alert_destination.hook"] {
        assert_eq!(w.actions_on(address), Vec::<String>::new(), "{address} converged after import");
    }

    // Bad rules: refused at plan, naming the attribute, in the collector's words.
    let mut bad_doc: AlertRuleDocument = serde_json::from_value(document(&http, &os, &rules, "high-errors").await.unwrap()).unwrap();
    bad_doc.threshold = Some(1.5);
    let expected = validate_rule(&bad_doc).into_iter().find(|p| p.field == "threshold").expect("the collector refuses it").message;
    let bad = r#"
resource "lfm_alert_rule" "bad" {
  name                = "bad"
  metric              = "error_rate"
  comparison          = "GreaterThanThreshold"
  threshold           = 1.5
  datapoints_to_alarm = 4
  evaluation_periods  = 3
  opensearch_url      = local.os
  username            = "u"
  password            = "p"
}
"#;
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let plan_error = |extra: &str| {
        w.write("main.tf", &main_tf(&os, &moto, &prefix, "0.1", extra));
        let out = w.run(&["plan", "-input=false", "-no-color"]);
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{text}");
        text
    };
    let text = plan_error(bad);
    assert!(flat(&text).contains("Error: Invalid alert rule: threshold"), "{text}");
    assert!(flat(&text).contains(&flat(&expected)), "expected {expected:?} in\n{text}");
    assert!(flat(&text).contains("Error: Invalid alert rule: datapoints_to_alarm") && text.contains("cannot exceed evaluation_periods"), "{text}");
    // A destination of another index prefix (known at plan: the destination exists).
    let elsewhere = r#"
resource "lfm_alert_rule" "elsewhere" {
  name                = "elsewhere"
  metric              = "throttles"
  comparison          = "GreaterThanThreshold"
  threshold           = 0
  datapoints_to_alarm = 1
  evaluation_periods  = 1
  destination_ids     = [lfm_alert_destination.topic.id]
  opensearch_url      = local.os
  index_prefix        = "another-prefix"
}
"#;
    let text = plan_error(elsewhere);
    assert!(flat(&text).contains("Error: destination_ids[0] belongs to another OpenSearch target"), "{text}");
    assert!(flat(&text).contains(&format!("stored at {os}|{prefix}, this rule at {os}|another-prefix")), "{text}");
    w.write("main.tf", &main_tf(&os, &moto, &prefix, "0.1", ""));

    // Destroy: documents and the SSM parameter gone.
    w.ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
    for (index, id) in [(&rules, "high-errors"), (&rules, "regressions"), (&destinations, "hook"), (&destinations, "topic")] {
        assert_eq!(document(&http, &os, index, id).await, None, "{index}/{id} removed");
    }
    let gone = ssm.get_parameter().name(&parameter).send().await.unwrap_err();
    assert_eq!(aws_sdk_ssm::error::ProvideErrorMetadata::code(&gone), Some("ParameterNotFound"));

    // Clean up the test's indices.
    for index in [&rules, &destinations] {
        let _ = http.delete(format!("{os}/{index}")).basic_auth(USER, Some(PASSWORD)).send().await;
    }
}
