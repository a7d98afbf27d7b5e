//! Acceptance test of `lfm_dashboard_bundle` with Terraform 1.0.3 and with OpenTofu (one
//! lifecycle, run by each client) and the built provider binary, against the test bed's real OpenSearch and the recording Dashboards server:
//! create, empty second plan, import and verify, update, a template deleted outside Terraform
//! (plan updates, apply restores), destroy (templates and saved objects gone), and plan-time
//! errors naming the attribute.
//!
//! Needs `LFM_OPENSEARCH_URL`, `LFM_PY` (test bed venv), Terraform 1.0.3 (`LFM_TERRAFORM`,
//! else `$LFM_CACHE/terraform/1.0.3/terraform`) and OpenTofu (`LFM_TOFU`, else the cache): `python -m lfm_testbed up`, then
//! `eval "$(python -m lfm_testbed env)"`.

mod common;

use common::{opensearch_url, Client, Recorder, Workdir};
use serde_json::Value as Json;

const USER: &str = "lfm-admin";
const PASSWORD: &str = "not-a-real-secret";

impl Workdir {
    /// The bundle's attributes in state.
    fn state(&self) -> Json {
        let show: Json = serde_json::from_str(&self.ok(&["show", "-json"])).unwrap();
        let resources = show["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["type"] == "lfm_dashboard_bundle")
            .map(|r| r["values"].clone())
            .unwrap_or(Json::Null)
    }

    /// Actions `terraform plan` would take on the bundle (`[]` = nothing to do).
    fn planned_actions(&self) -> Vec<String> {
        self.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        let plan: Json = serde_json::from_str(&self.ok(&["show", "-json", "tfplan"])).unwrap();
        plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["type"] == "lfm_dashboard_bundle")
            .flat_map(|c| {
                c["change"]["actions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|a| a.as_str().map(str::to_owned))
            .filter(|a| a != "no-op")
            .collect()
    }
}


fn main_tf(os: &str, dashboards: &str, prefix: &str, retention_days: u32) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    lfm = {{ source = "lfm/lfm", version = "0.1.0" }}
  }}
}}
provider "lfm" {{
  region = "us-east-1"
}}
variable "password" {{
  type      = string
  sensitive = true
  default   = "{PASSWORD}"
}}
resource "lfm_dashboard_bundle" "main" {{
  opensearch_url = "{os}"
  dashboards_url = "{dashboards}"
  index_prefix   = "{prefix}"
  retention_days = {retention_days}
  username       = "{USER}"
  password       = var.password
}}
output "retention_mode" {{ value = lfm_dashboard_bundle.main.retention_mode }}
"#
    )
}

async fn status(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .status()
        .as_u16()
}

#[tokio::test]
async fn dashboard_bundle_with_terraform_1_0_3() {
    lifecycle(Client::Terraform).await;
}

#[tokio::test]
async fn dashboard_bundle_with_opentofu() {
    lifecycle(Client::OpenTofu).await;
}

/// Create, empty second plan, import and verify, update, drift restored, plan-time errors,
/// destroy and check destroyed: with one client.
async fn lifecycle(client: Client) {
    let os = opensearch_url();
    let recorder = Recorder::start(USER, PASSWORD);
    let http = reqwest::Client::new();
    let prefix = format!("lfm{}bundle{}", client.name(), std::process::id());
    let templates: Vec<String> = lfm_schema::documents::index_templates(&prefix)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let objects: Vec<String> = lfm_schema::dashboards::bundle(&prefix)
        .objects
        .iter()
        .map(|o| o.key())
        .collect();

    let w = Workdir::with_client("dashboard-bundle", client);
    w.write("main.tf", &main_tf(&os, &recorder.url, &prefix, 7));
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);

    // Create.
    let applied = w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    assert!(!applied.contains(PASSWORD), "the password is never shown");
    let state = w.state();
    assert_eq!(state["retention_mode"], "collector", "{state}");
    assert_eq!(
        state["saved_object_ids"].as_array().unwrap().len(),
        objects.len()
    );
    for t in &templates {
        assert_eq!(
            status(&http, &format!("{os}/_index_template/{t}")).await,
            200,
            "{t}"
        );
    }
    for o in &objects {
        assert_eq!(
            status(&http, &format!("{}/api/saved_objects/{o}", recorder.url)).await,
            200,
            "{o}"
        );
    }

    // Second plan: empty.
    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "plan after apply is empty:\n{}",
        String::from_utf8_lossy(&plan.stdout)
    );

    // Import (credentials from the environment, as import.sh documents) and verify.
    w.ok(&["state", "rm", "lfm_dashboard_bundle.main"]);
    let import_id = format!("{os}|{prefix}|{}", recorder.url);
    w.ok_env(
        &[
            "import",
            "-input=false",
            "-no-color",
            "lfm_dashboard_bundle.main",
            &import_id,
        ],
        &[
            ("LFM_OPENSEARCH_USERNAME", USER),
            ("LFM_OPENSEARCH_PASSWORD", PASSWORD),
        ],
    );
    let imported = w.state();
    for attr in [
        "id",
        "template_hashes",
        "template_names",
        "saved_object_ids",
        "saved_objects_hash",
        "bundle_version",
    ] {
        assert_eq!(imported[attr], state[attr], "{attr} after import");
    }
    // The first apply after import refreshes the imported state, which has no auth block yet.
    w.ok_env(
        &["apply", "-input=false", "-no-color", "-auto-approve"],
        &[
            ("LFM_OPENSEARCH_USERNAME", USER),
            ("LFM_OPENSEARCH_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(
        w.planned_actions(),
        Vec::<String>::new(),
        "converged after import"
    );

    // Update: retention_days.
    w.write("main.tf", &main_tf(&os, &recorder.url, &prefix, 14));
    assert_eq!(w.planned_actions(), ["update"]);
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    assert_eq!(w.state()["retention_days"], 14);
    assert_eq!(w.planned_actions(), Vec::<String>::new());

    // A template deleted outside Terraform: planned as an update, restored by apply.
    let metrics = format!("{os}/_index_template/{prefix}-metrics");
    assert_eq!(
        http.delete(&metrics)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(w.planned_actions(), ["update"]);
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    assert_eq!(status(&http, &metrics).await, 200, "restored");
    assert_eq!(w.planned_actions(), Vec::<String>::new());

    // Invalid input: plan-time errors naming the attribute.
    w.write(
        "main.tf",
        &main_tf(&os, &recorder.url, &prefix, 0)
            .replace(&format!("\"{os}\""), "\"opensearch.example.com\""),
    );
    let bad = w.run(&["plan", "-input=false", "-no-color"]);
    let text = String::from_utf8_lossy(&bad.stderr).to_string();
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Invalid value for \"retention_days\""),
        "{text}"
    );
    assert!(
        text.contains("Invalid value for \"opensearch_url\": must be an http:// or https:// URL"),
        "{text}"
    );
    w.write("main.tf", &main_tf(&os, &recorder.url, &prefix, 14));

    // Destroy: templates and saved objects gone.
    w.ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
    for t in &templates {
        assert_eq!(
            status(&http, &format!("{os}/_index_template/{t}")).await,
            404,
            "{t} removed"
        );
    }
    for o in &objects {
        assert_eq!(
            status(&http, &format!("{}/api/saved_objects/{o}", recorder.url)).await,
            404,
            "{o} removed"
        );
    }
}
