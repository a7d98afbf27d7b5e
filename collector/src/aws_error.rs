//! The collector's edge of [`lfm_aws::AwsError`], the one rendering of a failed AWS call that
//! the collector and the provider share: service and operation, AWS's code and message or why
//! no answer came, and the fix, here with the collector's names for its settings and the
//! endpoint the call went to.

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use lfm_aws::{AwsError, ErrorKind, SettingNames};

/// How a fix names the collector's settings: config key (flag, environment variable), as
/// `lfm_schema::contract::Setting` prints them (a test holds them equal).
pub const SETTINGS: SettingNames = SettingNames {
    connect_timeout: "aws_connect_timeout (--aws-connect-timeout, LFM_AWS_CONNECT_TIMEOUT)",
    attempt_timeout: "aws_request_timeout (--aws-request-timeout, LFM_AWS_REQUEST_TIMEOUT)",
    operation_timeout: "aws_operation_timeout (--aws-operation-timeout, LFM_AWS_OPERATION_TIMEOUT)",
    endpoint: "AWS_ENDPOINT_URL",
};

/// The SDK's endpoint variable of each service the collector calls, by IAM prefix:
/// `AWS_ENDPOINT_URL_<SERVICE>` with the service id in upper snake case, read before
/// `AWS_ENDPOINT_URL` (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>).
const ENDPOINT_VARIABLES: &[(&str, &str, &str)] = &[
    ("sts", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL"),
    ("lambda", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_LAMBDA or AWS_ENDPOINT_URL"),
    ("cloudwatch", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_CLOUDWATCH or AWS_ENDPOINT_URL"),
    ("logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS or AWS_ENDPOINT_URL"),
    ("sns", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SNS or AWS_ENDPOINT_URL"),
    ("ssm", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SSM or AWS_ENDPOINT_URL"),
];

/// The failed call in `region` (for the endpoint's name when none is overridden). The same
/// `SdkError` type serves every AWS SDK crate (STS, Lambda, CloudWatch, Logs, SNS, SSM).
pub fn describe<E>(error: SdkError<E, HttpResponse>, region: Option<&str>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let error = AwsError::from_sdk(error);
    let variables = ENDPOINT_VARIABLES.iter().find(|(prefix, _, _)| *prefix == error.prefix);
    let overridden = [variables.map(|v| v.1), Some("AWS_ENDPOINT_URL")]
        .into_iter()
        .flatten()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    let endpoint = overridden
        .or_else(|| region.filter(|_| !error.prefix.is_empty()).map(|r| lfm_aws::default_endpoint(&error.prefix, r)));
    let names = SettingNames { endpoint: variables.map_or(SETTINGS.endpoint, |v| v.2), ..SETTINGS };
    error.at(endpoint.as_deref(), names)
}

/// The sentence, followed by the caller's `advice` (what to check about this call: the
/// role, its policy) when AWS answered; not when no answer came or no credentials were
/// found, where the sentence already says what to do.
pub fn with_advice(error: &AwsError, advice: &str) -> String {
    match error.kind {
        ErrorKind::Service | ErrorKind::AccessDenied | ErrorKind::InvalidCredentials | ErrorKind::Other => {
            format!("{error}. {advice}")
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lfm_schema::contract;

    #[test]
    fn setting_names_are_the_contracts() {
        let named = |env| contract::by_env(env).unwrap().to_string();
        assert_eq!(SETTINGS.connect_timeout, named(contract::ENV_AWS_CONNECT_TIMEOUT));
        assert_eq!(SETTINGS.attempt_timeout, named(contract::ENV_AWS_REQUEST_TIMEOUT));
        assert_eq!(SETTINGS.operation_timeout, named(contract::ENV_AWS_OPERATION_TIMEOUT));
    }

    #[test]
    fn advice_follows_an_answer_but_not_a_missing_one() {
        let denied = AwsError::service_error("STS", "AssumeRole", "AccessDenied", "not authorized").at(None, SETTINGS);
        let text = with_advice(&denied, "Check that the role trusts the collector");
        assert!(text.ends_with(". Check that the role trusts the collector"), "{text}");
        let mut silent = AwsError::other("STS", "AssumeRole", "timeout").at(Some("http://127.0.0.1:9"), SETTINGS);
        silent.kind = ErrorKind::Timeout(lfm_aws::TimeoutKind::Attempt);
        let text = with_advice(&silent, "Check that the role trusts the collector");
        assert!(!text.contains("role trusts") && text.contains("--aws-request-timeout"), "{text}");
    }
}
