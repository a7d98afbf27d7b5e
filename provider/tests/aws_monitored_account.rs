//! `lfm_monitored_account` against the moto server of the test bed: the resource's CRUD and
//! import functions driven directly, as the protocol layer would, on a fresh member account.
//!
//! Needs `LFM_MOTO_URL` (exported by the project's test command; by hand:
//! `python -m lfm_testbed up` and take `moto.url` from `$LFM_CACHE/run/testbed.json`).
//! The test bed's STS layer (testbed/lfm_testbed/motoext/sts_assume_role.py) evaluates trust
//! policies (principals, sts:ExternalId, aws:PrincipalOrgID) as AWS documents them; the
//! documents themselves are also unit-tested.

mod common;

use common::moto_url;

use terraform_provider_lfm::framework::{Provider, Resource, Value};
use terraform_provider_lfm::lfm::resources::monitored_account::MonitoredAccount;
use terraform_provider_lfm::lfm::{LfmContext, LfmProvider};

const COLLECTOR: &str = "arn:aws:iam::123456789012:role/lfm-collector";

fn use_test_credentials() {
    for (k, v) in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");
}

async fn configure(url: &str) -> LfmContext {
    let endpoints = Value::object(
        ["sts", "iam", "organizations", "lambda", "cloudwatch", "logs", "events", "opensearch"].map(|s| (s, Value::string(url))),
    );
    let config = Value::object([("region", Value::Null), ("assume_role", Value::Null), ("endpoints", endpoints)]);
    LfmProvider.configure(&config).await.expect("provider configures")
}

async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .load()
        .await
}

/// The organisation (created if moto has none yet) and a new member account in it.
async fn new_member_account(url: &str) -> (String, String) {
    let orgs = aws_sdk_organizations::Client::new(&sdk_config(url).await);
    let describe = || async { orgs.describe_organization().send().await.ok()?.organization()?.id().map(str::to_owned) };
    let org_id = match describe().await {
        Some(id) => id,
        None => {
            // Another test may create it at the same moment: either way, describe again.
            let _ = orgs.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await;
            describe().await.expect("moto has an organisation")
        }
    };
    let suffix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let status = orgs
        .create_account()
        .account_name(format!("lfm-provider-test-{suffix}"))
        .email(format!("lfm-provider-test-{suffix}@example.com"))
        .send()
        .await
        .expect("create account");
    let account = status.create_account_status().and_then(|s| s.account_id()).expect("moto creates accounts at once").to_owned();
    (org_id, account)
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
    aws_sdk_iam::Client::new(
        &base.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds)).build(),
    )
}

/// What Terraform would plan from this configuration (defaults applied, computed unknown).
fn config_plan(account: &str, role_name: Option<&str>) -> Value {
    Value::object([
        ("id", Value::Unknown),
        ("account_id", Value::string(account)),
        ("role_name", Value::string(role_name.unwrap_or("LambdaMonitoringRole"))),
        ("bootstrap_role_name", Value::string("OrganizationAccountAccessRole")),
        ("monitoring_principal_arns", Value::string_list([COLLECTOR])),
        ("organization_id", Value::Null),
        ("external_id", Value::string("lfm-ext-1")),
        ("role_arn", Value::Unknown),
        ("trust_policy_json", Value::Unknown),
        ("permissions_policy_json", Value::Unknown),
        ("extra_inline_policy_names", Value::Unknown),
        ("extra_attached_policy_arns", Value::Unknown),
        // Defaults as Terraform plans them.
        ("propagation_timeout_s", Value::Number(120.0)),
    ])
}

#[tokio::test]
async fn monitored_account_lifecycle_against_moto() {
    let url = moto_url();
    use_test_credentials();
    let ctx = configure(&url).await;
    let (org_id, account) = new_member_account(&url).await;
    let r = MonitoredAccount;
    let role_arn = format!("arn:aws:iam::{account}:role/LambdaMonitoringRole");

    // Plan on create: organisation looked up, documents and ARN known before apply.
    let planned = r.modify_plan(&ctx, None, config_plan(&account, None)).await.unwrap();
    assert_eq!(planned.get("organization_id").as_str(), Some(org_id.as_str()));
    assert_eq!(planned.get("role_arn").as_str(), Some(role_arn.as_str()));
    assert!(planned.get("trust_policy_json").as_str().unwrap().contains(&org_id));
    assert!(!planned.contains_unknown(), "{planned:?}");

    // Create, then read gives the same state.
    let state = r.create(&ctx, &planned).await.unwrap();
    assert_eq!(state, planned, "create returns the plan");
    let read = r.read(&ctx, &state).await.unwrap().expect("role exists");
    assert_eq!(read, state);
    let replan = r.modify_plan(&ctx, Some(&read), read.clone()).await.unwrap();
    assert_eq!(replan, read, "plan after create is empty");

    // Creating it again says how to import.
    let err = r.create(&ctx, &planned).await.unwrap_err();
    assert!(err.0[0].detail.contains(&format!("terraform import <address> {account}/LambdaMonitoringRole")), "{err:?}");

    // Edited outside Terraform: read shows it, the plan reverts it, update applies it.
    let iam = member_iam(&url, &account).await;
    let foreign = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#;
    iam.update_assume_role_policy().role_name("LambdaMonitoringRole").policy_document(foreign).send().await.unwrap();
    iam.delete_role_policy().role_name("LambdaMonitoringRole").policy_name("LambdaMonitoringPolicy").send().await.unwrap();
    // Permission creep: more inline policies and an attached managed policy.
    iam.put_role_policy()
        .role_name("LambdaMonitoringRole")
        .policy_name("s3-all")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy().role_name("LambdaMonitoringRole").policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.unwrap();
    let drifted = r.read(&ctx, &state).await.unwrap().unwrap();
    assert!(drifted.get("trust_policy_json").as_str().unwrap().contains("999999999999"));
    assert!(drifted.get("permissions_policy_json").is_null());
    assert_eq!(drifted.get("extra_inline_policy_names").strings(), ["s3-all"]);
    assert_eq!(drifted.get("extra_attached_policy_arns").strings(), ["arn:aws:iam::aws:policy/AdministratorAccess"]);
    let plan = r.modify_plan(&ctx, Some(&drifted), drifted.clone()).await.unwrap();
    assert_eq!(plan.get("trust_policy_json"), state.get("trust_policy_json"));
    assert_eq!(plan.get("permissions_policy_json"), state.get("permissions_policy_json"));
    let updated = r.update(&ctx, &drifted, &plan).await.unwrap();
    assert_eq!(updated, plan);
    assert_eq!(r.read(&ctx, &updated).await.unwrap().unwrap(), state, "AWS back to the configuration");
    let inline = iam.list_role_policies().role_name("LambdaMonitoringRole").send().await.unwrap();
    assert_eq!(inline.policy_names(), ["LambdaMonitoringPolicy"]);
    let attached = iam.list_attached_role_policies().role_name("LambdaMonitoringRole").send().await.unwrap();
    assert!(attached.attached_policies().is_empty(), "{attached:?}");

    // Changing an input (external ID) updates the trust policy in place.
    let mut changed = state.clone();
    changed.set("external_id", Value::string("lfm-ext-2"));
    let plan = r.modify_plan(&ctx, Some(&state), changed).await.unwrap();
    assert!(!plan.get("trust_policy_json").as_str().unwrap().contains("lfm-ext"), "external ID hidden in the plan");
    let updated = r.update(&ctx, &state, &plan).await.unwrap();
    let read = r.read(&ctx, &updated).await.unwrap().unwrap();
    assert_eq!(read, updated);
    let in_iam = iam.get_role().role_name("LambdaMonitoringRole").send().await.unwrap();
    let in_iam = in_iam.role().and_then(|r| r.assume_role_policy_document()).unwrap_or_default();
    assert!(terraform_provider_lfm::lfm::aws::iam::url_decode(in_iam).contains("lfm-ext-2"), "IAM got the new external ID: {in_iam}");

    // Delete; then it is gone, and deleting again is fine.
    r.delete(&ctx, &read).await.unwrap();
    assert_eq!(r.read(&ctx, &read).await.unwrap(), None);
    r.delete(&ctx, &read).await.unwrap();

    // Import by ACCOUNT_ID (default role name) and by ACCOUNT_ID/ROLE_NAME.
    for (import_id, role_name) in [(account.clone(), "LambdaMonitoringRole"), (format!("{account}/LfmCustomRole"), "LfmCustomRole")] {
        let planned = r.modify_plan(&ctx, None, config_plan(&account, Some(role_name))).await.unwrap();
        let created = r.create(&ctx, &planned).await.unwrap();
        let imported = r.import(&ctx, &import_id).await.unwrap();
        let imported = r.read(&ctx, &imported).await.unwrap().expect("imported role exists");
        assert_eq!(imported, created, "import of {import_id} reproduces the state");
        let plan = r.modify_plan(&ctx, Some(&imported), imported.clone()).await.unwrap();
        assert_eq!(plan, imported, "plan after import of {import_id} is empty");
        r.delete(&ctx, &imported).await.unwrap();
    }
    let err = r.import(&ctx, "not-an-account").await.unwrap_err();
    assert!(err.0[0].detail.contains("ACCOUNT_ID/ROLE_NAME"));
}

#[tokio::test]
async fn delete_removes_extra_policies_attached_outside_terraform() {
    let url = moto_url();
    use_test_credentials();
    let ctx = configure(&url).await;
    let (_, account) = new_member_account(&url).await;
    let r = MonitoredAccount;
    let planned = r.modify_plan(&ctx, None, config_plan(&account, None)).await.unwrap();
    let state = r.create(&ctx, &planned).await.unwrap();
    let iam = member_iam(&url, &account).await;
    iam.attach_role_policy()
        .role_name("LambdaMonitoringRole")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .expect("attach a managed policy (moto needs MOTO_IAM_LOAD_MANAGED_POLICIES=true)");
    iam.put_role_policy()
        .role_name("LambdaMonitoringRole")
        .policy_name("ExtraInline")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    r.delete(&ctx, &state).await.unwrap();
    assert_eq!(r.read(&ctx, &state).await.unwrap(), None);
}

#[tokio::test]
async fn provider_assume_role_block_is_used_for_every_call() {
    let url = moto_url();
    use_test_credentials();
    let (_, account) = new_member_account(&url).await;
    let endpoints = Value::object([("sts", Value::string(&url)), ("iam", Value::string(&url)), ("organizations", Value::string(&url))]);
    let assume_role = Value::object([
        ("role_arn", Value::string(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))),
        ("session_name", Value::string("lfm-provider-test")),
        ("external_id", Value::Null),
    ]);
    let config = Value::object([("region", Value::string("us-east-1")), ("assume_role", assume_role), ("endpoints", endpoints)]);
    let ctx = LfmProvider.configure(&config).await.unwrap();
    let me = ctx.aws().unwrap().sts().get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(account.as_str()), "calls run as the assumed role");
    assert!(me.arn().unwrap().contains("lfm-provider-test"), "{:?}", me.arn());
}
