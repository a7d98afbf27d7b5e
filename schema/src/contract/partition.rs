//! AWS partitions: which partition a region is in, the monitoring role's ARN, and the
//! partition an ARN names.
//!
//! "Every Region is in exactly one partition" and IAM principals of one partition cannot act in
//! another (AWS Fault Isolation Boundaries, "Partitions",
//! <https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html>);
//! an ARN's second field is the partition ("Amazon Resource Names (ARNs)",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>). The region prefixes
//! are the `regionRegex` of each partition in the AWS SDKs' `partitions.json` (the endpoint
//! rules of every `aws-sdk-*` crate embed it).

/// Region prefix -> partition, for every partition other than `aws`.
pub const PARTITIONS: &[(&str, &str)] = &[
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
    ("eusc-", "aws-eusc"),
];

/// The commercial partition: every region no prefix of [`PARTITIONS`] matches.
pub const DEFAULT_PARTITION: &str = "aws";

/// The partition `region` belongs to (`cn-north-1` -> `aws-cn`, `eu-west-1` -> `aws`).
pub fn partition_of_region(region: &str) -> &'static str {
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or(DEFAULT_PARTITION, |(_, partition)| partition)
}

/// `arn:{partition}:iam::{account_id}:role/{role_name}`: the role the collector assumes.
pub fn role_arn(partition: &str, account_id: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role/{role_name}")
}

/// The partition field of an ARN (`arn:aws-cn:iam::111122223333:root` -> `aws-cn`); `None`
/// when `arn` does not start with `arn:PARTITION:`.
pub fn arn_partition(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(3, ':');
    match (fields.next(), fields.next(), fields.next()) {
        (Some("arn"), Some(partition), Some(_)) if !partition.is_empty() => Some(partition),
        _ => None,
    }
}

/// Every partition LFM knows (`aws` first).
pub fn known_partitions() -> impl Iterator<Item = &'static str> {
    std::iter::once(DEFAULT_PARTITION).chain(PARTITIONS.iter().map(|(_, p)| *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_to_partitions() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("il-central-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-iso-west-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("us-isof-east-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(partition_of_region(region), partition, "{region}");
        }
    }

    #[test]
    fn role_arns_and_arn_partitions() {
        assert_eq!(role_arn("aws-us-gov", "111122223333", "R"), "arn:aws-us-gov:iam::111122223333:role/R");
        assert_eq!(arn_partition("arn:aws-cn:iam::111122223333:root"), Some("aws-cn"));
        assert_eq!(arn_partition(&role_arn("aws-iso-b", "111122223333", "R")), Some("aws-iso-b"));
        assert_eq!(arn_partition("arn::iam::1:root"), None);
        assert_eq!(arn_partition("111122223333"), None);
        assert_eq!(arn_partition("arn:aws"), None);
        assert_eq!(known_partitions().count(), 8);
    }
}
