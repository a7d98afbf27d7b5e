//! The data sources `lfm_organization_accounts` and `lfm_permissions_policy` the way
//! Terraform drives them: the provider's gRPC service in-process (ValidateDataResourceConfig,
//! ConfigureProvider, ReadDataSource with msgpack values) against the test bed's moto.
//!
//! Needs `LFM_MOTO_URL` (see `aws_monitored_account.rs`). moto may hold accounts of other
//! tests: each test creates its own accounts under a unique name prefix and selects them
//! with `name_regex`.

mod common;

use common::moto_url;

use terraform_provider_lfm::framework::{DataSource, Provider as _, Value};
use terraform_provider_lfm::lfm::data_sources::organization_accounts::OrganizationAccounts;
use terraform_provider_lfm::lfm::data_sources::permissions_policy::PermissionsPolicy;
use terraform_provider_lfm::lfm::aws::org;
use terraform_provider_lfm::lfm::LfmProvider;
use terraform_provider_lfm::protocol::codec::{self, CtyType};
use terraform_provider_lfm::protocol::proto::tfplugin6 as pb;
use terraform_provider_lfm::protocol::schema::object_type;
use terraform_provider_lfm::protocol::ProviderService;

use pb::provider_server::Provider as _;
use tonic::Request;

fn use_test_credentials() {
    for (k, v) in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");
}

fn dynamic(value: &Value, ty: &CtyType) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue { msgpack: codec::encode_msgpack(value, ty).unwrap(), json: Vec::new() })
}

/// The provider service after ConfigureProvider with every endpoint at `url`.
async fn configured(url: &str) -> ProviderService<LfmProvider> {
    let svc = ProviderService::new(LfmProvider);
    let endpoints = Value::object(
        ["sts", "iam", "organizations", "lambda", "cloudwatch", "logs", "events", "opensearch"].map(|s| (s, Value::string(url))),
    );
    let config = Value::object([("region", Value::string("us-east-1")), ("assume_role", Value::Null), ("endpoints", endpoints)]);
    let req = pb::configure_provider::Request {
        terraform_version: "1.0.3".into(),
        config: dynamic(&config, &object_type(&LfmProvider.schema().block)),
    };
    let resp = svc.configure_provider(Request::new(req)).await.unwrap().into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    svc
}

/// A configuration of the data source as Terraform sends it: unset arguments null.
fn accounts_config(pairs: &[(&str, Value)]) -> Value {
    let block = OrganizationAccounts.schema().block;
    let mut config = Value::object(block.attributes.iter().map(|a| (a.name.as_str(), Value::Null)));
    for (k, v) in pairs {
        config.set(k, v.clone());
    }
    config
}

async fn validate(svc: &ProviderService<LfmProvider>, config: &Value) -> Vec<pb::Diagnostic> {
    let ty = object_type(&OrganizationAccounts.schema().block);
    let req = pb::validate_data_resource_config::Request { type_name: "lfm_organization_accounts".into(), config: dynamic(config, &ty) };
    svc.validate_data_resource_config(Request::new(req)).await.unwrap().into_inner().diagnostics
}

async fn read<D: DataSource<terraform_provider_lfm::lfm::LfmContext>>(
    svc: &ProviderService<LfmProvider>,
    data_source: &D,
    config: &Value,
) -> Result<Value, Vec<pb::Diagnostic>> {
    let ty = object_type(&data_source.schema().block);
    let req = pb::read_data_source::Request {
        type_name: data_source.type_name().into(),
        config: dynamic(config, &ty),
        provider_meta: None,
    };
    let resp = svc.read_data_source(Request::new(req)).await.unwrap().into_inner();
    if resp.diagnostics.is_empty() {
        Ok(codec::decode_msgpack(&resp.state.unwrap().msgpack, &ty).unwrap())
    } else {
        Err(resp.diagnostics)
    }
}

async fn organizations(url: &str) -> aws_sdk_organizations::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .load()
        .await;
    aws_sdk_organizations::Client::new(&config)
}

/// The organisation (created if moto has none yet), its management account, and new member
/// accounts named `{prefix}-{name}`, in the order of `names`.
async fn organisation_with(url: &str, prefix: &str, names: &[&str]) -> (String, String, Vec<String>) {
    let orgs = organizations(url).await;
    let describe = || async {
        let out = orgs.describe_organization().send().await.ok()?;
        let o = out.organization()?;
        Some((o.id()?.to_owned(), o.master_account_id()?.to_owned()))
    };
    let (org_id, management) = match describe().await {
        Some(found) => found,
        None => {
            // Another test may create it at the same moment: either way, describe again.
            let _ = orgs.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await;
            describe().await.expect("moto has an organisation")
        }
    };
    let mut ids = Vec::new();
    for name in names {
        let status = orgs
            .create_account()
            .account_name(format!("{prefix}-{name}"))
            .email(format!("{prefix}-{name}@example.com"))
            .send()
            .await
            .expect("create account");
        ids.push(status.create_account_status().and_then(|s| s.account_id()).expect("moto creates accounts at once").to_owned());
    }
    (org_id, management, ids)
}

fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("lfm-{test}-{nanos}")
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn organization_accounts_filters_through_the_protocol() {
    let url = moto_url();
    use_test_credentials();
    let prefix = unique_prefix("orgaccts");
    let (org_id, management, ids) = organisation_with(&url, &prefix, &["prod-a", "prod-b", "dev-a", "prod-closed"]).await;
    let (prod_a, prod_b, dev_a, prod_closed) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    organizations(&url).await.close_account().account_id(prod_closed).send().await.expect("close account");
    let svc = configured(&url).await;
    let mine = format!("^{prefix}-");

    // Defaults: ACTIVE members only, sorted ids, accounts in the same order, org facts.
    let all = read(&svc, &OrganizationAccounts, &accounts_config(&[("name_regex", Value::string(&mine))])).await.unwrap();
    let want = sorted(vec![prod_a.clone(), prod_b.clone(), dev_a.clone()]);
    assert_eq!(all.get("ids").strings(), want);
    assert_eq!(all.get("organization_id").as_str(), Some(org_id.as_str()));
    assert_eq!(all.get("id").as_str(), Some(org_id.as_str()));
    assert_eq!(all.get("management_account_id").as_str(), Some(management.as_str()));
    assert_eq!(all.get("status").as_str(), Some("ACTIVE"), "default filled in");
    assert_eq!(all.get("include_management"), &Value::Bool(false), "default filled in");
    let accounts = all.get("accounts").elements();
    assert_eq!(accounts.iter().map(|a| a.get("id").as_str().unwrap().to_owned()).collect::<Vec<_>>(), want);
    let a = accounts.iter().find(|a| a.get("id").as_str() == Some(prod_a.as_str())).unwrap();
    assert_eq!(a.get("name").as_str(), Some(format!("{prefix}-prod-a").as_str()));
    assert_eq!(a.get("email").as_str(), Some(format!("{prefix}-prod-a@example.com").as_str()));
    assert_eq!(a.get("status").as_str(), Some("ACTIVE"));
    assert_eq!(a.get("joined_method").as_str(), Some("CREATED"));
    assert!(a.get("arn").as_str().unwrap().ends_with(&format!("/{prod_a}")), "{a:?}");

    // name_regex + exclude_ids.
    let prod = accounts_config(&[
        ("name_regex", Value::string(format!("^{prefix}-prod-"))),
        ("exclude_ids", Value::Set(vec![Value::string(prod_b)])),
    ]);
    assert_eq!(read(&svc, &OrganizationAccounts, &prod).await.unwrap().get("ids").strings(), std::slice::from_ref(prod_a));

    // status: the closed account is SUSPENDED in moto.
    let suspended = accounts_config(&[("name_regex", Value::string(&mine)), ("status", Value::string("SUSPENDED"))]);
    assert_eq!(read(&svc, &OrganizationAccounts, &suspended).await.unwrap().get("ids").strings(), std::slice::from_ref(prod_closed));

    // The management account only with include_management.
    let everything = read(&svc, &OrganizationAccounts, &accounts_config(&[])).await.unwrap();
    assert!(!everything.get("ids").strings().contains(&management));
    let with_management = read(&svc, &OrganizationAccounts, &accounts_config(&[("include_management", Value::Bool(true))])).await.unwrap();
    assert!(with_management.get("ids").strings().contains(&management));
    assert_eq!(with_management.get("ids").elements().len(), everything.get("ids").elements().len() + 1);
}

#[tokio::test]
async fn invalid_arguments_fail_validation_naming_the_attribute() {
    let url = moto_url();
    use_test_credentials();
    let svc = configured(&url).await;
    let bad = accounts_config(&[
        ("name_regex", Value::string("prod-(")),
        ("status", Value::string("RETIRED")),
        ("exclude_ids", Value::Set(vec![Value::string("not-an-id")])),
    ]);
    let diags = validate(&svc, &bad).await;
    let attribute = |d: &pb::Diagnostic| match &d.attribute.as_ref().unwrap().steps[0].selector {
        Some(pb::attribute_path::step::Selector::AttributeName(name)) => name.clone(),
        other => panic!("{other:?}"),
    };
    let mut named: Vec<String> = diags.iter().map(attribute).collect();
    named.sort();
    assert_eq!(named, ["exclude_ids", "name_regex", "status"], "{diags:?}");
    let regex = diags.iter().find(|d| attribute(d) == "name_regex").unwrap();
    assert_eq!(regex.severity, pb::diagnostic::Severity::Error as i32);
    assert!(regex.summary.starts_with("Invalid value for \"name_regex\": must be a valid regular expression"), "{}", regex.summary);
    assert!(validate(&svc, &accounts_config(&[("name_regex", Value::string("^prod-"))])).await.is_empty());
}

#[tokio::test]
async fn list_accounts_follows_every_page() {
    let url = moto_url();
    use_test_credentials();
    let prefix = unique_prefix("pages");
    let (_, _, ids) = organisation_with(&url, &prefix, &["a", "b", "c"]).await;
    let svc = configured(&url).await;
    let everything = read(&svc, &OrganizationAccounts, &accounts_config(&[])).await.unwrap();
    // Pages of 2 give the same accounts as the API's default page size.
    let ctx = terraform_provider_lfm::lfm::LfmProvider
        .configure(&Value::object([
            ("region", Value::string("us-east-1")),
            ("assume_role", Value::Null),
            ("endpoints", Value::object([("organizations", Value::string(&url))])),
        ]))
        .await
        .unwrap();
    let paged = org::list_accounts(ctx.aws().unwrap(), Some(2)).await.unwrap();
    assert!(paged.len() >= 4, "3 new accounts and the management account");
    for id in &ids {
        assert!(paged.iter().any(|a| &a.id == id), "{id} on some page");
    }
    let active_members: Vec<String> = sorted(
        paged
            .iter()
            .filter(|a| a.status == "ACTIVE" && Some(a.id.as_str()) != everything.get("management_account_id").as_str())
            .map(|a| a.id.clone())
            .collect(),
    );
    // Other tests may add accounts between the two reads: ours are in both.
    for id in &ids {
        assert!(active_members.contains(id) && everything.get("ids").strings().contains(id));
    }
}

#[tokio::test]
async fn permissions_policy_needs_no_aws() {
    // A provider whose endpoints lead nowhere: the data source still reads.
    use_test_credentials();
    let svc = configured("http://127.0.0.1:9").await;
    let config = Value::object([("id", Value::Null), ("policy_name", Value::Null), ("actions", Value::Null), ("json", Value::Null)]);
    let out = read(&svc, &PermissionsPolicy, &config).await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(out.get("json").as_str().unwrap()).unwrap();
    assert_eq!(doc, lfm_schema::iam::permissions_policy());
    assert_eq!(out.get("actions").strings(), lfm_schema::iam::COLLECTOR_ACTIONS);
}
