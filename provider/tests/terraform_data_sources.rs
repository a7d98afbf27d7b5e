//! Acceptance test of the data sources with Terraform 1.0.3 and with OpenTofu (the same steps
//! run by each client) and the built provider binary
//! (mTLS, plugin protocol 6) against the test bed's moto: `for_each` over
//! `lfm_organization_accounts.ids`, the `accounts` objects, `lfm_permissions_policy`, an
//! empty plan after apply, and a plan-time error naming `name_regex`.
//!
//! Needs `LFM_MOTO_URL`, Terraform 1.0.3 (`LFM_TERRAFORM`, else the test bed's
//! `$LFM_CACHE/terraform/1.0.3/terraform`) and OpenTofu (`LFM_TOFU`, else the cache); all come
//! with `python -m lfm_testbed up`.

mod common;

use common::{moto_url, Client, Workdir};

impl Workdir {
    fn output(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["output", "-json", name])).unwrap()
    }
}


/// The organisation (created if moto has none yet) and new member accounts `{prefix}-{name}`.
async fn accounts(url: &str, prefix: &str, names: &[&str]) -> Vec<String> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let orgs = aws_sdk_organizations::Client::new(&config);
    if orgs.describe_organization().send().await.is_err() {
        let _ = orgs.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await;
    }
    let mut ids = Vec::new();
    for name in names {
        let out = orgs
            .create_account()
            .account_name(format!("{prefix}-{name}"))
            .email(format!("{prefix}-{name}@example.com"))
            .send()
            .await
            .expect("create account");
        ids.push(out.create_account_status().and_then(|s| s.account_id()).unwrap().to_owned());
    }
    ids
}

#[tokio::test]
async fn data_sources_with_terraform_1_0_3() {
    data_sources(Client::Terraform).await;
}

#[tokio::test]
async fn data_sources_with_opentofu() {
    data_sources(Client::OpenTofu).await;
}

async fn data_sources(client: Client) {
    let url = moto_url();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let prefix = format!("lfm-tfds-{}-{nanos}", client.name());
    let ids = accounts(&url, &prefix, &["prod-a", "prod-b", "dev-a"]).await;
    let (prod_a, prod_b, dev_a) = (&ids[0], &ids[1], &ids[2]);

    let w = Workdir::with_client("data-sources", client);
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
  region = "us-east-1"
  endpoints {{
    sts           = "{url}"
    iam           = "{url}"
    organizations = "{url}"
  }}
}}
data "lfm_organization_accounts" "prod" {{
  name_regex  = "^{prefix}-prod-"
  exclude_ids = ["{prod_b}"]
}}
data "lfm_organization_accounts" "mine" {{
  name_regex = "^{prefix}-"
}}
data "lfm_permissions_policy" "collector" {{}}
resource "lfm_monitored_account" "member" {{
  for_each                  = toset(data.lfm_organization_accounts.prod.ids)
  account_id                = each.value
  monitoring_principal_arns = ["arn:aws:iam::123456789012:root"]
}}
output "role_arns" {{ value = {{ for id, a in lfm_monitored_account.member : id => a.role_arn }} }}
output "mine" {{ value = data.lfm_organization_accounts.mine.accounts }}
output "actions" {{ value = data.lfm_permissions_policy.collector.actions }}
"#
        ),
    );
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);

    let roles = w.output("role_arns");
    assert_eq!(roles.as_object().unwrap().keys().collect::<Vec<_>>(), [prod_a], "{roles}");
    let mine = w.output("mine");
    let mut want = vec![prod_a.clone(), prod_b.clone(), dev_a.clone()];
    want.sort();
    let got: Vec<&str> = mine.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(got, want);
    assert_eq!(mine[0]["status"], "ACTIVE");
    assert_eq!(mine[0]["joined_method"], "CREATED");
    let actions: Vec<String> = serde_json::from_value(w.output("actions")).unwrap();
    assert_eq!(actions, lfm_schema::iam::COLLECTOR_ACTIONS);

    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "plan after apply is empty:\n{}", String::from_utf8_lossy(&plan.stdout));

    w.write("bad.tf", "data \"lfm_organization_accounts\" \"bad\" {\n  name_regex = \"prod-(\"\n}\n");
    let bad = w.run(&["plan", "-input=false", "-no-color"]);
    let text = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text.contains("Invalid value for \"name_regex\": must be a valid regular expression"), "{text}");
    assert!(text.contains("on bad.tf line 2"), "{text}");
    w.remove("bad.tf");

    // A principal of another partition than the provider's region (us-east-1: aws).
    w.write(
        "bad.tf",
        "data \"lfm_trust_policy\" \"china\" {\n  monitoring_principal_arns = [\"arn:aws-cn:iam::123456789012:root\"]\n}\n",
    );
    let bad = w.run(&["plan", "-input=false", "-no-color"]);
    let text = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("Principal ARN in partition aws-cn, provider region in aws"), "{text}");
    assert!(text.contains("arn:aws-cn:iam::123456789012:root"), "{text}");
    w.remove("bad.tf");

    w.ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
}
