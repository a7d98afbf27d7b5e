//! The provider's side of the contract with the collector (`lfm_schema::contract`): the
//! attribute validators and plan checks that apply its rules to Terraform values.
//!
//! - [`index_prefix`]: `index_prefix` of `lfm_collector` and `lfm_dashboard_bundle`, the same
//!   [`IndexPrefix`] rules the collector applies to `--index-prefix`.
//! - [`principals_in_partition`]: principal ARNs must be in the partition of the provider's
//!   region (IAM of one partition cannot name principals of another).

use crate::framework::{AttrPath, Diagnostics, Value};
use lfm_schema::contract::{arn_partition, partition_of_region, IndexPrefix};

/// Validator of `index_prefix` (a `Validator::Custom`): the message says the rule and the fix;
/// the protocol layer adds the attribute and the value.
pub fn index_prefix(v: &Value) -> Result<(), String> {
    let text = v.as_str().unwrap_or_default();
    IndexPrefix::parse(text).map(|_| ()).map_err(|e| e.rule())
}

/// Every ARN of `attribute` (a list of strings) whose partition is not the partition of
/// `region`, as one error each, naming the element, the value and the fix. Unknown lists are
/// not checked yet.
pub fn principals_in_partition(config: &Value, attribute: &str, region: &str) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let list = config.get(attribute);
    if list.contains_unknown() {
        return diags;
    }
    let partition = partition_of_region(region);
    for (i, arn) in list.strings().iter().enumerate() {
        let Some(found) = arn_partition(arn) else { continue };
        if found != partition {
            diags.extend(Diagnostics::attribute_error(
                AttrPath::attr(attribute).then_index(i as i64),
                format!("Principal ARN in partition {found}, provider region in {partition}"),
                format!(
                    "{attribute} lists \"{arn}\", a principal of partition {found}, but the provider's region {region} is in partition {partition}, \
                     and IAM roles of one partition cannot trust principals of another. Use the principal's ARN in {partition} \
                     (arn:{partition}:...), or configure the provider with a region of partition {found}."
                ),
            ));
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_prefix_rules_are_the_contracts() {
        assert!(index_prefix(&Value::string("lfm.prod")).is_ok());
        let e = index_prefix(&Value::string("-lfm")).unwrap_err();
        assert!(e.starts_with("must not begin with '-'") && e.contains("e.g. \"lfm\""), "{e}");
        assert!(index_prefix(&Value::string("_lfm")).is_err());
        assert!(index_prefix(&Value::string("LFM")).unwrap_err().contains("use \"lfm\""));
    }

    #[test]
    fn principals_of_another_partition_are_refused() {
        let config = Value::object([(
            "monitoring_principal_arns",
            Value::string_list(["arn:aws:iam::123456789012:role/lfm-collector", "arn:aws-cn:iam::123456789012:root"]),
        )]);
        let diags = principals_in_partition(&config, "monitoring_principal_arns", "eu-west-1");
        let text = format!("{diags:?}");
        assert!(diags.has_errors(), "{text}");
        assert!(text.contains("arn:aws-cn:iam::123456789012:root") && text.contains("partition aws-cn") && text.contains("eu-west-1 is in partition aws"), "{text}");
        assert!(principals_in_partition(&config, "monitoring_principal_arns", "cn-north-1").has_errors(), "the aws principal, seen from China");
        let china = Value::object([("monitoring_principal_arns", Value::string_list(["arn:aws-cn:iam::123456789012:root"]))]);
        assert!(!principals_in_partition(&china, "monitoring_principal_arns", "cn-north-1").has_errors());
        let commercial = Value::object([("monitoring_principal_arns", Value::string_list(["arn:aws:iam::123456789012:root"]))]);
        assert!(!principals_in_partition(&commercial, "monitoring_principal_arns", "eu-west-1").has_errors());
    }
}
