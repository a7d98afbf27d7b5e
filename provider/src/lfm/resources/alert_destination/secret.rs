//! The webhook secret of `lfm_alert_destination` in SSM Parameter Store: a SecureString
//! parameter (encrypted with the account's default key `alias/aws/ssm`), written, read back
//! with decryption (drift and import) and deleted. The document names the parameter, never
//! the secret. API: PutParameter, GetParameter, DeleteParameter
//! (<https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html>,
//! `.../API_GetParameter.html`, `.../API_DeleteParameter.html>`; a missing parameter is the
//! error code `ParameterNotFound`).

use super::model::FoundSecret;
use crate::framework::{AttrPath, Diagnostics};
use crate::lfm::aws::session::AwsError;
use crate::lfm::aws::Aws;
use aws_sdk_ssm::types::ParameterType;

const NOT_FOUND: &str = "ParameterNotFound";

fn failed(what: &str, name: &str, e: AwsError) -> Diagnostics {
    Diagnostics::attribute_error(
        AttrPath::attr("webhook_secret"),
        format!("SSM: {what} parameter {name} failed"),
        format!("{e}. The provider's identity needs ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter on arn:PARTITION:ssm:REGION:ACCOUNT:parameter/lfm/* (and kms:Encrypt/Decrypt when the account's SSM key policy requires it)."),
    )
}

/// Writes (or overwrites) the secret; returns the parameter's ARN.
pub async fn put(aws: &Aws, name: &str, value: &str, destination: &str) -> Result<String, Diagnostics> {
    aws.ssm()
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .description(format!("HMAC secret of LFM alert destination {destination} (managed by terraform-provider-lfm)"))
        .send()
        .await
        .map_err(|e| failed("writing", name, AwsError::from_sdk(e)))?;
    match read(aws, name).await? {
        FoundSecret { value_and_arn: Some((_, arn)), .. } => Ok(arn),
        _ => Err(Diagnostics::attribute_error(
            AttrPath::attr("webhook_secret"),
            format!("SSM: parameter {name} is not readable right after it was written"),
            "PutParameter succeeded but GetParameter found nothing. Run terraform apply again.",
        )),
    }
}

/// The parameter's value (decrypted) and ARN; `value_and_arn: None` when it is gone.
pub async fn read(aws: &Aws, name: &str) -> Result<FoundSecret, Diagnostics> {
    let answer = aws.ssm().get_parameter().name(name).with_decryption(true).send().await;
    match answer {
        Ok(out) => {
            let p = out.parameter();
            let value = p.and_then(|p| p.value()).unwrap_or_default().to_owned();
            let arn = p.and_then(|p| p.arn()).unwrap_or_default().to_owned();
            Ok(FoundSecret { name: name.to_owned(), value_and_arn: Some((value, arn)) })
        }
        Err(e) => {
            let e = AwsError::from_sdk(e);
            if e.is(NOT_FOUND) {
                Ok(FoundSecret { name: name.to_owned(), value_and_arn: None })
            } else {
                Err(failed("reading", name, e))
            }
        }
    }
}

/// Deletes the parameter; absent already is success.
pub async fn delete(aws: &Aws, name: &str) -> Result<(), Diagnostics> {
    match aws.ssm().delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk(e);
            if e.is(NOT_FOUND) {
                Ok(())
            } else {
                Err(failed("deleting", name, e))
            }
        }
    }
}
