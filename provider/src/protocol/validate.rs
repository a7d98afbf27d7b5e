//! Generic configuration validation (Validate*Config): required-ness, nested block counts and
//! every attribute's [`Validator`]s, each failure a diagnostic pointing at the attribute.
//!
//! Unknown values (known only at apply) and nulls are skipped: validators judge what the
//! user wrote, and Terraform validates again once values are known. The resource's own
//! cross-attribute `validate()` runs after these checks (see `service.rs`).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use super::diagnostics::display_path;
use crate::framework::{
    AttrPath, Attribute, Block, Diagnostic, Diagnostics, Nesting, Severity, Validator, Value,
};

/// Validates `config` (an object of `block`'s type) and returns one diagnostic per problem.
pub fn validate_config(block: &Block, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    if matches!(config, Value::Object(_)) {
        validate_block(block, config, &AttrPath::default(), &mut diags);
    }
    diags
}

fn validate_block(block: &Block, config: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for attr in &block.attributes {
        let attr_path = path.clone().then_attr(&attr.name);
        let value = config.get(&attr.name);
        if value.is_null() {
            if attr.required {
                diags.push(error(
                    &attr_path,
                    format!("Missing required argument \"{}\"", display_path(&attr_path)),
                    if attr.description.is_empty() {
                        "The argument must be set.".to_owned()
                    } else {
                        format!("The argument must be set: {}", attr.description)
                    },
                ));
            }
            continue;
        }
        for validator in &attr.validators {
            check(attr, validator, value, &attr_path, diags);
        }
    }
    for nested in &block.blocks {
        let block_path = path.clone().then_attr(&nested.name);
        let value = config.get(&nested.name);
        let shown = display_path(&block_path);
        match nested.nesting {
            Nesting::Single => {
                if value.is_null() && nested.min_items > 0 {
                    diags.push(error(
                        &block_path,
                        format!("Missing required block \"{shown}\""),
                        "Add one such block.",
                    ));
                }
                if matches!(value, Value::Object(_)) {
                    validate_block(&nested.block, value, &block_path, diags);
                }
            }
            Nesting::List | Nesting::Set => {
                let (Value::List(items) | Value::Set(items)) = value else {
                    continue; // null or unknown (dynamic blocks): nothing to count yet
                };
                let n = items.len() as i64;
                if n < nested.min_items {
                    diags.push(error(
                        &block_path,
                        format!(
                            "Too few \"{shown}\" blocks: expected at least {}",
                            nested.min_items
                        ),
                        format!("Found {n}."),
                    ));
                }
                if nested.max_items > 0 && n > nested.max_items {
                    diags.push(error(
                        &block_path,
                        format!(
                            "Too many \"{shown}\" blocks: expected at most {}",
                            nested.max_items
                        ),
                        format!("Found {n}."),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    // Set elements have no index Terraform could point at; stop at the block.
                    let item_path = if nested.nesting == Nesting::List {
                        block_path.clone().then_index(i as i64)
                    } else {
                        block_path.clone()
                    };
                    if matches!(item, Value::Object(_)) {
                        validate_block(&nested.block, item, &item_path, diags);
                    }
                }
            }
        }
    }
}

fn check(
    attr: &Attribute,
    validator: &Validator,
    value: &Value,
    path: &AttrPath,
    diags: &mut Diagnostics,
) {
    if value.is_null() || value.is_unknown() {
        return;
    }
    if let Validator::Each(inner) = validator {
        match value {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(attr, inner, item, &path.clone().then_index(i as i64), diags);
                }
            }
            Value::Set(items) => {
                for item in items {
                    check(attr, inner, item, path, diags);
                }
            }
            Value::Map(entries) => {
                for (k, item) in entries {
                    check(attr, inner, item, &path.clone().then_key(k), diags);
                }
            }
            _ => diags.push(error(
                path,
                format!(
                    "Invalid value for \"{}\": expected a collection",
                    display_path(path)
                ),
                "",
            )),
        }
        return;
    }
    if let Err(expected) = run_validator(validator, value) {
        // Never echo a secret back into the terminal or CI logs.
        let detail = match (attr.sensitive, value) {
            (true, _) => "The value is sensitive and not shown.".to_owned(),
            (false, value) => format!("Got {}.", super::hcl::render(value)),
        };
        diags.push(error(
            path,
            format!("Invalid value for \"{}\": {expected}", display_path(path)),
            detail,
        ));
    }
}

/// Runs one (non-`Each`) validator on a known, non-null value. The error completes the
/// sentence `Invalid value for "attr": ...` and says what is expected.
pub fn run_validator(validator: &Validator, value: &Value) -> Result<(), String> {
    let string = || value.as_str().ok_or_else(|| "expected a string".to_owned());
    match validator {
        Validator::Regex { pattern, message } => {
            if full_match(pattern, string()?) {
                Ok(())
            } else {
                Err(expectation(message))
            }
        }
        Validator::OneOf(allowed) => {
            if allowed.contains(&string()?) {
                Ok(())
            } else {
                let list = allowed
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(format!("expected one of {list}"))
            }
        }
        Validator::IntRange { min, max } => match value.as_i64() {
            Some(n) if (*min..=*max).contains(&n) => Ok(()),
            _ => Err(format!("expected a whole number from {min} to {max}")),
        },
        Validator::Each(inner) => value
            .elements()
            .iter()
            .try_for_each(|v| run_validator(inner, v)),
        Validator::Custom(f) => f(value).map_err(|m| expectation(&m)),
    }
}

/// Author-written messages either already say "expected ..."/"must ..." or name the
/// expected thing ("a lowercase name"); the latter read best after "expected".
fn expectation(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if [
        "expected", "must", "should", "cannot", "can't", "is not", "not ",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        message.to_owned()
    } else {
        format!("expected {message}")
    }
}

fn full_match(pattern: &'static str, s: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Regex>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let re = cache.entry(pattern).or_insert_with(|| {
        Regex::new(&format!("^(?:{pattern})$"))
            .unwrap_or_else(|e| panic!("invalid validator regex {pattern:?}: {e}"))
    });
    re.is_match(s)
}

fn error(path: &AttrPath, summary: String, detail: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        summary,
        detail: detail.into(),
        attribute: Some(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttrType, NestedBlock, PathStep};

    /// Generic stand-ins for the provider's own validators (`crate::lfm::validators`).
    const TWELVE_DIGITS: Validator = Validator::Regex { pattern: r"\d{12}", message: "a 12-digit AWS account ID" };
    const NAME: Validator = Validator::Regex { pattern: r"[\w+=,.@-]{1,64}", message: "an IAM role name" };
    const ARN: Validator = Validator::Regex { pattern: r"arn:.+", message: "an ARN" };

    fn block() -> Block {
        Block::new("")
            .attr(
                Attribute::string("account_id")
                    .required()
                    .validate(TWELVE_DIGITS),
            )
            .attr(
                Attribute::string("role_name")
                    .optional()
                    .validate(NAME),
            )
            .attr(
                Attribute::string("secret")
                    .optional()
                    .sensitive()
                    .validate(Validator::Regex {
                        pattern: "[a-z]+",
                        message: "lowercase letters",
                    }),
            )
            .attr(
                Attribute::list_of("regions", AttrType::String)
                    .optional()
                    .validate(Validator::Each(Box::new(Validator::OneOf(&[
                        "us-east-1",
                        "eu-west-1",
                    ])))),
            )
            .attr(
                Attribute::number("period")
                    .optional()
                    .validate(Validator::IntRange { min: 60, max: 3600 }),
            )
            .attr(Attribute::string("arn").optional().validate(ARN))
            .block(NestedBlock::list(
                "sink",
                Block::new("").attr(
                    Attribute::string("account")
                        .required()
                        .validate(TWELVE_DIGITS),
                ),
            ))
    }

    fn good() -> Value {
        Value::object([
            ("account_id", Value::string("123456789012")),
            ("role_name", Value::string("OrganizationAccountAccessRole")),
            ("regions", Value::string_list(["us-east-1"])),
            ("period", Value::Number(300.0)),
            ("arn", Value::string("arn:aws:iam::123456789012:role/x")),
            (
                "sink",
                Value::List(vec![Value::object([(
                    "account",
                    Value::string("210987654321"),
                )])]),
            ),
        ])
    }

    #[test]
    fn a_valid_config_has_no_diagnostics() {
        assert!(validate_config(&block(), &good()).is_empty());
    }

    #[test]
    fn each_failure_names_the_attribute_and_what_is_expected() {
        let mut cfg = good();
        cfg.set("account_id", Value::string("12345"));
        cfg.set("regions", Value::string_list(["us-east-1", "mars-1"]));
        cfg.set("period", Value::Number(30.0));
        cfg.set("secret", Value::string("NOPE"));
        cfg.set(
            "sink",
            Value::List(vec![Value::object([("account", Value::string("x"))])]),
        );
        let diags = validate_config(&block(), &cfg);
        let summaries: Vec<_> = diags.0.iter().map(|d| d.summary.as_str()).collect();
        assert!(
            summaries
                .contains(&"Invalid value for \"account_id\": expected a 12-digit AWS account ID"),
            "{summaries:?}"
        );
        assert!(
            summaries.contains(
                &"Invalid value for \"regions[1]\": expected one of \"us-east-1\", \"eu-west-1\""
            ),
            "{summaries:?}"
        );
        assert!(summaries
            .contains(&"Invalid value for \"period\": expected a whole number from 60 to 3600"));
        assert!(summaries.contains(&"Invalid value for \"secret\": expected lowercase letters"));
        assert!(summaries.contains(
            &"Invalid value for \"sink[0].account\": expected a 12-digit AWS account ID"
        ));
        let regions = diags
            .0
            .iter()
            .find(|d| d.summary.contains("regions"))
            .unwrap();
        assert_eq!(
            regions.attribute.as_ref().unwrap().0,
            vec![PathStep::Attr("regions".into()), PathStep::Index(1)]
        );
        let secret = diags
            .0
            .iter()
            .find(|d| d.summary.contains("secret"))
            .unwrap();
        assert!(!secret.detail.contains("NOPE"));
        assert_eq!(diags.0.len(), 5);
    }

    #[test]
    fn unknown_and_null_values_are_skipped_but_required_is_enforced() {
        let mut cfg = good();
        cfg.set("period", Value::Unknown);
        cfg.set(
            "regions",
            Value::List(vec![Value::Unknown, Value::string("us-east-1")]),
        );
        cfg.set("role_name", Value::Null);
        assert!(validate_config(&block(), &cfg).is_empty());
        cfg.set("account_id", Value::Null);
        let diags = validate_config(&block(), &cfg);
        assert_eq!(
            diags.0[0].summary,
            "Missing required argument \"account_id\""
        );
    }

    #[test]
    fn block_counts_are_checked() {
        let b = Block::new("").block(NestedBlock {
            min_items: 1,
            max_items: 2,
            ..NestedBlock::list("r", Block::new(""))
        });
        let three = Value::object([(
            "r",
            Value::List(vec![Value::object::<[(&str, Value); 0], &str>([]); 3]),
        )]);
        assert!(validate_config(&b, &three).0[0]
            .summary
            .starts_with("Too many \"r\" blocks"));
        let none = Value::object([("r", Value::List(vec![]))]);
        assert!(validate_config(&b, &none).0[0]
            .summary
            .starts_with("Too few \"r\" blocks"));
    }

    #[test]
    fn validators_check_types() {
        assert!(run_validator(&TWELVE_DIGITS, &Value::Number(1.0))
            .unwrap_err()
            .contains("string"));
        assert!(
            run_validator(&Validator::IntRange { min: 1, max: 5 }, &Value::Number(2.5)).is_err()
        );
        let custom = Validator::Custom(|v| {
            if v.as_str() == Some("ok") {
                Ok(())
            } else {
                Err("must be \"ok\"".into())
            }
        });
        assert_eq!(
            run_validator(&custom, &Value::string("no")).unwrap_err(),
            "must be \"ok\""
        );
    }
}
