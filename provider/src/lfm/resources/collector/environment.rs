//! The environment contract with the collector: the `LFM_*` variables `lfm_collector` sets
//! on the function (and from which attribute each comes), the keys the Lambda runtime
//! reserves, and Lambda's size limit on the environment.

use crate::framework::Value;
use lfm_schema::contract;
use std::collections::BTreeMap;

/// The collector's `LFM_*` variables this resource sets, and the attribute each comes from
/// (the contract's settings with a provider attribute).
pub static MANAGED_KEYS: std::sync::LazyLock<Vec<(&'static str, &'static str)>> = std::sync::LazyLock::new(|| {
    contract::provider_settings()
        .map(|s| (s.env, s.provider_attribute.expect("provider settings have one")))
        .collect()
});

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

/// Lambda's limit on the total size of a function's environment variables.
pub const MAX_ENVIRONMENT_BYTES: usize = 4 * 1024;

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
