//! IAM: the actions the collector calls inside a member account, and the two policy documents
//! the provider puts on the monitoring role there (trust + least-privilege permissions).
//!
//! Both halves of LFM read this module: the provider writes these documents, the collector's
//! tests check that every AWS call it makes in a member account is listed in
//! [`COLLECTOR_ACTIONS`]. [`policies_equivalent`] compares documents the way IAM reads them,
//! so a policy that IAM reformatted is never reported as a change.

use serde_json::{json, Map, Value};

/// Every action the collector calls inside a member account, sorted.
///
/// A test in the collector checks that every AWS call it makes is listed here; when the
/// collector adds a call, it adds the action here and the monitoring role follows on the
/// next `terraform apply`.
pub const COLLECTOR_ACTIONS: &[&str] = &[
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "lambda:ListFunctions",
    "logs:GetQueryResults",
    "logs:StartQuery",
];

/// Name of the monitoring role the provider creates in each member account by default.
pub const DEFAULT_ROLE_NAME: &str = "LambdaMonitoringRole";

/// Role the provider assumes in a member account to create the monitoring role: the one AWS
/// Organizations creates in every account it creates.
pub const DEFAULT_BOOTSTRAP_ROLE_NAME: &str = "OrganizationAccountAccessRole";

/// Name of the inline permissions policy on the monitoring role.
pub const PERMISSIONS_POLICY_NAME: &str = "LambdaMonitoringPolicy";

/// IAM policy language version used by every document LFM writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// The least-privilege inline policy of the monitoring role: Allow [`COLLECTOR_ACTIONS`].
///
/// The resource is `"*"` because neither `lambda:ListFunctions` nor
/// `cloudwatch:GetMetricData` nor `cloudwatch:ListMetrics` supports resource-level
/// permissions: IAM only accepts `"*"` for them, nor does `logs:GetQueryResults`.
/// `logs:StartQuery` could be scoped to log-group
/// ARNs, but a function may log to any group (its `LoggingConfig`), so it shares the `"*"`
/// statement; it only reads aggregates of logs, never writes. Any action added later that
/// supports resource ARNs and has a known resource should get its own scoped statement.
pub fn permissions_policy() -> Value {
    json!({
        "Version": POLICY_VERSION,
        "Statement": [{
            "Sid": "LfmCollectorReadOnly",
            "Effect": "Allow",
            "Action": COLLECTOR_ACTIONS,
            "Resource": "*",
        }],
    })
}

/// Trust policy of the monitoring role: the given principals may `sts:AssumeRole`, and, when
/// given, only from inside `organization_id` (`aws:PrincipalOrgID`) and only when they pass
/// `external_id` (`sts:ExternalId`).
pub fn trust_policy(principals: &[String], organization_id: Option<&str>, external_id: Option<&str>) -> Value {
    let mut statement = json!({
        "Sid": "LfmCollectorAssumeRole",
        "Effect": "Allow",
        "Principal": { "AWS": principals },
        "Action": "sts:AssumeRole",
    });
    let mut string_equals = Map::new();
    if let Some(org) = organization_id {
        string_equals.insert("aws:PrincipalOrgID".into(), Value::from(org));
    }
    if let Some(ext) = external_id {
        string_equals.insert("sts:ExternalId".into(), Value::from(ext));
    }
    if !string_equals.is_empty() {
        statement["Condition"] = json!({ "StringEquals": string_equals });
    }
    json!({ "Version": POLICY_VERSION, "Statement": [statement] })
}

/// True when two policy documents mean the same to IAM.
///
/// Ignores whitespace and key order; a single string equals a one-element array where IAM
/// accepts either (`Action`, `NotAction`, `Resource`, `NotResource`, principal values,
/// condition values), and those lists as well as the statements are compared as sets.
/// Action names compare case-insensitively, as IAM evaluates them. Documents that are not
/// JSON are equal only when byte-identical. IAM returns documents URL-encoded: decode them
/// before calling this.
pub fn policies_equivalent(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)) {
        (Ok(a), Ok(b)) => normalize_policy(&a) == normalize_policy(&b),
        _ => a == b,
    }
}

/// A canonical form of a policy document: equal for documents IAM treats as equal.
pub fn normalize_policy(doc: &Value) -> Value {
    let Value::Object(top) = doc else { return doc.clone() };
    let mut out = Map::new();
    for (key, value) in top {
        let value = if key == "Statement" { normalize_statements(value) } else { value.clone() };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn normalize_statements(statements: &Value) -> Value {
    let mut list: Vec<Value> = match statements {
        Value::Array(items) => items.iter().map(normalize_statement).collect(),
        single => vec![normalize_statement(single)],
    };
    list.sort_by_cached_key(|s| s.to_string());
    Value::Array(list)
}

fn normalize_statement(statement: &Value) -> Value {
    let Value::Object(fields) = statement else { return statement.clone() };
    let mut out = Map::new();
    for (key, value) in fields {
        let value = match key.as_str() {
            "Action" | "NotAction" => string_set(value, true),
            "Resource" | "NotResource" => string_set(value, false),
            "Principal" | "NotPrincipal" => map_of_string_sets(value),
            "Condition" => match value {
                Value::Object(operators) => Value::Object(
                    operators.iter().map(|(op, keys)| (op.clone(), map_of_string_sets(keys))).collect(),
                ),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// `{"AWS": "x"}` -> `{"AWS": ["x"]}`, each list sorted; `"*"` and other shapes unchanged.
fn map_of_string_sets(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), string_set(v, false))).collect()),
        other => other.clone(),
    }
}

/// A string or an array of scalars as a sorted, deduplicated array.
fn string_set(value: &Value, case_insensitive: bool) -> Value {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) | Value::Null => return value.clone(),
        scalar => vec![scalar],
    };
    let mut strings: Vec<String> = items
        .into_iter()
        .map(|v| match v {
            Value::String(s) if case_insensitive => s.to_ascii_lowercase(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    strings.sort();
    strings.dedup();
    Value::Array(strings.into_iter().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLLECTOR: &str = "arn:aws:iam::123456789012:role/lfm-collector";

    #[test]
    fn collector_actions_are_sorted_and_unique() {
        let mut sorted = COLLECTOR_ACTIONS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, COLLECTOR_ACTIONS);
    }

    #[test]
    fn permissions_policy_allows_exactly_the_collector_actions() {
        let doc = permissions_policy();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        assert_eq!(
            statements[0]["Action"],
            json!([
                "cloudwatch:GetMetricData",
                "cloudwatch:ListMetrics",
                "lambda:ListFunctions",
                "logs:GetQueryResults",
                "logs:StartQuery"
            ])
        );
        assert_eq!(statements[0]["Resource"], "*");
    }

    #[test]
    fn trust_policy_has_principals_and_both_condition_keys() {
        let doc = trust_policy(&[COLLECTOR.to_owned()], Some("o-abc123defg"), Some("s3cret"));
        let s = &doc["Statement"][0];
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Action"], "sts:AssumeRole");
        assert_eq!(s["Principal"]["AWS"], json!([COLLECTOR]));
        let cond = s["Condition"]["StringEquals"].as_object().unwrap();
        assert_eq!(cond.len(), 2);
        assert_eq!(cond["aws:PrincipalOrgID"], "o-abc123defg");
        assert_eq!(cond["sts:ExternalId"], "s3cret");
    }

    #[test]
    fn trust_policy_without_org_or_external_id_has_no_condition() {
        let doc = trust_policy(&[COLLECTOR.to_owned()], None, None);
        assert!(doc["Statement"][0].get("Condition").is_none());
        let only_org = trust_policy(&[COLLECTOR.to_owned()], Some("o-abc123defg"), None);
        let cond = only_org["Statement"][0]["Condition"]["StringEquals"].as_object().unwrap();
        assert_eq!(cond.keys().collect::<Vec<_>>(), vec!["aws:PrincipalOrgID"]);
    }

    #[test]
    fn reformatted_trust_policy_as_iam_returns_it_is_equivalent() {
        let ours = trust_policy(&[COLLECTOR.to_owned()], Some("o-abc123defg"), None).to_string();
        // What GetRole returns (after URL-decoding): other key order, single values unwrapped,
        // no statement array, whitespace.
        let from_iam = r#"{
          "Statement": {"Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-abc123defg"]}},
                        "Action": ["sts:AssumeRole"], "Principal": {"AWS": "arn:aws:iam::123456789012:role/lfm-collector"},
                        "Effect": "Allow", "Sid": "LfmCollectorAssumeRole"},
          "Version": "2012-10-17"
        }"#;
        assert!(policies_equivalent(&ours, from_iam));
    }

    #[test]
    fn action_and_principal_order_and_case_do_not_matter() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:ListFunctions","cloudwatch:GetMetricData"],"Resource":"*"}]}"#;
        let b = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["CloudWatch:GetMetricData","lambda:listfunctions"],"Resource":["*"]}]}"#;
        assert!(policies_equivalent(a, b));
        let ours_reordered = r#"{"Statement":[{"Resource":["*"],"Action":["logs:StartQuery","lambda:ListFunctions","Logs:GetQueryResults","CloudWatch:listMetrics","cloudwatch:GetMetricData"],"Effect":"Allow","Sid":"LfmCollectorReadOnly"}],"Version":"2012-10-17"}"#;
        assert!(policies_equivalent(ours_reordered, &permissions_policy().to_string()));
        let p1 = trust_policy(&["arn:aws:iam::1:root".into(), "arn:aws:iam::2:root".into()], None, None);
        let p2 = trust_policy(&["arn:aws:iam::2:root".into(), "arn:aws:iam::1:root".into()], None, None);
        assert!(policies_equivalent(&p1.to_string(), &p2.to_string()));
    }

    #[test]
    fn statement_order_does_not_matter() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:A","Resource":"*"},{"Effect":"Deny","Action":"b:B","Resource":"*"}]}"#;
        let b = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"b:B","Resource":"*"},{"Effect":"Allow","Action":"a:A","Resource":"*"}]}"#;
        assert!(policies_equivalent(a, b));
    }

    #[test]
    fn unequal_documents_are_detected() {
        let ours = trust_policy(&[COLLECTOR.to_owned()], Some("o-abc123defg"), Some("s3cret")).to_string();
        let other_org = trust_policy(&[COLLECTOR.to_owned()], Some("o-zzzzzzzzzz"), Some("s3cret")).to_string();
        let no_external_id = trust_policy(&[COLLECTOR.to_owned()], Some("o-abc123defg"), None).to_string();
        let extra_principal =
            trust_policy(&[COLLECTOR.to_owned(), "arn:aws:iam::999999999999:root".into()], Some("o-abc123defg"), Some("s3cret"))
                .to_string();
        for changed in [&other_org, &no_external_id, &extra_principal] {
            assert!(!policies_equivalent(&ours, changed), "{changed}");
        }
        let widened = r#"{"Version":"2012-10-17","Statement":[{"Sid":"LfmCollectorReadOnly","Effect":"Allow","Action":["cloudwatch:GetMetricData","lambda:ListFunctions","lambda:GetFunction"],"Resource":"*"}]}"#;
        assert!(!policies_equivalent(&permissions_policy().to_string(), widened));
        let deny = permissions_policy().to_string().replace("Allow", "Deny");
        assert!(!policies_equivalent(&permissions_policy().to_string(), &deny));
    }

    #[test]
    fn non_json_is_equal_only_to_itself() {
        assert!(policies_equivalent("not json", "not json"));
        assert!(!policies_equivalent("not json", &permissions_policy().to_string()));
    }
}
