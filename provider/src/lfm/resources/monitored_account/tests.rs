//! Unit tests of the pure part of `lfm_monitored_account` (the AWS part is tested against
//! moto in `provider/tests/aws_monitored_account.rs`).

use super::model::*;
use super::MonitoredAccount;
use crate::lfm::validators::{at_least_one_principal, EXTERNAL_ID};
use crate::framework::{Provider, Resource, Validator, Value};
use crate::lfm::aws::iam::RoleState;
use lfm_schema::iam::{permissions_policy, policies_equivalent, trust_policy};

const COLLECTOR: &str = "arn:aws:iam::123456789012:role/lfm-collector";
const ORG: &str = "o-abc123defg";

fn planned_on_create() -> Value {
    Value::object([
        ("id", Value::Unknown),
        ("account_id", Value::string("111122223333")),
        ("role_name", Value::string("LambdaMonitoringRole")),
        ("bootstrap_role_name", Value::string("OrganizationAccountAccessRole")),
        ("monitoring_principal_arns", Value::string_list([COLLECTOR])),
        ("organization_id", Value::string(ORG)),
        ("external_id", Value::Null),
        ("role_arn", Value::Unknown),
        ("trust_policy_json", Value::Unknown),
        ("permissions_policy_json", Value::Unknown),
        ("extra_inline_policy_names", Value::Unknown),
        ("extra_attached_policy_arns", Value::Unknown),
        ("propagation_timeout_s", Value::Number(120.0)),
    ])
}

#[test]
fn import_ids_in_both_formats() {
    assert_eq!(parse_import_id("111122223333").unwrap(), ("111122223333".into(), "LambdaMonitoringRole".into()));
    assert_eq!(parse_import_id("111122223333/Custom.Role-1").unwrap(), ("111122223333".into(), "Custom.Role-1".into()));
}

#[test]
fn malformed_import_ids_say_the_accepted_formats() {
    for bad in ["", "1111", "11112222333a", "111122223333/", "111122223333/a/b", "111122223333/bad name", "role/111122223333"] {
        let err = parse_import_id(bad).unwrap_err();
        assert!(err.0[0].detail.contains("ACCOUNT_ID/ROLE_NAME"), "{bad}: {:?}", err);
    }
}

#[test]
fn import_state_has_every_attribute() {
    let s = import_state("111122223333", "R");
    for a in ATTRIBUTES {
        assert!(matches!(&s, Value::Object(m) if m.contains_key(*a)), "{a}");
    }
    assert_eq!(s.get("id").as_str(), Some("111122223333/R"));
    assert_eq!(s.get("bootstrap_role_name").as_str(), Some("OrganizationAccountAccessRole"));
}

#[test]
fn create_plan_knows_documents_arn_and_id() {
    let p = plan(planned_on_create(), None, None, Some("aws"));
    let trust = p.get("trust_policy_json").as_str().unwrap();
    assert!(policies_equivalent(trust, &trust_policy(&[COLLECTOR.into()], Some(ORG), None).to_string()));
    assert!(policies_equivalent(p.get("permissions_policy_json").as_str().unwrap(), &permissions_policy().to_string()));
    assert_eq!(p.get("role_arn").as_str(), Some("arn:aws:iam::111122223333:role/LambdaMonitoringRole"));
    assert_eq!(p.get("id").as_str(), Some("111122223333/LambdaMonitoringRole"));
}

#[test]
fn govcloud_partition_in_role_arn() {
    let p = plan(planned_on_create(), None, None, Some("aws-us-gov"));
    assert_eq!(p.get("role_arn").as_str(), Some("arn:aws-us-gov:iam::111122223333:role/LambdaMonitoringRole"));
}

#[test]
fn unknown_inputs_leave_the_trust_policy_unknown() {
    let mut planned = planned_on_create();
    planned.set("external_id", Value::Unknown);
    let p = plan(planned, None, None, None);
    assert!(p.get("trust_policy_json").is_unknown());
    assert!(p.get("role_arn").is_unknown());
    assert_eq!(p.get("id").as_str(), Some("111122223333/LambdaMonitoringRole"));
    let mut planned = planned_on_create();
    planned.set("monitoring_principal_arns", Value::List(vec![Value::Unknown]));
    assert!(plan(planned, None, None, None).get("trust_policy_json").is_unknown());
}

#[test]
fn missing_organization_id_is_looked_up_or_unknown() {
    let mut planned = planned_on_create();
    planned.set("organization_id", Value::Null);
    let p = plan(planned.clone(), None, Some("o-zzzzzzzzzz".into()), Some("aws"));
    assert_eq!(p.get("organization_id").as_str(), Some("o-zzzzzzzzzz"));
    assert!(p.get("trust_policy_json").as_str().unwrap().contains("o-zzzzzzzzzz"));
    let p = plan(planned, None, None, None);
    assert!(p.get("organization_id").is_unknown());
    assert!(p.get("trust_policy_json").is_unknown());
}

#[test]
fn unchanged_plan_keeps_the_stored_text_and_drift_becomes_a_change() {
    let state = plan(planned_on_create(), None, None, Some("aws"));
    // IAM's formatting of the same document: no change.
    let reformatted = format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Sid": "LfmCollectorAssumeRole", "Action": ["sts:AssumeRole"], "Principal": {{"AWS": "{COLLECTOR}"}}, "Condition": {{"StringEquals": {{"aws:PrincipalOrgID": "{ORG}"}}}}}}}}"#
    );
    let mut prior = state.clone();
    prior.set("trust_policy_json", Value::string(&reformatted));
    let p = plan(prior.clone(), Some(&prior), None, None);
    assert_eq!(p.get("trust_policy_json").as_str(), Some(reformatted.as_str()));
    assert_eq!(p.get("role_arn"), state.get("role_arn"), "role_arn kept from state without a partition");
    // Edited outside Terraform: the plan goes back to the desired document.
    let edited = trust_policy(&["arn:aws:iam::999999999999:root".into()], None, None).to_string();
    let mut drifted = state.clone();
    drifted.set("trust_policy_json", Value::string(&edited));
    let p = plan(drifted.clone(), Some(&drifted), None, Some("aws"));
    assert_eq!(p.get("trust_policy_json"), state.get("trust_policy_json"));
    assert_ne!(p.get("trust_policy_json").as_str(), Some(edited.as_str()));
}

#[test]
fn refreshed_state_keeps_equivalent_text_and_takes_iam_drift() {
    let state = plan(planned_on_create(), None, None, Some("aws"));
    let key = RoleKey::from_value(&state).unwrap();
    let stored_trust = state.get("trust_policy_json").as_str().unwrap().to_owned();
    let same = RoleState {
        arn: "arn:aws:iam::111122223333:role/LambdaMonitoringRole".into(),
        trust_policy: serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&stored_trust).unwrap()).unwrap(),
        permissions_policy: Some(permissions_policy().to_string()),
        extra: Default::default(),
    };
    assert_eq!(refreshed_state(&state, &key, &same), state);
    let drift = RoleState { trust_policy: trust_policy(&[COLLECTOR.into()], None, None).to_string(), permissions_policy: None, ..same };
    let r = refreshed_state(&state, &key, &drift);
    assert_eq!(r.get("trust_policy_json").as_str(), Some(drift.trust_policy.as_str()));
    assert!(r.get("permissions_policy_json").is_null());
}

#[test]
fn refresh_after_import_takes_inputs_from_the_trust_policy() {
    let imported = import_state("111122223333", "LambdaMonitoringRole");
    let key = RoleKey::from_value(&imported).unwrap();
    let role = RoleState {
        arn: "arn:aws:iam::111122223333:role/LambdaMonitoringRole".into(),
        trust_policy: trust_policy(&[COLLECTOR.into()], Some(ORG), Some("ext-123")).to_string(),
        permissions_policy: Some(permissions_policy().to_string()),
        extra: Default::default(),
    };
    let r = refreshed_state(&imported, &key, &role);
    assert_eq!(r.get("monitoring_principal_arns").strings(), vec![COLLECTOR.to_owned()]);
    assert_eq!(r.get("organization_id").as_str(), Some(ORG));
    assert_eq!(r.get("external_id").as_str(), Some("ext-123"));
    assert_eq!(r.get("role_arn").as_str(), Some(role.arn.as_str()));
}

#[test]
fn trust_inputs_accept_single_values() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":["x1"]}}}}"#;
    let t = trust_inputs(doc);
    assert_eq!(t, TrustInputs { principals: vec!["arn:aws:iam::1:root".into()], organization_id: None, external_id: Some("x1".into()) });
    assert_eq!(trust_inputs("garbage"), TrustInputs::default());
}

#[test]
fn schema_lists_the_state_attributes_and_principals_need_one() {
    let schema = MonitoredAccount.schema();
    let names: Vec<_> = schema.block.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ATTRIBUTES);
    let sensitive: Vec<_> = schema.block.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.as_str()).collect();
    assert_eq!(sensitive, ["external_id"]);
    assert!(at_least_one_principal(&Value::List(vec![])).is_err());
    assert!(at_least_one_principal(&Value::string_list([COLLECTOR])).is_ok());
}

#[test]
fn external_id_check() {
    let Validator::Custom(check) = EXTERNAL_ID else { panic!() };
    assert!(check(&Value::string("lfm-ext_1:a/b@c=d")).is_ok());
    assert!(check(&Value::string("x")).is_err());
    assert!(check(&Value::string("has space")).is_err());
    assert!(check(&Value::string("a".repeat(1225))).is_err());
}

/// Every regex validator of the provider compiles the way the protocol layer compiles it
/// (a panic there would only show when Terraform validates a configuration).
#[test]
fn regex_validators_compile() {
    fn walk(block: &crate::framework::Block, out: &mut Vec<&'static str>) {
        for attr in &block.attributes {
            for v in &attr.validators {
                let mut v = v;
                while let Validator::Each(inner) = v {
                    v = inner;
                }
                if let Validator::Regex { pattern, .. } = v {
                    out.push(pattern);
                }
            }
        }
        for nested in &block.blocks {
            walk(&nested.block, out);
        }
    }
    let provider = crate::lfm::LfmProvider;
    let mut patterns = Vec::new();
    walk(&provider.schema().block, &mut patterns);
    for r in provider.resources() {
        walk(&r.schema().block, &mut patterns);
    }
    for d in provider.data_sources() {
        walk(&d.schema().block, &mut patterns);
    }
    assert!(!patterns.is_empty());
    for p in patterns {
        regex::Regex::new(&format!("^(?:{p})$")).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
}

#[test]
fn the_external_id_never_shows_in_the_plan_or_state() {
    let mut planned = planned_on_create();
    planned.set("external_id", Value::string("s3cret-ext"));
    let p = plan(planned, None, None, Some("aws"));
    let shown = p.get("trust_policy_json").as_str().unwrap();
    assert!(!shown.contains("s3cret-ext"), "{shown}");
    assert!(shown.contains(EXTERNAL_ID_MARK));
    // What IAM gets has the real value.
    assert!(trust_document(&p).unwrap().contains("s3cret-ext"));

    // Read: IAM's document with the same value shows as no change; another value as drift.
    let key = RoleKey::from_value(&p).unwrap();
    let role = |ext: &str| RoleState {
        arn: p.get("role_arn").as_str().unwrap().into(),
        trust_policy: trust_policy(&[COLLECTOR.into()], Some(ORG), Some(ext)).to_string(),
        permissions_policy: Some(permissions_policy().to_string()),
        extra: Default::default(),
    };
    assert_eq!(refreshed_state(&p, &key, &role("s3cret-ext")), p);
    let drifted = refreshed_state(&p, &key, &role("attacker-chosen"));
    let shown = drifted.get("trust_policy_json").as_str().unwrap();
    assert!(shown.contains(OTHER_EXTERNAL_ID_MARK) && !shown.contains("attacker-chosen"), "{shown}");
    assert_ne!(plan(drifted.clone(), Some(&drifted), None, Some("aws")).get("trust_policy_json"), drifted.get("trust_policy_json"));
}

#[test]
fn redaction_handles_arrays_key_case_and_documents_without_external_id() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"STS:ExternalID":["a1","b2"]}}}}"#;
    let r = redact_external_id(doc, Some("a1"));
    assert!(!r.contains("a1") && !r.contains("b2"));
    assert!(r.contains(EXTERNAL_ID_MARK) && r.contains(OTHER_EXTERNAL_ID_MARK));
    let plain = trust_policy(&[COLLECTOR.into()], Some(ORG), None).to_string();
    assert_eq!(redact_external_id(&plain, None), plain);
    assert_eq!(redact_external_id("not json", Some("x")), "not json");
}

#[test]
fn propagation_timeout_bounds_the_iam_retries() {
    let mut v = import_state("111122223333", "R");
    let v_policy = |v: &Value| Inputs::decode(v).unwrap().propagation_policy();
    assert_eq!(v_policy(&v).max_elapsed, std::time::Duration::from_secs(DEFAULT_PROPAGATION_TIMEOUT_S));
    v.set("propagation_timeout_s", Value::Number(600.0));
    let policy = v_policy(&v);
    assert_eq!(policy.max_elapsed, std::time::Duration::from_secs(600));
    assert_eq!(policy.first_delay, crate::lfm::aws::retry::RetryPolicy::IAM.first_delay);
    // A state from before the attribute existed refreshes to the default: no planned change.
    let mut old = import_state("111122223333", "R");
    old.set("propagation_timeout_s", Value::Null);
    let role = RoleState { arn: "arn:aws:iam::111122223333:role/R".into(), trust_policy: "{}".into(), permissions_policy: None, extra: Default::default() };
    let key = RoleKey::from_value(&old).unwrap();
    assert_eq!(refreshed_state(&old, &key, &role).get("propagation_timeout_s"), &Value::Number(120.0));
}

#[test]
fn policies_added_outside_terraform_are_drift_the_plan_removes() {
    let state = plan(planned_on_create(), None, None, Some("aws"));
    assert_eq!(state.get("extra_inline_policy_names"), &Value::List(vec![]));
    assert_eq!(state.get("extra_attached_policy_arns"), &Value::List(vec![]));
    assert!(!has_extra_policies(&state));
    let key = RoleKey::from_value(&state).unwrap();
    let role = RoleState {
        arn: "arn:aws:iam::111122223333:role/LambdaMonitoringRole".into(),
        trust_policy: state.get("trust_policy_json").as_str().unwrap().to_owned(),
        permissions_policy: Some(permissions_policy().to_string()),
        extra: crate::lfm::aws::iam::ExtraPolicies {
            inline_policy_names: vec!["s3-all".into()],
            attached_policy_arns: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
        },
    };
    let read = refreshed_state(&state, &key, &role);
    assert_eq!(read.get("extra_inline_policy_names").strings(), ["s3-all"]);
    assert_eq!(read.get("extra_attached_policy_arns").strings(), ["arn:aws:iam::aws:policy/AdministratorAccess"]);
    assert!(has_extra_policies(&read));
    let replan = plan(read.clone(), Some(&read), None, Some("aws"));
    assert_ne!(replan, read, "the plan shows a change");
    assert_eq!(replan, state, "and wants the role as created");
}

#[test]
fn inputs_are_decoded_once_with_defaults_for_null_attributes() {
    let mut imported = import_state("111122223333", "R");
    imported.set("bootstrap_role_name", Value::Null);
    imported.set("propagation_timeout_s", Value::Null);
    let inputs = Inputs::decode(&imported).unwrap();
    assert_eq!(inputs.key.bootstrap_role_name, "OrganizationAccountAccessRole");
    assert_eq!(inputs.propagation_timeout_s, DEFAULT_PROPAGATION_TIMEOUT_S);
    assert_eq!(inputs.organization_id, None, "looked up at apply");
    let p = plan(planned_on_create(), None, None, Some("aws"));
    let inputs = Inputs::decode(&p).unwrap();
    assert_eq!(inputs.monitoring_principal_arns, [COLLECTOR]);
    assert_eq!(inputs.organization_id.as_deref(), Some(ORG));
    assert_eq!(Some(inputs.shown_trust_policy()), desired_trust_policy(&p));
    assert_eq!(Some(inputs.trust_document()), trust_document(&p));
    let mut unknown = p.clone();
    unknown.set("external_id", Value::Unknown);
    assert!(Inputs::decode(&unknown).is_err());
}
