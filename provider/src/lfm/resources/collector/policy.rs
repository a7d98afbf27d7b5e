//! The collector's IAM documents: the execution role's inline policy (assume exactly the
//! monitoring roles, write its own logs, HTTP on one OpenSearch domain or collection), its
//! trust policy (the Lambda service), and reading the domain back from a policy (import).

use super::model::{Home, Names};
use crate::framework::Value;
use serde_json::json;

/// The execution role's inline policy.
pub const POLICY_NAME: &str = "LfmCollectorPolicy";

/// The execution role's inline policy: sts:AssumeRole on exactly the monitoring roles,
/// writing its own log group, and (when a domain is given) HTTP on that OpenSearch domain: the
/// collector GETs, HEADs, PUTs (templates, mappings), POSTs (`_bulk`, `_mget`) and DELETEs
/// (retention drops old daily indices). An OpenSearch Serverless collection ARN (`aoss`) gets
/// `aoss:APIAccessAll`, the one IAM action for its data plane (what it may do inside the
/// collection is then the collection's data access policy).
/// Of a plan: `None` while an input is unknown (at apply, [`super::model::Settings::policy`]).
pub fn desired_policy(v: &Value, home: &Home) -> Option<String> {
    let (ids, role, domain, name) = (
        v.get("monitored_account_ids"),
        v.get("role_name"),
        v.get("opensearch_domain_arn"),
        v.get("name"),
    );
    if ids.contains_unknown() || role.is_unknown() || domain.is_unknown() || name.is_unknown() {
        return None;
    }
    Some(policy_document(&ids.strings(), role.as_str()?, domain.as_str(), &Names::new(name.as_str()?), home))
}

/// The execution role's inline policy from its inputs.
pub fn policy_document(account_ids: &[String], role_name: &str, domain: Option<&str>, names: &Names, home: &Home) -> String {
    let roles: Vec<String> = account_ids
        .iter()
        .map(|a| format!("arn:{}:iam::{a}:role/{role_name}", home.partition))
        .collect();
    let log_group = names.log_group_arn(home);
    let mut statements = vec![
        json!({"Sid": "AssumeMonitoringRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": roles}),
        json!({"Sid": "WriteOwnLogs", "Effect": "Allow",
               "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
               "Resource": [log_group.clone(), format!("{log_group}:log-stream:*")]}),
    ];
    if let Some(domain) = domain {
        let domain = domain.trim_end_matches("/*").trim_end_matches('/');
        if domain.split(':').nth(2) == Some("aoss") {
            statements.push(json!({"Sid": "OpenSearchHttp", "Effect": "Allow",
                "Action": "aoss:APIAccessAll", "Resource": [domain]}));
        } else {
            statements.push(json!({"Sid": "OpenSearchHttp", "Effect": "Allow",
                "Action": ["es:ESHttpDelete", "es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"],
                "Resource": [domain, format!("{domain}/*")]}));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Who may assume the execution role: the Lambda service.
pub fn trust_policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()
}

/// The OpenSearch domain (or Serverless collection) ARN the policy scopes es:ESHttp* (or
/// aoss:APIAccessAll) to (for import).
pub fn domain_from_policy(policy: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(policy).ok()?;
    let s = doc["Statement"]
        .as_array()?
        .iter()
        .find(|s| s["Sid"] == "OpenSearchHttp")?;
    s["Resource"]
        .as_array()?
        .iter()
        .filter_map(|r| r.as_str())
        .find(|r| !r.ends_with("/*"))
        .map(str::to_owned)
}
