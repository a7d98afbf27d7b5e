//! SNS delivery: one `Publish` per notification and topic, retried as [`super::retry`]
//! decides (the SDK's own retries are off, so the delivery budget bounds everything).
//! <https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>
//!
//! - `Subject`: the notification's subject as printable ASCII, at most 100 characters (email
//!   subscriptions show it); `Message`: the text, a blank line, the JSON body (at most 256 KiB);
//! - `MessageAttributes` (String): `lfm.idempotency_key`, `lfm.severity`, `lfm.rule`, so
//!   subscription filter policies can route by severity or rule;
//! - a FIFO topic (its name ends in `.fifo`) requires `MessageGroupId` (here the rule: one
//!   ordered stream per rule) and takes `MessageDeduplicationId` (here the idempotency key, at
//!   most 128 characters): SNS drops a second message with the same id within its 5-minute
//!   deduplication interval, so a rerun that sends the same evaluation again is not delivered twice.

use std::time::{Duration, Instant};

use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;

use super::format::{sns_message, sns_subject};
use super::retry::{decide, Decision, Outcome};
use super::webhook::Sent;
use super::Notification;

/// One attempt may take this long, at most (less when the budget ends sooner).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// `MessageDeduplicationId` and `MessageGroupId`: at most 128 characters.
const FIFO_ID_CHARS: usize = 128;

/// Error codes of throttling and of SNS's own failures: worth another attempt.
/// <https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html>
const TRANSIENT_CODES: &[&str] =
    &["Throttling", "ThrottlingException", "Throttled", "ThrottledException", "KMSThrottling", "InternalError", "InternalFailure", "ServiceUnavailable"];

/// The region of a topic ARN (`arn:aws:sns:REGION:ACCOUNT:NAME`), or why it is not one.
pub fn topic_region(topic_arn: &str) -> Result<&str, String> {
    let parts: Vec<&str> = topic_arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, name] if !region.is_empty() && account.len() == 12 && !name.is_empty() => Ok(region),
        _ => Err(format!("topic_arn {topic_arn:?} is not an SNS topic ARN like arn:aws:sns:us-east-1:111122223333:alerts")),
    }
}

/// The SNS client for a topic's region, without SDK retries (this module retries).
pub fn client(sdk: &aws_types::SdkConfig, region: &str) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::config::Builder::from(sdk)
        .region(aws_types::region::Region::new(region.to_string()))
        .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_sdk_sns::config::timeout::TimeoutConfig::builder()
                .connect_timeout(super::webhook::CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// Publishes `n` to `topic_arn` until delivered, refused, or `end` comes.
pub async fn send(sns: &aws_sdk_sns::Client, topic_arn: &str, n: &Notification, end: Instant) -> Sent {
    let region = sns.config().region().map(|r| r.to_string());
    let attribute = |value: &str| MessageAttributeValue::builder().data_type("String").string_value(value).build().expect("data type set");
    let mut request = sns
        .publish()
        .topic_arn(topic_arn)
        .subject(sns_subject(&n.subject))
        .message(sns_message(n))
        .message_attributes("lfm.idempotency_key", attribute(&n.idempotency_key))
        .message_attributes("lfm.severity", attribute(&n.severity))
        .message_attributes("lfm.rule", attribute(&n.rule));
    if topic_arn.ends_with(".fifo") {
        request = request
            .message_group_id(n.rule.chars().take(FIFO_ID_CHARS).collect::<String>())
            .message_deduplication_id(n.idempotency_key.chars().take(FIFO_ID_CHARS).collect::<String>());
    }
    let mut attempts = 0;
    loop {
        let timeout = ATTEMPT_TIMEOUT.min(end.saturating_duration_since(Instant::now()));
        attempts += 1;
        let (outcome, readable) = match tokio::time::timeout(timeout, request.clone().send()).await {
            Err(_) => (Outcome::TimedOut(timeout), None),
            Ok(Ok(_)) => (Outcome::Answer { status: 200, text: String::new() }, None),
            Ok(Err(error)) => {
                let code = error.code().map(str::to_owned);
                let status = error.raw_response().map(|r| r.status().as_u16());
                let described = crate::aws_error::describe(error, region.as_deref());
                let outcome = match (code.as_deref(), status, described.kind) {
                    (Some(c), _, _) if TRANSIENT_CODES.contains(&c) => Outcome::Answer { status: 503, text: described.to_string() },
                    (_, Some(status), _) => Outcome::Answer { status, text: described.to_string() },
                    (_, None, lfm_aws::ErrorKind::Timeout(_)) => Outcome::TimedOut(timeout),
                    _ => Outcome::Unreachable(described.to_string()),
                };
                (outcome, Some(described))
            }
        };
        match decide(&outcome, attempts, end.saturating_duration_since(Instant::now())) {
            Decision::Delivered => return Sent { result: Ok(()), attempts },
            Decision::Retry(wait) => tokio::time::sleep(wait).await,
            Decision::Fail(why) => {
                // AWS's own sentence (with the fix) reads better than the generic one.
                let why = match readable {
                    Some(e) => {
                        let advice = format!(
                            "The collector's execution role needs sns:Publish on {topic_arn} (lfm_collector's alert_sns_topic_arns)"
                        );
                        let tail = if attempts > 1 { format!(" (gave up after {attempts} attempts)") } else { String::new() };
                        format!("{}{tail}", crate::aws_error::with_advice(&e, &advice))
                    }
                    None => why,
                };
                return Sent { result: Err(why), attempts };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_give_their_region() {
        assert_eq!(topic_region("arn:aws:sns:eu-west-1:111122223333:alerts").unwrap(), "eu-west-1");
        assert_eq!(topic_region("arn:aws-cn:sns:cn-north-1:111122223333:alerts.fifo").unwrap(), "cn-north-1");
        let err = topic_region("arn:aws:sqs:eu-west-1:111122223333:alerts").unwrap_err();
        assert!(err.starts_with("topic_arn \"arn:aws:sqs"), "{err}");
        assert!(topic_region("alerts").is_err());
    }
}
