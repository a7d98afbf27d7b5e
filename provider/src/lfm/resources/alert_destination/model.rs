//! The pure part of `lfm_alert_destination`: the attribute checks (SNS topic ARN, webhook URL,
//! exactly one kind, secret only with a webhook), the SSM parameter name, the document written
//! to `{prefix}-alert-destinations`, the plan's computed attributes, and the state read back
//! from a document. No I/O here; all unit-tested in `tests.rs`.

use crate::framework::{AttrPath, Diagnostics, Value};
use crate::lfm::opensearch_target::{self, Target};
use lfm_schema::alerts::{destination_type, valid_name, webhook_url_problem, AlertDestinationDocument};
use lfm_schema::contract::partition::known_partitions;
use lfm_schema::contract::partition_of_region;

pub const RESOURCE: &str = "lfm_alert_destination";

/// Every attribute of the resource, in schema order (state objects carry all of them).
pub const ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "sns_topic_arn",
    "webhook_url",
    "webhook_secret",
    "webhook_format",
    "opensearch_url",
    "index_prefix",
    "username",
    "password",
    "request_timeout_seconds",
    "secret_parameter_name",
    "secret_parameter_arn",
    "topic_arn",
];

pub const FORMATS: &[&str] = lfm_schema::alerts::format::ALL;
pub const DEFAULT_FORMAT: &str = lfm_schema::alerts::format::JSON;

/// The SecureString parameter holding a webhook's HMAC secret (the collector reads it with
/// ssm:GetParameter WithDecryption).
pub fn secret_parameter_name(prefix: &str, name: &str) -> String {
    format!("/lfm/{prefix}/alert-destinations/{name}/webhook-secret")
}

/// The index of destination documents.
pub fn index(prefix: &str) -> String {
    lfm_schema::alerts::alert_destinations_index(prefix)
}

/// Validator of `sns_topic_arn`: `arn:PARTITION:sns:REGION:ACCOUNT:TOPIC`, the partition one
/// AWS has and the region's own, a 12-digit account, and a topic name of 1 to 256 ASCII
/// letters, digits, `_` and `-` (a FIFO topic's name ends in `.fifo`, counted in the 256).
/// Sources: ARN format, <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>
/// and <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html#amazonsns-resources-for-iam-policies>;
/// topic names, CreateTopic's `Name` parameter,
/// <https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html>.
pub fn sns_topic_arn(v: &Value) -> Result<(), String> {
    let arn = v.as_str().unwrap_or_default();
    const FORM: &str = "arn:PARTITION:sns:REGION:ACCOUNT_ID:TOPIC_NAME, e.g. arn:aws:sns:eu-west-1:111122223333:lfm-alerts";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, topic] = parts[..] else {
        return Err(format!("must be an SNS topic ARN: {FORM}"));
    };
    if scheme != "arn" || service != "sns" {
        return Err(format!("must be an SNS topic ARN ({FORM}); this is not an ARN of service sns"));
    }
    if !known_partitions().any(|p| p == partition) {
        let known: Vec<&str> = known_partitions().collect();
        return Err(format!("has partition \"{partition}\"; AWS partitions are {}", known.join(", ")));
    }
    let region_ok = {
        let re = regex::Regex::new(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$").expect("valid regex");
        re.is_match(region)
    };
    if !region_ok {
        return Err(format!("has region \"{region}\"; expected an AWS region such as eu-west-1 ({FORM})"));
    }
    if partition_of_region(region) != partition {
        return Err(format!("names region {region}, which is in partition {}, not {partition}", partition_of_region(region)));
    }
    if !crate::lfm::validators::is_account_id(account) {
        return Err(format!("has account \"{account}\"; expected a 12-digit AWS account ID"));
    }
    let base = topic.strip_suffix(".fifo").unwrap_or(topic);
    if topic.is_empty() || topic.len() > 256 || base.is_empty() || !base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(format!(
            "has topic name \"{topic}\"; SNS topic names are 1 to 256 ASCII letters, digits, underscores and hyphens (a FIFO topic's ends in .fifo)"
        ));
    }
    Ok(())
}

/// Validator of `webhook_url`: `lfm_schema::alerts::webhook_url_problem`, the rule the
/// collector applies too (https, or http to a loopback host only: localhost, 127.0.0.0/8,
/// ::1), so that alerts and their signature never cross a network in clear text.
pub fn webhook_url(v: &Value) -> Result<(), String> {
    match webhook_url_problem(v.as_str().unwrap_or_default()) {
        None => Ok(()),
        // Read after the attribute name: "must be ...: <the schema's reason>".
        Some(problem) => Err(format!("must be an https:// URL (http:// only to a loopback host): {problem}")),
    }
}

/// Validator of `name`: the document ID and a part of the SSM parameter name.
pub fn destination_name(v: &Value) -> Result<(), String> {
    if valid_name(v.as_str().unwrap_or_default()) {
        Ok(())
    } else {
        Err("must be 1 to 64 lowercase letters, digits, '_' or '-', starting with a letter or digit (it is the document ID and part of the SSM parameter name)".into())
    }
}

/// Cross-attribute checks: exactly one of sns_topic_arn / webhook_url, the webhook's options
/// only with a webhook, and the target's authentication. Unknown values are neither set nor
/// missing (checked again in the plan, once known).
pub fn validate(config: &Value) -> Diagnostics {
    let state = |attr: &str| match config.get(attr) {
        Value::Null => Some(false),
        Value::Unknown => None,
        _ => Some(true),
    };
    let mut diags = opensearch_target::validate_auth(config);
    match (state("sns_topic_arn"), state("webhook_url")) {
        (Some(true), Some(true)) => diags.extend(Diagnostics::attribute_error(
            AttrPath::attr("webhook_url"),
            "sns_topic_arn and webhook_url are both set",
            "A destination is an SNS topic or a webhook: set exactly one of sns_topic_arn and webhook_url (declare two destinations to use both).",
        )),
        (Some(false), Some(false)) => diags.extend(Diagnostics::attribute_error(
            AttrPath::attr("sns_topic_arn"),
            "Neither sns_topic_arn nor webhook_url is set",
            "Set exactly one: sns_topic_arn (an SNS topic the collector publishes to) or webhook_url (an HTTPS endpoint it POSTs to).",
        )),
        _ => {}
    }
    if state("webhook_url") == Some(false) {
        // webhook_format has a default: only another value is a mistake.
        let format_set = matches!(config.get("webhook_format").as_str(), Some(f) if f != DEFAULT_FORMAT);
        for (attr, set) in [("webhook_secret", state("webhook_secret") == Some(true)), ("webhook_format", format_set)] {
            if set {
                diags.extend(Diagnostics::attribute_error(
                    AttrPath::attr(attr),
                    format!("{attr} without webhook_url"),
                    format!("{attr} applies to webhooks only; remove it, or set webhook_url instead of sns_topic_arn."),
                ));
            }
        }
    }
    if matches!(config.get("webhook_secret").as_str(), Some("")) {
        diags.extend(Diagnostics::attribute_error(
            AttrPath::attr("webhook_secret"),
            "webhook_secret is empty",
            "An empty secret signs nothing: set a secret (e.g. from random_password), or leave webhook_secret unset for unsigned messages.",
        ));
    }
    diags
}

/// The document for a known plan; `secret_parameter` is the SSM parameter's name when a
/// secret is set.
pub fn document(planned: &Value, secret_parameter: Option<String>, updated_at: String) -> AlertDestinationDocument {
    let sns = planned.get("sns_topic_arn").as_str().map(str::to_owned);
    let webhook = planned.get("webhook_url").as_str().map(str::to_owned);
    AlertDestinationDocument {
        name: planned.get("name").as_str().unwrap_or_default().to_owned(),
        destination_type: if sns.is_some() { destination_type::SNS } else { destination_type::WEBHOOK }.to_owned(),
        topic_arn: sns,
        format: match webhook {
            Some(_) => planned.get("webhook_format").as_str().unwrap_or(DEFAULT_FORMAT).to_owned(),
            None => DEFAULT_FORMAT.to_owned(),
        },
        url: webhook,
        secret_parameter,
        updated_at,
    }
}

/// The computed attributes of a plan: the ID, `topic_arn`, the parameter's name; its ARN is
/// the prior one while the parameter stays, else known after apply.
pub fn plan(mut planned: Value, prior: Option<&Value>) -> Value {
    let (url, prefix, name) = (planned.get("opensearch_url").clone(), planned.get("index_prefix").clone(), planned.get("name").clone());
    let id = match (url.as_str(), prefix.as_str(), name.as_str()) {
        (Some(u), Some(p), Some(n)) => Value::string(format!("{}|{p}|{n}", opensearch_target::url_trimmed(u))),
        _ => Value::Unknown,
    };
    planned.set("id", id);
    let topic = planned.get("sns_topic_arn").clone();
    planned.set("topic_arn", topic);
    let parameter = match (planned.get("webhook_secret"), prefix.as_str(), name.as_str()) {
        (Value::Null, _, _) => Value::Null,
        (_, Some(p), Some(n)) => Value::string(secret_parameter_name(p, n)),
        _ => Value::Unknown,
    };
    let prior_arn = prior.map(|p| p.get("secret_parameter_arn").clone()).unwrap_or(Value::Null);
    let same_parameter = prior.is_some_and(|p| *p.get("secret_parameter_name") == parameter);
    let arn = match &parameter {
        Value::Null => Value::Null,
        _ if same_parameter && prior_arn.as_str().is_some() => prior_arn,
        _ => Value::Unknown,
    };
    planned.set("secret_parameter_name", parameter);
    planned.set("secret_parameter_arn", arn);
    planned
}

/// The secret as found in SSM when the document names a parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundSecret {
    pub name: String,
    /// `None` when the parameter is gone.
    pub value_and_arn: Option<(String, String)>,
}

/// `current` refreshed from the document (and its secret): whatever was changed outside
/// Terraform shows as a difference to the configuration.
pub fn state_from_document(current: &Value, target: &Target, doc: &AlertDestinationDocument, secret: Option<&FoundSecret>) -> Value {
    let mut state = current.clone();
    for attr in ATTRIBUTES.iter().chain(opensearch_target::BLOCKS) {
        if state.get(attr).is_null() {
            state.set(attr, Value::Null);
        }
    }
    let webhook = doc.destination_type == destination_type::WEBHOOK;
    state.set("id", Value::string(target.resource_id(&doc.name)));
    state.set("name", Value::string(&doc.name));
    state.set("sns_topic_arn", Value::opt_string(doc.topic_arn.clone()));
    state.set("topic_arn", Value::opt_string(doc.topic_arn.clone()));
    state.set("webhook_url", Value::opt_string(doc.url.clone()));
    // An SNS destination keeps the attribute's default (the document has no format).
    state.set("webhook_format", Value::string(if webhook { doc.format.as_str() } else { DEFAULT_FORMAT }));
    match secret {
        Some(FoundSecret { name, value_and_arn: Some((value, arn)) }) => {
            state.set("webhook_secret", Value::string(value));
            state.set("secret_parameter_name", Value::string(name));
            state.set("secret_parameter_arn", Value::string(arn));
        }
        Some(FoundSecret { name, value_and_arn: None }) => {
            state.set("webhook_secret", Value::Null);
            state.set("secret_parameter_name", Value::string(name));
            state.set("secret_parameter_arn", Value::Null);
        }
        None => {
            state.set("webhook_secret", Value::Null);
            state.set("secret_parameter_name", Value::Null);
            state.set("secret_parameter_arn", Value::Null);
        }
    }
    state
}
