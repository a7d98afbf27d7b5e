//! The collector's IAM documents: the execution role's inline policy (assume exactly the
//! monitoring roles, write its own logs, HTTP on one OpenSearch domain or collection, publish
//! to exactly the alert topics, read exactly the alert webhook secrets), its
//! trust policy (the Lambda service), and reading the domain back from a policy (import).

use super::model::{Home, Names};
use crate::framework::Value;
use serde_json::json;

/// The execution role's inline policy.
pub const POLICY_NAME: &str = "LfmCollectorPolicy";

/// What the collector delivers alerts with: SNS topics it publishes to, SSM parameters holding
/// webhook secrets it reads (`lfm_alert_destination`'s `topic_arn` / `secret_parameter_arn`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertAccess {
    pub sns_topic_arns: Vec<String>,
    pub secret_parameter_arns: Vec<String>,
}

impl AlertAccess {
    /// From a plan or state (`None` while a list is unknown).
    pub fn from_value(v: &Value) -> Option<AlertAccess> {
        let (topics, parameters) = (v.get("alert_sns_topic_arns"), v.get("alert_secret_parameter_arns"));
        if topics.contains_unknown() || parameters.contains_unknown() {
            return None;
        }
        Some(AlertAccess { sns_topic_arns: topics.strings(), secret_parameter_arns: parameters.strings() })
    }
}

/// Statement IDs of the alert permissions (import reads the lists back by them).
pub const SID_PUBLISH_ALERTS: &str = "PublishAlerts";
pub const SID_READ_ALERT_SECRETS: &str = "ReadAlertSecrets";

/// The execution role's inline policy: sts:AssumeRole on exactly the monitoring roles,
/// writing its own log group, and (when a domain is given) HTTP on that OpenSearch domain: the
/// collector GETs, HEADs, PUTs (templates, mappings), POSTs (`_bulk`, `_mget`) and DELETEs
/// (retention drops old daily indices). An OpenSearch Serverless collection ARN (`aoss`) gets
/// `aoss:APIAccessAll`, the one IAM action for its data plane (what it may do inside the
/// collection is then the collection's data access policy).
/// Alerts: sns:Publish on exactly the declared topics and ssm:GetParameter on exactly the
/// declared parameters, no statement when a list is empty. SecureString parameters encrypted
/// with the AWS managed key `aws/ssm` need no kms:Decrypt of the caller
/// (<https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html>).
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
    let alerts = AlertAccess::from_value(v)?;
    Some(policy_document(&ids.strings(), role.as_str()?, domain.as_str(), &alerts, &Names::new(name.as_str()?), home))
}

/// The execution role's inline policy from its inputs.
pub fn policy_document(account_ids: &[String], role_name: &str, domain: Option<&str>, alerts: &AlertAccess, names: &Names, home: &Home) -> String {
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
    for (sid, action, resources) in [
        (SID_PUBLISH_ALERTS, "sns:Publish", &alerts.sns_topic_arns),
        (SID_READ_ALERT_SECRETS, "ssm:GetParameter", &alerts.secret_parameter_arns),
    ] {
        let mut unique: Vec<&String> = Vec::new();
        for r in resources {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        if !unique.is_empty() {
            statements.push(json!({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": unique}));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The resources of statement `sid` (for import: the alert topics and parameters); empty
/// when the policy has no such statement.
pub fn statement_resources(policy: &str, sid: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(policy) else { return Vec::new() };
    let Some(statement) = doc["Statement"].as_array().and_then(|s| s.iter().find(|s| s["Sid"] == sid)) else { return Vec::new() };
    match &statement["Resource"] {
        serde_json::Value::String(r) => vec![r.clone()],
        serde_json::Value::Array(rs) => rs.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
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
