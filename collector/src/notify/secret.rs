//! The HMAC secret of a webhook destination: an SSM SecureString parameter
//! (`secret_parameter` of the destination document, written by the provider's
//! `lfm_alert_destination`), read with `GetParameter` `WithDecryption` when a run has something
//! to send there, once per destination and run ([`super::deliver`] keeps the answer).
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html>

use std::time::Duration;

use aws_sdk_ssm::error::ProvideErrorMetadata;

/// A GetParameter call may take this long, at most.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The SSM client for a parameter: in the parameter ARN's region when `parameter` is an ARN
/// (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`), else in the collector's region.
pub fn client(sdk: &aws_types::SdkConfig, parameter: &str) -> aws_sdk_ssm::Client {
    let mut config = aws_sdk_ssm::config::Builder::from(sdk);
    if let Some(region) = parameter.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(2)).filter(|r| !r.is_empty()) {
        config = config.region(aws_types::region::Region::new(region.to_string()));
    }
    aws_sdk_ssm::Client::from_conf(config.build())
}

/// The decrypted value of `parameter`, or a sentence saying why not and what to do, naming
/// `destination`.
pub async fn read(ssm: &aws_sdk_ssm::Client, destination: &str, parameter: &str, timeout: Duration) -> Result<String, String> {
    let region = ssm.config().region().map(|r| r.to_string());
    let call = ssm.get_parameter().name(parameter).with_decryption(true).send();
    let answer = match tokio::time::timeout(timeout, call).await {
        Err(_) => {
            return Err(format!(
                "destination {destination}: the webhook secret (SSM parameter {parameter}) was not read: no answer from SSM \
                 within {:.1} s",
                timeout.as_secs_f64()
            ))
        }
        Ok(answer) => answer,
    };
    match answer {
        Ok(output) => match output.parameter.and_then(|p| p.value) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(format!("destination {destination}: SSM parameter {parameter} (the webhook secret) is empty: set a value")),
        },
        Err(error) => {
            let not_found = error.as_service_error().is_some_and(|e| e.code() == Some("ParameterNotFound"));
            let described = crate::aws_error::describe(error, region.as_deref());
            let advice = if not_found {
                "The parameter does not exist in this account and region: apply the lfm_alert_destination again (it \
                 creates it), or remove secret_parameter from the destination"
                    .to_string()
            } else {
                format!(
                    "The collector's execution role needs ssm:GetParameter on {parameter} (lfm_collector's \
                     alert_secret_parameter_arns) and kms:Decrypt on the parameter's key when it is a customer managed key"
                )
            };
            Err(format!(
                "destination {destination}: the webhook secret (SSM parameter {parameter}) was not read: {}",
                crate::aws_error::with_advice(&described, &advice)
            ))
        }
    }
}
