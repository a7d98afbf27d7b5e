//! Acceptance test of `lfm_monitored_account`'s promise that the role may do exactly the
//! collector's read-only calls, with Terraform 1.0.3 and with OpenTofu and the built provider
//! binary against moto: create, then permission creep outside Terraform (an inline `s3:*`
//! policy and `AdministratorAccess` attached), which the plan shows as a change naming both;
//! apply removes them from IAM, and the next plan is empty.
//!
//! Needs `LFM_MOTO_URL`, Terraform 1.0.3 (`LFM_TERRAFORM`, else the test bed's
//! `$LFM_CACHE/terraform/1.0.3/terraform`) and OpenTofu (`LFM_TOFU`, else the cache); all come
//! with `python -m lfm_testbed up` (its moto loads AWS managed policies).

mod common;

use common::{moto_url, Client, Workdir};

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const ROLE: &str = "LambdaMonitoringRole";

async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// A new member account (the organisation created if moto has none yet).
async fn new_member_account(url: &str, name: &str) -> String {
    let orgs = aws_sdk_organizations::Client::new(&sdk_config(url).await);
    if orgs.describe_organization().send().await.is_err() {
        let _ = orgs.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await;
    }
    let out = orgs.create_account().account_name(name).email(format!("{name}@example.com")).send().await.expect("create account");
    out.create_account_status().and_then(|s| s.account_id()).expect("moto creates accounts at once").to_owned()
}

/// An IAM client acting in `account` (for changes "outside Terraform").
async fn member_iam(url: &str, account: &str) -> aws_sdk_iam::Client {
    let base = sdk_config(url).await;
    let creds = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
        .role_session_name("lfm-test")
        .send()
        .await
        .unwrap()
        .credentials()
        .cloned()
        .unwrap();
    let creds = aws_credential_types::Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_owned()),
        None,
        "test",
    );
    aws_sdk_iam::Client::new(&base.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds)).build())
}

#[tokio::test]
async fn permission_creep_with_terraform_1_0_3() {
    permission_creep(Client::Terraform).await;
}

#[tokio::test]
async fn permission_creep_with_opentofu() {
    permission_creep(Client::OpenTofu).await;
}

async fn permission_creep(client: Client) {
    let url = moto_url();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let account = new_member_account(&url, &format!("lfm-tfma-{}-{nanos}", client.name())).await;
    let w = Workdir::with_client("monitored-account", client);
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
resource "lfm_monitored_account" "member" {{
  account_id                = "{account}"
  monitoring_principal_arns = ["arn:aws:iam::123456789012:root"]
}}
"#
        ),
    );
    let plugin_dir = format!("-plugin-dir={}", w.dir.join("mirror").display());
    w.ok(&["init", "-input=false", "-no-color", &plugin_dir]);
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "plan after create is empty:\n{}", String::from_utf8_lossy(&plan.stdout));

    // Permission creep outside Terraform.
    let iam = member_iam(&url, &account).await;
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("s3-all")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy().role_name(ROLE).policy_arn(ADMIN).send().await.unwrap();

    // The plan shows it: a change (exit code 2) naming the policies.
    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "plan shows the drift:\n{text}{}", String::from_utf8_lossy(&plan.stderr));
    assert!(text.contains("lfm_monitored_account.member will be updated in-place"), "{text}");
    assert!(text.contains("extra_inline_policy_names") && text.contains("\"s3-all\""), "{text}");
    assert!(text.contains("extra_attached_policy_arns") && text.contains(ADMIN), "{text}");

    // Apply removes them from IAM; the role keeps its own policy; the next plan is empty.
    w.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    let inline = iam.list_role_policies().role_name(ROLE).send().await.unwrap();
    assert_eq!(inline.policy_names(), ["LambdaMonitoringPolicy"]);
    let attached = iam.list_attached_role_policies().role_name(ROLE).send().await.unwrap();
    assert!(attached.attached_policies().is_empty(), "{attached:?}");
    let plan = w.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "plan after apply is empty:\n{}", String::from_utf8_lossy(&plan.stdout));

    w.ok(&["destroy", "-input=false", "-no-color", "-auto-approve"]);
    assert!(iam.get_role().role_name(ROLE).send().await.is_err(), "role deleted");
}
