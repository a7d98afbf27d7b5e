//! The pure part of `lfm_collector`: names and ARNs, the function's environment, the
//! execution role's policy, input checks, the plan, and state from what AWS holds. No AWS
//! calls here, so all of it is unit-tested (see `tests.rs`).

use crate::framework::{AttrPath, Diagnostics, Value};
use crate::lfm::monitored_account::model::keep_equivalent;
use lfm_schema::contract;
use serde_json::json;
use std::collections::BTreeMap;

/// Every attribute of the resource, in schema order (state objects carry all of them).
pub const ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "package_path",
    "package_sha256",
    "architecture",
    "memory_mb",
    "timeout_s",
    "schedule_expression",
    "enabled",
    "monitored_account_ids",
    "role_name",
    "external_id",
    "regions",
    "opensearch_url",
    "opensearch_domain_arn",
    "opensearch_username",
    "opensearch_password",
    "opensearch_auth",
    "opensearch_sigv4_service",
    "index_prefix",
    "extra_environment",
    "log_retention_days",
    "role_propagation_timeout_s",
    "function_arn",
    "role_arn",
    "rule_arn",
    "log_group_name",
    "policy_json",
    "environment",
    "schedule_target_arn",
    "invoke_permission_source_arn",
    "last_modified",
];

pub const DEFAULT_NAME: &str = "lfm-collector";
pub const DEFAULT_SCHEDULE: &str = "rate(5 minutes)";
pub use lfm_schema::contract::DEFAULT_INDEX_PREFIX;
/// The execution role's inline policy.
pub const POLICY_NAME: &str = "LfmCollectorPolicy";
/// The EventBridge target ID and the Lambda permission statement ID.
pub const TARGET_ID: &str = "lfm-collector";
pub const PERMISSION_SID: &str = "lfm-schedule";
/// Lambda takes at most 50 MB of zipped code in the request itself (larger goes through S3).
pub const MAX_DIRECT_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
/// Lambda's limit on the total size of a function's environment variables.
pub const MAX_ENVIRONMENT_BYTES: usize = 4 * 1024;

/// Retention values CloudWatch Logs accepts (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 6, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Keys the Lambda runtime sets itself; a function configuration that sets one is rejected by
/// CreateFunction/UpdateFunctionConfiguration. From "Defined runtime environment variables",
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
pub const RESERVED_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

/// The collector's `LFM_*` variables this resource sets, and the attribute each comes from
/// (the contract's settings with a provider attribute).
pub static MANAGED_KEYS: std::sync::LazyLock<Vec<(&'static str, &'static str)>> = std::sync::LazyLock::new(|| {
    contract::provider_settings()
        .map(|s| (s.env, s.provider_attribute.expect("provider settings have one")))
        .collect()
});

/// `opensearch_auth` values (the collector's `LFM_OPENSEARCH_AUTH`).
pub const OPENSEARCH_AUTH: &[&str] = contract::opensearch_auth::AUTH_VALUES;
/// `opensearch_sigv4_service` values: a managed domain, a Serverless collection.
pub const SIGV4_SERVICES: &[&str] = contract::opensearch_auth::SIGV4_SERVICES;

/// The authentication attributes checked together (the collector refuses the same mistakes at
/// run time; here they fail the plan). Unknown values are not checked yet.
pub fn validate_opensearch_auth(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let attrs = [
        "opensearch_auth",
        "opensearch_sigv4_service",
        "opensearch_username",
        "opensearch_password",
        "opensearch_domain_arn",
    ];
    if attrs.iter().any(|a| config.get(a).is_unknown()) {
        return diags;
    }
    let set = |a: &str| config.get(a).as_str().is_some_and(|s| !s.is_empty());
    let auth = config.get("opensearch_auth").as_str().map(str::to_owned);
    let mut error = |attr: &str, summary: &str, detail: String| {
        diags.extend(Diagnostics::attribute_error(
            AttrPath::attr(attr),
            summary.to_owned(),
            detail,
        ));
    };
    match auth.as_deref() {
        Some("sigv4") => {
            for attr in ["opensearch_username", "opensearch_password"] {
                if set(attr) {
                    error(attr, "Conflicting OpenSearch authentication", format!(
                        "opensearch_auth = \"sigv4\" signs requests with the execution role's AWS credentials; {attr} is for basic auth. Remove opensearch_username and opensearch_password, or set opensearch_auth = \"basic\"."
                    ));
                }
            }
            let service = config.get("opensearch_sigv4_service").as_str().unwrap_or("es");
            if let Some(arn) = config.get("opensearch_domain_arn").as_str() {
                let arn_service = arn.split(':').nth(2).unwrap_or_default();
                if arn_service != service {
                    error("opensearch_domain_arn", "OpenSearch ARN and SigV4 service disagree", format!(
                        "opensearch_sigv4_service is {service:?} but opensearch_domain_arn is an {arn_service:?} ARN ({arn}). Use an es domain ARN (arn:aws:es:REGION:ACCOUNT:domain/NAME) with \"es\", or a collection ARN (arn:aws:aoss:REGION:ACCOUNT:collection/ID) with \"aoss\"."
                    ));
                }
            }
        }
        Some("basic") if !set("opensearch_username") => error(
            "opensearch_username",
            "Missing OpenSearch user",
            "opensearch_auth = \"basic\" needs opensearch_username and opensearch_password. Set them, or use opensearch_auth = \"sigv4\" for a domain with IAM access control.".to_owned(),
        ),
        _ => {}
    }
    if set("opensearch_sigv4_service") && auth.as_deref() != Some("sigv4") {
        error("opensearch_sigv4_service", "opensearch_sigv4_service without SigV4", "opensearch_sigv4_service is only used with opensearch_auth = \"sigv4\". Set opensearch_auth = \"sigv4\" or remove it.".to_owned());
    }
    if set("opensearch_password") && !set("opensearch_username") && auth.as_deref() != Some("sigv4")
    {
        error(
            "opensearch_username",
            "Missing OpenSearch user",
            "opensearch_password is set but opensearch_username is not: basic auth needs both."
                .to_owned(),
        );
    }
    diags
}

/// Where the resource lives: the provider's partition, account and region.
#[derive(Clone, Debug, PartialEq)]
pub struct Home {
    pub partition: String,
    pub account_id: String,
    pub region: String,
}

/// The AWS names and ARNs of everything the resource makes, all derived from `name`.
#[derive(Clone, Debug, PartialEq)]
pub struct Names {
    pub function: String,
    pub role: String,
    pub rule: String,
    pub log_group: String,
}

impl Names {
    pub fn new(name: &str) -> Names {
        Names {
            function: name.to_owned(),
            role: name.to_owned(),
            rule: format!("{name}-schedule"),
            log_group: format!("/aws/lambda/{name}"),
        }
    }
    pub fn function_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            h.partition, h.region, h.account_id, self.function
        )
    }
    pub fn role_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            h.partition, h.account_id, self.role
        )
    }
    pub fn rule_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:events:{}:{}:rule/{}",
            h.partition, h.region, h.account_id, self.rule
        )
    }
    pub fn log_group_arn(&self, h: &Home) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{}",
            h.partition, h.region, h.account_id, self.log_group
        )
    }
}

/// `name`: a Lambda function name short enough that `{name}-schedule` is a valid rule name
/// and `{name}` a valid IAM role name.
pub fn valid_name(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    if (1..=55).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err("1 to 55 letters, digits, - or _ (it names the function, its execution role and the EventBridge rule `<name>-schedule`)".into())
    }
}

/// EventBridge schedule syntax: `rate(N unit)` or `cron(6 fields)`.
pub fn valid_schedule(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    let rate = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')'));
    let cron = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')'));
    let ok = match (rate, cron) {
        (Some(r), _) => match r.split_once(' ') {
            Some((n, unit)) => match n.parse::<u32>() {
                Ok(1) => ["minute", "hour", "day"].contains(&unit),
                Ok(n) if n > 1 => ["minutes", "hours", "days"].contains(&unit),
                _ => false,
            },
            None => false,
        },
        (None, Some(c)) => c.split_whitespace().count() == 6,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("an EventBridge schedule: rate(1 minute), rate(N minutes|hours|days) with N > 1, or cron(MIN HOUR DOM MONTH DOW YEAR), e.g. \"rate(5 minutes)\" or \"cron(0/5 * * * ? *)\"".into())
    }
}

pub fn valid_retention(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if LOG_RETENTION_DAYS.contains(&n) => Ok(()),
        _ => Err(format!(
            "one of the retention periods CloudWatch Logs accepts: {LOG_RETENTION_DAYS:?}"
        )),
    }
}

pub fn non_empty_list(v: &Value) -> Result<(), String> {
    if v.elements().is_empty() {
        Err("must list at least one element".into())
    } else {
        Ok(())
    }
}

/// `extra_environment`: keys Lambda accepts (letters, digits, `_`, starting with a letter),
/// none reserved by the Lambda runtime, none of the `LFM_*` keys set from other attributes.
pub fn valid_extra_environment(v: &Value) -> Result<(), String> {
    let Value::Map(entries) = v else {
        return Ok(());
    };
    for key in entries.keys() {
        if RESERVED_KEYS.contains(&key.as_str()) || key.starts_with("AWS_LAMBDA_") {
            return Err(format!(
                "must not set {key}: the Lambda runtime defines it and CreateFunction rejects a configuration that sets it (reserved keys: {}; see \"Defined runtime environment variables\" in the Lambda developer guide). Remove it; the collector reads its region from the runtime.",
                RESERVED_KEYS.join(", ")
            ));
        }
        if let Some((_, attr)) = MANAGED_KEYS.iter().find(|(k, _)| k == key) {
            return Err(format!("must not set {key}: lfm_collector sets it from `{attr}`; set that attribute instead."));
        }
        let mut chars = key.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && key.len() >= 2
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return Err(format!("must not use the key {key:?}: Lambda takes keys of 2 or more letters, digits and _ starting with a letter."));
        }
    }
    Ok(())
}

/// The function's environment from the inputs; `None` while one of them is unknown.
pub fn desired_environment(v: &Value) -> Option<BTreeMap<String, String>> {
    let inputs = [
        "monitored_account_ids",
        "role_name",
        "external_id",
        "regions",
        "opensearch_url",
        "opensearch_username",
        "opensearch_password",
        "opensearch_auth",
        "opensearch_sigv4_service",
        "index_prefix",
        "extra_environment",
    ];
    if inputs.iter().any(|a| v.get(a).contains_unknown()) {
        return None;
    }
    let mut env = BTreeMap::new();
    if let Value::Map(extra) = v.get("extra_environment") {
        for (k, val) in extra {
            env.insert(k.clone(), val.as_str().unwrap_or_default().to_owned());
        }
    }
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|s| !s.is_empty()) {
            env.insert(key.to_owned(), value);
        }
    };
    // Every variable from the contract's table: a list attribute joined by commas.
    for setting in contract::provider_settings() {
        let attribute = setting.provider_attribute.expect("provider settings have one");
        let value = if setting.list {
            Some(v.get(attribute).strings().join(","))
        } else {
            v.get(attribute).as_str().map(str::to_owned)
        };
        put(setting.env, value);
    }
    Some(env)
}

/// Bytes Lambda counts against its 4 KB environment limit (keys plus values).
pub fn environment_size(env: &BTreeMap<String, String>) -> usize {
    env.iter().map(|(k, v)| k.len() + v.len()).sum()
}

pub fn environment_value(env: &BTreeMap<String, String>) -> Value {
    Value::Map(
        env.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// The execution role's inline policy: sts:AssumeRole on exactly the monitoring roles,
/// writing its own log group, and (when a domain is given) HTTP on that OpenSearch domain: the
/// collector GETs, HEADs, PUTs (templates, mappings), POSTs (`_bulk`, `_mget`) and DELETEs
/// (retention drops old daily indices). An OpenSearch Serverless collection ARN (`aoss`) gets
/// `aoss:APIAccessAll`, the one IAM action for its data plane (what it may do inside the
/// collection is then the collection's data access policy).
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
    let names = Names::new(name.as_str()?);
    let role_name = role.as_str()?;
    let roles: Vec<String> = ids
        .strings()
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
    if let Some(domain) = domain.as_str() {
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
    Some(json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}

/// Who may assume the execution role: the Lambda service.
pub fn trust_policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()
}

/// The package as Lambda will report it: base64 (standard, padded) of its SHA-256
/// (`CodeSha256`). `path` names the attribute in errors.
pub fn package_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Read and check the package: a zip with a `bootstrap` entry the provided.al2023 runtime can
/// start on `architecture` (when known; see [`super::package`]), small enough for a direct upload.
pub fn read_package(path: &str, architecture: Option<&str>) -> Result<Vec<u8>, Diagnostics> {
    let bad = |summary: String, detail: String| {
        Diagnostics::attribute_error(AttrPath::attr("package_path"), summary, detail)
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        bad(
            format!("Cannot read the collector package {path}"),
            format!("{e}. Build it first (scripts/package-collector prints its path), or fix package_path."),
        )
    })?;
    if meta.len() > MAX_DIRECT_UPLOAD_BYTES {
        return Err(bad(
            format!("The collector package {path} is too large"),
            format!("{} bytes; Lambda takes at most {MAX_DIRECT_UPLOAD_BYTES} bytes of zipped code in the request. Build a release package (stripped) with scripts/package-collector.", meta.len()),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        bad(
            format!("Cannot read the collector package {path}"),
            e.to_string(),
        )
    })?;
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(bad(format!("{path} is not a zip file"), "package_path must be the zip built by scripts/package-collector (a `bootstrap` executable at the top level).".into()));
    }
    let Some(bootstrap) = super::package::inspect(&bytes, "bootstrap") else {
        return Err(bad(
            format!("{path} has no `bootstrap` entry"),
            "The provided.al2023 runtime starts the executable named `bootstrap` at the top of the zip; build the package with scripts/package-collector.".into(),
        ));
    };
    if let Some(problem) = architecture.and_then(|a| super::package::problem(&bootstrap, a)) {
        return Err(bad(
            format!("The collector package {path} cannot run on provided.al2023"),
            problem,
        ));
    }
    Ok(bytes)
}

/// Fill the computed attributes of a plan. `package_sha256` is the hash of the file at
/// `package_path` (`None`: the path is not known yet); `home` the provider's partition,
/// account and region (`None`: the provider is not configured yet).
pub fn plan(
    mut planned: Value,
    prior: Option<&Value>,
    package_sha256: Option<String>,
    home: Option<&Home>,
) -> Value {
    let prior_attr = |name: &str| prior.map(|p| p.get(name).clone()).unwrap_or(Value::Null);
    planned.set(
        "package_sha256",
        package_sha256.map(Value::String).unwrap_or(Value::Unknown),
    );
    planned.set(
        "environment",
        desired_environment(&planned)
            .map(|e| environment_value(&e))
            .unwrap_or(Value::Unknown),
    );
    let policy = home.and_then(|h| desired_policy(&planned, h));
    planned.set(
        "policy_json",
        match policy {
            Some(doc) => keep_equivalent(&prior_attr("policy_json"), doc),
            None => Value::Unknown,
        },
    );
    let name = planned.get("name").as_str().map(Names::new);
    planned.set(
        "id",
        name.as_ref()
            .map(|n| Value::string(&n.function))
            .unwrap_or(Value::Unknown),
    );
    planned.set(
        "log_group_name",
        name.as_ref()
            .map(|n| Value::string(&n.log_group))
            .unwrap_or(Value::Unknown),
    );
    let arns = match (&name, home) {
        (Some(n), Some(h)) => Some((n.function_arn(h), n.role_arn(h), n.rule_arn(h))),
        _ => None,
    };
    let (function, role, rule) = match arns {
        Some((f, r, e)) => (Value::String(f), Value::String(r), Value::String(e)),
        None => (Value::Unknown, Value::Unknown, Value::Unknown),
    };
    planned.set("function_arn", function.clone());
    planned.set("role_arn", role);
    planned.set("rule_arn", rule.clone());
    planned.set("schedule_target_arn", function);
    planned.set("invoke_permission_source_arn", rule);
    // Any change rewrites the function, which gives it a new LastModified.
    let mut unchanged = prior.is_some();
    if let Some(p) = prior {
        unchanged = ATTRIBUTES
            .iter()
            .filter(|a| **a != "last_modified")
            .all(|a| planned.get(a) == p.get(a));
    }
    planned.set(
        "last_modified",
        if unchanged {
            prior_attr("last_modified")
        } else {
            Value::Unknown
        },
    );
    planned
}

/// The collector function as Lambda holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionFacts {
    pub function_arn: String,
    pub role_arn: String,
    pub architecture: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    pub code_sha256: String,
    pub last_modified: String,
    pub environment: BTreeMap<String, String>,
}

/// Everything `read` finds: the function (required), and the parts around it, each `None`
/// when it is missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub function: FunctionFacts,
    /// The execution role's inline policy, decoded.
    pub policy: Option<String>,
    /// (ARN, schedule expression, enabled) of the rule.
    pub rule: Option<(String, String, bool)>,
    /// ARN of the rule's target with ID [`TARGET_ID`].
    pub target_arn: Option<String>,
    /// The SourceArn of the function policy's statement [`PERMISSION_SID`].
    pub permission_source_arn: Option<String>,
    /// (log group name, retention days) when the log group exists.
    pub log_group: Option<(String, Option<i64>)>,
}

/// The SourceArn condition of statement `sid` in a Lambda resource policy.
pub fn permission_source_arn(policy: &str, sid: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(policy).ok()?;
    let statements = doc["Statement"].as_array()?;
    let s = statements.iter().find(|s| s["Sid"] == sid)?;
    let cond = &s["Condition"]["ArnLike"];
    let arn = cond
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("AWS:SourceArn"))?
        .1;
    arn.as_str().map(str::to_owned)
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

/// The state after reading the function and its parts from AWS. User attributes Lambda holds
/// (memory, timeout, architecture) take AWS's values, so a change outside Terraform shows as
/// a diff; computed ones show what exists (null when a part is missing). After an import (no
/// accounts in state yet) the inputs are recovered from the function's environment.
pub fn refreshed_state(current: &Value, facts: &Facts) -> Value {
    let mut state = current.clone();
    for attr in ATTRIBUTES {
        if matches!(state.get(attr), Value::Null) {
            state.set(attr, Value::Null);
        }
    }
    let f = &facts.function;
    state.set("function_arn", Value::string(&f.function_arn));
    state.set("role_arn", Value::string(&f.role_arn));
    state.set("architecture", Value::string(&f.architecture));
    state.set("memory_mb", Value::Number(f.memory_mb as f64));
    state.set("timeout_s", Value::Number(f.timeout_s as f64));
    state.set("package_sha256", Value::string(&f.code_sha256));
    state.set("last_modified", Value::string(&f.last_modified));
    state.set("environment", environment_value(&f.environment));
    state.set(
        "policy_json",
        match &facts.policy {
            Some(doc) => keep_equivalent(current.get("policy_json"), doc.clone()),
            None => Value::Null,
        },
    );
    match &facts.rule {
        Some((arn, schedule, enabled)) => {
            state.set("rule_arn", Value::string(arn));
            state.set("schedule_expression", Value::string(schedule));
            state.set("enabled", Value::Bool(*enabled));
        }
        None => state.set("rule_arn", Value::Null),
    }
    state.set(
        "schedule_target_arn",
        Value::opt_string(facts.target_arn.clone()),
    );
    state.set(
        "invoke_permission_source_arn",
        Value::opt_string(facts.permission_source_arn.clone()),
    );
    match &facts.log_group {
        Some((name, retention)) => {
            state.set("log_group_name", Value::string(name));
            state.set(
                "log_retention_days",
                retention
                    .map(|d| Value::Number(d as f64))
                    .unwrap_or(Value::Null),
            );
        }
        None => state.set("log_group_name", Value::Null),
    }
    if current.get("monitored_account_ids").is_null() {
        adopt_inputs(&mut state, facts);
    }
    state
}

/// After an import: the inputs the function's environment and policy carry.
fn adopt_inputs(state: &mut Value, facts: &Facts) {
    let env = &facts.function.environment;
    let list = |k: &str| {
        Value::string_list(
            env.get(k)
                .map(|s| {
                    s.split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<String>>()
                })
                .unwrap_or_default(),
        )
    };
    let text = |k: &str| Value::opt_string(env.get(k).cloned());
    for setting in contract::provider_settings() {
        let attribute = setting.provider_attribute.expect("provider settings have one");
        state.set(attribute, if setting.list { list(setting.env) } else { text(setting.env) });
    }
    let extra: BTreeMap<String, Value> = env
        .iter()
        .filter(|(k, _)| !MANAGED_KEYS.iter().any(|(m, _)| m == k))
        .map(|(k, v)| (k.clone(), Value::string(v)))
        .collect();
    state.set(
        "extra_environment",
        if extra.is_empty() {
            Value::Null
        } else {
            Value::Map(extra)
        },
    );
    state.set(
        "opensearch_domain_arn",
        Value::opt_string(facts.policy.as_deref().and_then(domain_from_policy)),
    );
    if state.get("role_propagation_timeout_s").is_null() {
        state.set("role_propagation_timeout_s", Value::Number(120.0));
    }
}

/// The state an import starts from; `read` fills in the rest.
pub fn import_state(name: &str) -> Result<Value, Diagnostics> {
    if valid_name(&Value::string(name)).is_err() {
        return Err(Diagnostics::error(
            format!("Invalid import ID {name:?} for lfm_collector"),
            "The import ID is the collector's function name (1 to 55 letters, digits, - or _), e.g. `terraform import lfm_collector.this lfm-collector`.",
        ));
    }
    let mut state = Value::object(ATTRIBUTES.iter().map(|a| (*a, Value::Null)));
    state.set("id", Value::string(name));
    state.set("name", Value::string(name));
    Ok(state)
}
