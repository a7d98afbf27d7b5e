//! Unit tests of the pure part of `lfm_monitored_account` (the AWS part is tested against
//! moto in `provider/tests/aws_monitored_account.rs`).

use super::model::*;
use super::{at_least_one_principal, MonitoredAccount};
use crate::framework::{Resource, Value};
use crate::lfm::iam::RoleState;
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
