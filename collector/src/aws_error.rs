//! One readable line for a failed AWS SDK call: the service's error code and message, or why
//! no answer came. (The SDK's full error context dumps raw responses, too long for a summary.)

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The same `SdkError` type serves every AWS SDK crate, so this works for STS, Lambda and
/// CloudWatch alike.
pub fn describe<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service_error = context.err();
            match (service_error.code(), service_error.message()) {
                (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!("HTTP {status} with an error body the SDK could not read"),
            }
        }
        SdkError::ResponseError(context) => {
            format!("HTTP {} with a response the SDK could not read", context.raw().status().as_u16())
        }
        SdkError::TimeoutError(_) => "no answer in time (timeout)".to_string(),
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(cause) => format!("the endpoint could not be reached: {}", chain(cause)),
            None => format!("the endpoint could not be reached: {}", DisplayErrorContext(error)),
        },
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// `error: cause: cause ...` by Display only (Debug output would repeat everything).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
