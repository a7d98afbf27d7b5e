//! Acceptance test of `lfm_collector` with Terraform 1.0.3 and with OpenTofu (one lifecycle per
//! client) and the built provider binary
//! (mTLS, plugin protocol 6) against moto: create, empty second plan, import and verify,
//! update (memory and a rebuilt zip), policies added to the execution role outside Terraform
//! (shown at plan, removed at apply), function deleted outside Terraform -> create, plan-time
//! errors naming the attribute, destroy and check every AWS object is gone.
//!
//! Needs `LFM_MOTO_URL`, Terraform 1.0.3 (`LFM_TERRAFORM`, else the test bed's
//! `$LFM_CACHE/terraform/1.0.3/terraform`) and OpenTofu (`LFM_TOFU`, else the cache); all come
//! with `python -m lfm_testbed up`.

mod common;

use common::{moto_url, stored_zip, Client, Workdir};

impl Workdir {
    /// The planned change of `lfm_collector.this` (from `plan -out` + `show -json`).
    fn planned_change(&self) -> serde_json::Value {
        self.ok(&["plan", "-input=false", "-no-color", "-out=tf.plan"]);
        let shown: serde_json::Value =
            serde_json::from_str(&self.ok(&["show", "-json", "tf.plan"])).unwrap();
        let changes = shown["resource_changes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        changes
            .into_iter()
            .find(|c| c["address"] == "lfm_collector.this")
            .map(|c| c["change"].clone())
            .unwrap_or_default()
    }

    fn assert_empty_plan(&self, when: &str) {
        let plan = self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "plan {when} is empty:\n{}{}",
            String::from_utf8_lossy(&plan.stdout),
            String::from_utf8_lossy(&plan.stderr)
        );
    }
}

/// OpenSearch authentication lines of the resource.
const BASIC_AUTH: &str = "opensearch_username = \"lfm\"\n  opensearch_password = \"s3cret\"";
const SIGV4_AOSS: &str = "opensearch_auth = \"sigv4\"\n  opensearch_sigv4_service = \"aoss\"";

fn config(url: &str, name: &str, package: &str, memory: u32, auth: &str) -> String {
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
    sts    = "{url}"
    iam    = "{url}"
    lambda = "{url}"
    logs   = "{url}"
    events = "{url}"
  }}
}}
resource "lfm_collector" "this" {{
  name                  = "{name}"
  package_path          = "{package}"
  memory_mb             = {memory}
  monitored_account_ids = ["111122223333"]
  regions               = ["us-east-1"]
  opensearch_url        = "https://search.example.com"
  {auth}
  extra_environment     = {{ LFM_SETTLE = "2m" }}
}}
output "function_arn" {{ value = lfm_collector.this.function_arn }}
"#
    )
}

#[tokio::test]
async fn collector_with_terraform_1_0_3() {
    lifecycle(Client::Terraform).await;
}

#[tokio::test]
async fn collector_with_opentofu() {
    lifecycle(Client::OpenTofu).await;
}

async fn lifecycle(client: Client) {
    let url = moto_url();
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&url)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let (lambda, events, iam) = (
        aws_sdk_lambda::Client::new(&aws),
        aws_sdk_eventbridge::Client::new(&aws),
        aws_sdk_iam::Client::new(&aws),
    );
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let name = format!("lfm-tfc-{}-{nanos}", client.name());
    let w = Workdir::with_client("collector", client);
    let zip = w.dir.join("collector.zip");
    let package = zip.to_str().unwrap().to_owned();
    std::fs::write(&zip, stored_zip("bootstrap", b"#!/bin/sh\necho v1\n")).unwrap();

    // Create, then the second plan is empty.
    w.write("main.tf", &config(&url, &name, &package, 256, BASIC_AUTH));
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    let c = lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(c.memory_size(), Some(256));
    assert_eq!(
        c.environment().unwrap().variables().unwrap()["LFM_SETTLE"],
        "2m"
    );
    let arn: String = serde_json::from_str(&w.ok(&["output", "-json", "function_arn"])).unwrap();
    assert_eq!(Some(arn.as_str()), c.function_arn());
    w.assert_empty_plan("after create");

    // Import by function name: the same object; only package_path (not readable from Lambda)
    // is set by the next apply, in place, after which the plan is empty again.
    w.ok(&["state", "rm", "lfm_collector.this"]);
    w.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "lfm_collector.this",
        &name,
    ]);
    let change = w.planned_change();
    assert_eq!(change["actions"], serde_json::json!(["update"]), "{change}");
    assert!(change["before"]["package_path"].is_null());
    for attr in [
        "memory_mb",
        "package_sha256",
        "monitored_account_ids",
        "regions",
        "opensearch_url",
        "extra_environment",
        "schedule_expression",
        "function_arn",
        "policy_json",
    ] {
        assert_eq!(
            change["before"][attr], change["after"][attr],
            "{attr} after import"
        );
    }
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    w.assert_empty_plan("after import");

    // Update: more memory, a rebuilt zip and IAM auth for OpenSearch Serverless, in place.
    std::fs::write(&zip, stored_zip("bootstrap", b"#!/bin/sh\necho v2\n")).unwrap();
    w.write("main.tf", &config(&url, &name, &package, 512, SIGV4_AOSS));
    let change = w.planned_change();
    assert_eq!(change["actions"], serde_json::json!(["update"]), "{change}");
    assert_ne!(
        change["before"]["package_sha256"],
        change["after"]["package_sha256"]
    );
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    let c = lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(c.memory_size(), Some(512));
    let env = c.environment().unwrap().variables().unwrap();
    assert_eq!(env["LFM_OPENSEARCH_AUTH"], "sigv4");
    assert_eq!(env["LFM_OPENSEARCH_SIGV4_SERVICE"], "aoss");
    assert!(
        !env.contains_key("LFM_OPENSEARCH_USER") && !env.contains_key("LFM_OPENSEARCH_PASSWORD"),
        "{env:?}"
    );
    assert_eq!(
        c.code_sha256(),
        Some(
            terraform_provider_lfm::lfm::resources::collector::package::package_sha256(&stored_zip(
                "bootstrap",
                b"#!/bin/sh\necho v2\n"
            ))
            .as_str()
        )
    );
    w.assert_empty_plan("after update");

    // Permission creep on the execution role outside Terraform: the plan shows it (exit code
    // 2, naming the policies), apply removes it, the next plan is empty.
    iam.put_role_policy()
        .role_name(&name)
        .policy_name("s3-all")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    iam.attach_role_policy().role_name(&name).policy_arn(admin).send().await.unwrap();
    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "plan shows the drift:\n{text}");
    assert!(text.contains("extra_inline_policy_names") && text.contains("\"s3-all\""), "{text}");
    assert!(text.contains("extra_attached_policy_arns") && text.contains(admin), "{text}");
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    let inline = iam.list_role_policies().role_name(&name).send().await.unwrap();
    assert_eq!(inline.policy_names(), ["LfmCollectorPolicy"]);
    let attached = iam.list_attached_role_policies().role_name(&name).send().await.unwrap();
    assert!(attached.attached_policies().is_empty(), "{attached:?}");
    w.assert_empty_plan("after removing the policies added outside Terraform");

    // Deleted outside Terraform: the plan creates it again.
    lambda
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let change = w.planned_change();
    assert_eq!(change["actions"], serde_json::json!(["create"]), "{change}");
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    assert!(lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .is_ok());
    w.assert_empty_plan("after recreate");

    // Invalid input: plan-time errors that name the attribute and the file line.
    w.write(
        "bad.tf",
        &format!(
            "resource \"lfm_collector\" \"bad\" {{\n  name = \"{name}-bad\"\n  package_path = \"{package}\"\n  monitored_account_ids = [\"111122223333\"]\n  regions = [\"us-east-1\"]\n  opensearch_url = \"https://search.example.com\"\n  schedule_expression = \"every 5 minutes\"\n  extra_environment = {{ AWS_REGION = \"us-east-1\" }}\n  opensearch_auth = \"sigv4\"\n  opensearch_password = \"s3cret\"\n  opensearch_sigv4_service = \"aos\"\n}}\nresource \"lfm_collector\" \"twice\" {{\n  name = \"{name}-twice\"\n  package_path = \"{package}\"\n  monitored_account_ids = [\"111122223333\", \"444455556666\", \"111122223333\"]\n  regions = [\"us-east-1\"]\n  opensearch_url = \"https://search.example.com\"\n  schedule_expression = \"cron(* * * * * *)\"\n}}\n"
        ),
    );
    let bad = w.run(&["plan", "-input=false", "-no-color"]);
    let text = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("extra_environment") && text.contains("AWS_REGION"),
        "{text}"
    );
    assert!(
        text.contains("schedule_expression") && text.contains("rate("),
        "{text}"
    );
    assert!(
        text.contains("Conflicting OpenSearch authentication")
            && text.contains("opensearch_password"),
        "{text}"
    );
    assert!(
        text.contains("opensearch_sigv4_service") && text.contains("\"aoss\""),
        "{text}"
    );
    assert!(text.contains("on bad.tf line"), "{text}");
    // Input EventBridge or the collector would take wrongly: a repeated account, a cron
    // expression without ? in a day field.
    assert!(
        text.contains("Invalid value for \"monitored_account_ids\": must list each account once; \"111122223333\" appears more than once")
            && text.contains("distinct("),
        "{text}"
    );
    assert!(
        text.contains("Invalid value for \"schedule_expression\": must have ? in exactly one of day-of-month")
            && text.contains("eb-scheduled-rule-pattern.html")
            && text.contains("Got \"cron(* * * * * *)\""),
        "{text}"
    );
    w.remove("bad.tf");

    // Destroy: every object gone.
    w.ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
    assert!(lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .is_err());
    assert!(events
        .describe_rule()
        .name(format!("{name}-schedule"))
        .send()
        .await
        .is_err());
    assert!(iam.get_role().role_name(&name).send().await.is_err());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{name}"))
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());
}
