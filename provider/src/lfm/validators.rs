//! AWS-specific attribute validators: you are where LFM's schemas get their checks of AWS
//! identifiers. They are ordinary [`Validator`] values (generic ones such as `Regex`,
//! `OneOf` and `IntRange` live in `crate::framework`), attached to attributes in the
//! resources' and data sources' schemas; `crate::protocol::validate` runs them at plan time
//! and turns a failure into `Invalid value for "<attribute>": <expectation>`.

use crate::framework::{Validator, Value};

/// 12-digit AWS account ID.
pub const ACCOUNT_ID: Validator = Validator::Custom(account_id);
/// IAM role name: 1-64 chars of `[\w+=,.@-]`.
pub const IAM_ROLE_NAME: Validator = Validator::Custom(iam_role_name);
/// Any ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
pub const ARN: Validator = Validator::Custom(arn);
/// An AWS region name such as `eu-west-1`.
pub const REGION: Validator = Validator::Regex { pattern: r"[a-z]{2}(-[a-z]+)+-\d", message: "an AWS region such as eu-west-1" };
/// An AWS Organizations ID (`o-...`).
pub const ORGANIZATION_ID: Validator =
    Validator::Regex { pattern: r"o-[a-z0-9]{10,32}", message: "an AWS Organizations ID: o- followed by 10 to 32 lowercase letters or digits" };
/// sts:ExternalId: 2-1224 characters of `[\w+=,.@:/-]` (a custom check: as a regex the
/// repetition count makes the compiled automaton too large).
pub const EXTERNAL_ID: Validator = Validator::Custom(valid_external_id);
/// A non-empty list of principal ARNs (`monitoring_principal_arns`).
pub const AT_LEAST_ONE_PRINCIPAL: Validator = Validator::Custom(at_least_one_principal);

/// True for a 12-digit AWS account ID.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "expected a string".to_owned())
}

fn account_id(value: &Value) -> Result<(), String> {
    if is_account_id(string(value)?) {
        Ok(())
    } else {
        Err("expected a 12-digit AWS account ID".to_owned())
    }
}

fn iam_role_name(value: &Value) -> Result<(), String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"^[\w+=,.@-]{1,64}$").expect("valid regex"));
    if re.is_match(string(value)?) {
        Ok(())
    } else {
        Err("expected an IAM role name: 1 to 64 letters, digits or +=,.@_-".to_owned())
    }
}

fn arn(value: &Value) -> Result<(), String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+$").expect("valid regex"));
    if re.is_match(string(value)?) {
        Ok(())
    } else {
        Err("expected an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)".to_owned())
    }
}

fn valid_external_id(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    let chars_ok = s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
    if (2..=1224).contains(&s.len()) && chars_ok {
        Ok(())
    } else {
        Err("must be 2 to 1224 characters of letters, digits and _+=,.@:/- (what sts:ExternalId accepts)".into())
    }
}

/// A non-empty list of principal ARNs (the resource and the data source share it).
pub fn at_least_one_principal(v: &Value) -> Result<(), String> {
    if v.elements().is_empty() {
        Err("must list at least one principal ARN (the role or account the LFM collector runs as), e.g. arn:aws:iam::123456789012:role/lfm-collector.".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::validate::run_validator;

    #[test]
    fn validators_check_types_and_arns() {
        assert!(run_validator(&ACCOUNT_ID, &Value::Number(1.0)).unwrap_err().contains("string"));
        assert!(run_validator(&ACCOUNT_ID, &Value::string("123456789012")).is_ok());
        assert_eq!(run_validator(&ACCOUNT_ID, &Value::string("12345")).unwrap_err(), "expected a 12-digit AWS account ID");
        assert!(run_validator(&ARN, &Value::string("arn:aws:lambda:us-east-1:123456789012:function:f")).is_ok());
        assert!(run_validator(&ARN, &Value::string("role/x")).is_err());
        assert!(run_validator(&IAM_ROLE_NAME, &Value::string("OrganizationAccountAccessRole")).is_ok());
        assert!(run_validator(&IAM_ROLE_NAME, &Value::string("a".repeat(65))).is_err());
        assert!(run_validator(&IAM_ROLE_NAME, &Value::string("a b")).is_err());
        assert!(run_validator(&REGION, &Value::string("eu-west-1")).is_ok());
        assert!(run_validator(&REGION, &Value::string("mars")).is_err());
    }
}
