//! The `provider "lfm"` block: its schema and its parsing into [`ProviderConfig`].
//!
//! Parsing is pure (no AWS calls) so it is unit-tested; [`super::aws::session`] turns the result into
//! SDK clients. A value that is still unknown (it depends on a resource not yet created)
//! yields [`Parsed::Deferred`]: errors are reported once the value is known.

use crate::lfm::validators;
use crate::framework::{AttrPath, Attribute, Block, Diagnostics, NestedBlock, Schema, Validator, Value};

/// Services whose endpoint can be overridden in the `endpoints` block.
pub const ENDPOINT_SERVICES: &[&str] =
    &["sts", "iam", "organizations", "lambda", "cloudwatch", "logs", "events", "opensearch", "ssm", "sns"];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderConfig {
    pub region: String,
    pub assume_role: Option<AssumeRoleConfig>,
    pub endpoints: Endpoints,
    /// Retries of an AWS call that failed transiently (throttling, 5xx, transport); `None`:
    /// the SDK's standard mode (3 attempts).
    pub max_retries: Option<u32>,
    /// Connect, per-attempt and whole-call bounds of every AWS call (`*_timeout_seconds`).
    pub timeouts: lfm_aws::Timeouts,
}

#[derive(Clone, PartialEq)]
pub struct AssumeRoleConfig {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

impl std::fmt::Debug for AssumeRoleConfig {
    // The external ID is marked sensitive: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleConfig")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "<sensitive>"))
            .finish()
    }
}

/// Per-service endpoint URLs (moto, LocalStack, VPC endpoints, FIPS ...); `None` = AWS default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoints {
    pub sts: Option<String>,
    pub iam: Option<String>,
    pub organizations: Option<String>,
    pub lambda: Option<String>,
    pub cloudwatch: Option<String>,
    pub logs: Option<String>,
    pub events: Option<String>,
    pub opensearch: Option<String>,
    /// Systems Manager Parameter Store (`lfm_alert_destination`'s webhook secrets).
    pub ssm: Option<String>,
    /// SNS (alert topics).
    pub sns: Option<String>,
}

#[derive(Debug, PartialEq)]
pub enum Parsed {
    Ready(ProviderConfig),
    /// Some input is unknown at plan time; the string names it.
    Deferred(String),
}

pub fn schema() -> Schema {
    let assume_role = Block::new("Role to assume with the default credentials before any other call (e.g. from a CI account into the management account).")
        .attr(Attribute::string("role_arn").required().validate(validators::ARN).description("ARN of the role to assume."))
        .attr(Attribute::string("session_name").optional().description("Session name shown in CloudTrail (default: generated)."))
        .attr(Attribute::string("external_id").optional().sensitive().description("External ID the role's trust policy requires."));
    let mut endpoints = Block::new("Endpoint URL overrides per AWS service (LocalStack, moto, VPC or FIPS endpoints).");
    for service in ENDPOINT_SERVICES {
        endpoints = endpoints.attr(
            Attribute::string(service).optional().description(&format!("Endpoint URL for the {service} API.")),
        );
    }
    Schema {
        version: 0,
        block: Block::new(
            "The LFM provider sets up Lambda Fleet Monitor in an AWS organisation. Credentials come from the default AWS chain (environment, shared config/profile, SSO, container or instance role).",
        )
        .attr(Attribute::string("region").optional().description(
            "AWS region for API calls. Default: the AWS_REGION or AWS_DEFAULT_REGION environment variable.",
        ))
        .attr(Attribute::number("max_retries").optional().validate(Validator::IntRange { min: 0, max: 25 }).description(
            "Retries of an AWS API call that failed transiently (throttling, 5xx, connection errors), with the SDK's exponential backoff and jitter. Default: the SDK's standard mode (2 retries, 3 attempts). IAM's eventual consistency is retried separately, per resource (`propagation_timeout_s`, `role_propagation_timeout_s`).",
        ))
        .attr(Attribute::number("connect_timeout_seconds").optional().validate(Validator::IntRange { min: 1, max: 3600 }).description(
            "Seconds to establish a connection to an AWS endpoint, for every AWS call of the provider, and to OpenSearch and OpenSearch Dashboards (lfm_dashboard_bundle). Default: 10.",
        ))
        .attr(Attribute::number("request_timeout_seconds").optional().validate(Validator::IntRange { min: 1, max: 3600 }).description(
            "Seconds one attempt of an AWS call may take, from sending the request to the end of the answer (a retry starts a new attempt). Default: 60. One attempt of an OpenSearch request is bounded by lfm_dashboard_bundle's own request_timeout_seconds.",
        ))
        .attr(Attribute::number("operation_timeout_seconds").optional().validate(Validator::IntRange { min: 1, max: 3600 }).description(
            "Seconds one AWS call, or one OpenSearch or OpenSearch Dashboards request of lfm_dashboard_bundle, may take in all, every attempt and the backoff between them included; an endpoint that never answers fails after this long. Default: 150.",
        ))
        .block(NestedBlock::single("assume_role", assume_role))
        .block(NestedBlock::single("endpoints", endpoints)),
    }
}

/// Parse the provider block. `env` looks up an environment variable (injected for tests).
pub fn parse(config: &Value, env: impl Fn(&str) -> Option<String>) -> Result<Parsed, Diagnostics> {
    if config.contains_unknown() {
        return Ok(Parsed::Deferred(unknown_path(config)));
    }
    let region = match config.get("region").as_str() {
        Some(r) if !r.is_empty() => r.to_owned(),
        _ => match env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).filter(|r| !r.is_empty()) {
            Some(r) => r,
            None => {
                return Err(Diagnostics::attribute_error(
                    AttrPath::attr("region"),
                    "No AWS region configured",
                    "Set `region` in the provider \"lfm\" block, or export AWS_REGION (or AWS_DEFAULT_REGION).",
                ))
            }
        },
    };
    let assume_role = single_block(config.get("assume_role")).map(|b| AssumeRoleConfig {
        role_arn: b.get("role_arn").as_str().unwrap_or_default().to_owned(),
        session_name: non_empty(b.get("session_name")),
        external_id: non_empty(b.get("external_id")),
    });
    if let Some(ar) = &assume_role {
        if ar.role_arn.is_empty() {
            return Err(Diagnostics::attribute_error(
                AttrPath::attr("assume_role").then_attr("role_arn"),
                "Missing role ARN",
                "`assume_role` needs `role_arn`, e.g. arn:aws:iam::123456789012:role/Terraform.",
            ));
        }
    }
    let e = single_block(config.get("endpoints"));
    let endpoint = |name: &str| e.and_then(|b| non_empty(b.get(name)));
    let endpoints = Endpoints {
        sts: endpoint("sts"),
        iam: endpoint("iam"),
        organizations: endpoint("organizations"),
        lambda: endpoint("lambda"),
        cloudwatch: endpoint("cloudwatch"),
        logs: endpoint("logs"),
        events: endpoint("events"),
        opensearch: endpoint("opensearch"),
        ssm: endpoint("ssm"),
        sns: endpoint("sns"),
    };
    let max_retries = config.get("max_retries").as_i64().map(|n| n.clamp(0, 25) as u32);
    let d = lfm_aws::Timeouts::DEFAULT;
    let seconds = |name: &str, default: std::time::Duration| {
        config.get(name).as_i64().map(|n| std::time::Duration::from_secs(n.max(1) as u64)).unwrap_or(default)
    };
    let timeouts = lfm_aws::Timeouts {
        connect: seconds("connect_timeout_seconds", d.connect),
        attempt: seconds("request_timeout_seconds", d.attempt),
        operation: seconds("operation_timeout_seconds", d.operation),
    };
    Ok(Parsed::Ready(ProviderConfig { region, assume_role, endpoints, max_retries, timeouts }))
}

/// A single nested block arrives as an object (or a one-element list); absent = null.
pub fn single_block(v: &Value) -> Option<&Value> {
    match v {
        Value::Object(_) => Some(v),
        Value::List(items) | Value::Set(items) => items.first().filter(|b| matches!(b, Value::Object(_))),
        _ => None,
    }
}

fn non_empty(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Dotted path of the first unknown value, for the deferral message.
fn unknown_path(v: &Value) -> String {
    fn walk(v: &Value, path: &mut Vec<String>) -> bool {
        match v {
            Value::Unknown => true,
            Value::Object(m) | Value::Map(m) => m.iter().any(|(k, v)| {
                path.push(k.clone());
                walk(v, path) || {
                    path.pop();
                    false
                }
            }),
            Value::List(items) | Value::Set(items) => items.iter().any(|v| walk(v, path)),
            _ => false,
        }
    }
    let mut path = Vec::new();
    walk(v, &mut path);
    if path.is_empty() {
        "the provider configuration".into()
    } else {
        path.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn region_from_config_then_environment() {
        let cfg = Value::object([("region", Value::string("eu-west-1"))]);
        let Parsed::Ready(p) = parse(&cfg, no_env).unwrap() else { panic!() };
        assert_eq!(p.region, "eu-west-1");
        assert_eq!(p.timeouts, lfm_aws::Timeouts::DEFAULT);
        let cfg = Value::object([("region", Value::string("eu-west-1")), ("operation_timeout_seconds", Value::Number(5.0))]);
        let Parsed::Ready(p) = parse(&cfg, no_env).unwrap() else { panic!() };
        assert_eq!(p.timeouts.operation, std::time::Duration::from_secs(5));
        let env = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "us-gov-west-1".to_owned());
        let Parsed::Ready(p) = parse(&Value::object([("region", Value::Null)]), env).unwrap() else { panic!() };
        assert_eq!(p.region, "us-gov-west-1");
    }

    #[test]
    fn missing_region_names_the_attribute() {
        let err = parse(&Value::object([("region", Value::Null)]), no_env).unwrap_err();
        assert_eq!(err.0[0].attribute, Some(AttrPath::attr("region")));
        assert!(err.0[0].detail.contains("AWS_REGION"));
    }

    #[test]
    fn unknown_values_defer() {
        let cfg = Value::object([
            ("region", Value::string("us-east-1")),
            ("assume_role", Value::object([("role_arn", Value::Unknown)])),
        ]);
        assert_eq!(parse(&cfg, no_env).unwrap(), Parsed::Deferred("assume_role.role_arn".into()));
    }

    #[test]
    fn blocks_as_object_or_list() {
        let endpoints = Value::object([("iam", Value::string("http://127.0.0.1:5555")), ("sts", Value::Null)]);
        let role = Value::object([
            ("role_arn", Value::string("arn:aws:iam::123456789012:role/Terraform")),
            ("session_name", Value::Null),
            ("external_id", Value::string("x")),
        ]);
        let cfg = Value::object([
            ("region", Value::string("us-east-1")),
            ("assume_role", Value::List(vec![role])),
            ("endpoints", endpoints),
        ]);
        let Parsed::Ready(p) = parse(&cfg, no_env).unwrap() else { panic!() };
        assert_eq!(p.endpoints.iam.as_deref(), Some("http://127.0.0.1:5555"));
        assert_eq!(p.endpoints.sts, None);
        let ar = p.assume_role.unwrap();
        assert_eq!(ar.external_id.as_deref(), Some("x"));
        assert!(!format!("{ar:?}").contains("\"x\""));
    }
}
