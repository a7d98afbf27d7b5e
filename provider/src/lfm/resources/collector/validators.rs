//! `lfm_collector`'s own checks of its configuration at plan time (AWS identifiers such as
//! account IDs and ARNs are checked by `crate::lfm::validators`): the function name, the
//! EventBridge schedule, log retention, `extra_environment`, and the OpenSearch
//! authentication attributes taken together.

use super::environment::{MANAGED_KEYS, RESERVED_KEYS};
use crate::framework::{AttrPath, Diagnostics, Value};
use crate::protocol::hcl::render;

/// `opensearch_auth` values (the collector's `LFM_OPENSEARCH_AUTH`).
pub const OPENSEARCH_AUTH: &[&str] = lfm_schema::contract::opensearch_auth::AUTH_VALUES;

/// `opensearch_sigv4_service` values: a managed domain, a Serverless collection.
pub const SIGV4_SERVICES: &[&str] = lfm_schema::contract::opensearch_auth::SIGV4_SERVICES;

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
                        "opensearch_sigv4_service is {} but opensearch_domain_arn is an {} ARN ({arn}). Use an es domain ARN (arn:aws:es:REGION:ACCOUNT:domain/NAME) with \"es\", or a collection ARN (arn:aws:aoss:REGION:ACCOUNT:collection/ID) with \"aoss\".",
                        render(&Value::string(service)),
                        render(&Value::string(arn_service)),
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

/// EventBridge schedule syntax: `rate(N unit)` or `cron(6 fields)` with `?` in exactly one of
/// day-of-month and day-of-week. EventBridge's rules
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html>):
/// a rate's value is a positive integer, its unit singular for 1 (`minute`, `hour`, `day`) and
/// plural above; a cron expression has six fields (minutes, hours, day-of-month, month,
/// day-of-week, year), and "you can't specify the Day-of-month and Day-of-week fields in the
/// same cron expression. If you specify a value or a * (asterisk) in one of the fields, you
/// must use a ? (question mark) in the other."
pub fn valid_schedule(v: &Value) -> Result<(), String> {
    const SYNTAX: &str = "an EventBridge schedule: rate(1 minute), rate(N minutes|hours|days) with N > 1, or cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR), e.g. \"rate(5 minutes)\" or \"cron(0/5 * * * ? *)\"";
    const EXAMPLES: &str = "e.g. \"cron(0/5 * * * ? *)\" (every 5 minutes) or \"cron(0 6 ? * MON-FRI *)\" (weekdays at 06:00 UTC); see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html";
    let s = v.as_str().unwrap_or_default();
    let rate = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')'));
    let cron = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')'));
    if let Some(r) = rate {
        let ok = match r.split_once(' ') {
            Some((n, unit)) => match n.parse::<u32>() {
                Ok(1) => ["minute", "hour", "day"].contains(&unit),
                Ok(n) if n > 1 => ["minutes", "hours", "days"].contains(&unit),
                _ => false,
            },
            None => false,
        };
        return if ok { Ok(()) } else { Err(SYNTAX.into()) };
    }
    let Some(c) = cron else { return Err(SYNTAX.into()) };
    let fields: Vec<&str> = c.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!("{SYNTAX}; this cron expression has {} fields, EventBridge's have 6", fields.len()));
    }
    let (day_of_month, day_of_week) = (fields[2], fields[4]);
    if (day_of_month == "?") == (day_of_week == "?") {
        return Err(format!(
            "must have ? in exactly one of day-of-month (3rd field, here {day_of_month}) and day-of-week (5th field, here {day_of_week}): EventBridge refuses a cron expression that sets both or neither. Put ? in the one you do not use; {EXAMPLES}"
        ));
    }
    if let Some(i) = (0..fields.len()).find(|&i| fields[i].contains('?') && (fields[i] != "?" || (i != 2 && i != 4))) {
        return Err(format!("must use ? only as a whole day-of-month or day-of-week field, not in field {} ({}); {EXAMPLES}", i + 1, fields[i]));
    }
    Ok(())
}

/// `monitored_account_ids`: each account once (a repeated ID would be collected twice and
/// listed twice in the execution role's policy).
pub fn unique_account_ids(v: &Value) -> Result<(), String> {
    let ids = v.elements();
    let mut repeated: Vec<&str> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id.as_str() else { continue };
        if ids[..i].iter().any(|earlier| earlier.as_str() == Some(id)) && !repeated.contains(&id) {
            repeated.push(id);
        }
    }
    if repeated.is_empty() {
        return Ok(());
    }
    let listed = repeated.iter().map(|id| render(&Value::string(*id))).collect::<Vec<_>>().join(", ");
    Err(format!(
        "must list each account once; {listed} {} more than once. Remove the repeated entries (with a computed list, wrap it in distinct(...)).",
        if repeated.len() == 1 { "appears" } else { "appear" }
    ))
}

/// Retention values CloudWatch Logs accepts (PutRetentionPolicy).
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 6, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub fn valid_retention(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if LOG_RETENTION_DAYS.contains(&n) => Ok(()),
        _ => Err(format!(
            "one of the retention periods CloudWatch Logs accepts: {}",
            LOG_RETENTION_DAYS.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
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
            return Err(format!("must not use the key {}: Lambda takes keys of 2 or more letters, digits and _ starting with a letter.", render(&Value::string(key))));
        }
    }
    Ok(())
}

/// Validator of `alert_secret_parameter_arns` elements: an SSM parameter ARN,
/// `arn:PARTITION:ssm:REGION:ACCOUNT_ID:parameter/NAME` (for a name beginning with `/` the ARN
/// has `parameter/` followed by the name without its first `/`:
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html#awssystemsmanager-resources-for-iam-policies>).
pub fn ssm_parameter_arn(v: &Value) -> Result<(), String> {
    let arn = v.as_str().unwrap_or_default();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        ["arn", partition, "ssm", region, account, resource]
            if !partition.is_empty() && !region.is_empty() && crate::lfm::validators::is_account_id(account)
                && resource.strip_prefix("parameter/").is_some_and(|n| !n.is_empty()) => Ok(()),
        _ => Err("must be an SSM parameter ARN: arn:PARTITION:ssm:REGION:ACCOUNT_ID:parameter/NAME, e.g. lfm_alert_destination's secret_parameter_arn".into()),
    }
}
