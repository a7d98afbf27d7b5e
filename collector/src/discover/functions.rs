//! `lambda:ListFunctions`, every page, into [`FunctionRecord`]s.

use aws_sdk_lambda::types::FunctionConfiguration;
use aws_types::region::Region;
use chrono::{DateTime, Utc};

use super::{AccountSession, DiscoverError, FunctionRecord, LIST_FUNCTIONS_ADVICE};
use crate::aws_error::{describe, with_advice};
use crate::metering::{actions, ApiCallCounter};

/// ListFunctions returns at most 50 functions per page.
pub const PAGE_SIZE: i32 = 50;

/// Lists all functions (`$LATEST` configurations) of the account in `region`, following
/// `NextMarker` until the last page.
pub async fn list_functions(
    session: &AccountSession,
    region: &str,
    calls: &ApiCallCounter,
) -> Result<Vec<FunctionRecord>, DiscoverError> {
    let config = aws_sdk_lambda::config::Builder::from(&session.sdk_config).region(Region::new(region.to_string())).build();
    let client = aws_sdk_lambda::Client::from_conf(config);
    let failed = |reason: String| DiscoverError::ListFunctions {
        account_id: session.account_id.clone(),
        region: region.to_string(),
        reason,
    };

    let mut functions = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        calls.record(actions::LAMBDA_LIST_FUNCTIONS);
        let page = client
            .list_functions()
            .max_items(PAGE_SIZE)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| failed(with_advice(&describe(e, Some(region)), LIST_FUNCTIONS_ADVICE)))?;
        functions.extend(page.functions().iter().map(|f| function_record(&session.account_id, region, f)));
        match page.next_marker().filter(|m| !m.is_empty()) {
            None => break,
            Some(next) if marker.as_deref() == Some(next) => {
                return Err(failed(format!("Lambda ListFunctions returned the same NextMarker '{next}' twice; stopping to avoid an endless loop")));
            }
            Some(next) => marker = Some(next.to_string()),
        }
    }
    // A function could move between pages if it is created or deleted while we page; keep one.
    functions.sort_by(|a, b| a.arn.cmp(&b.arn));
    functions.dedup_by(|a, b| a.arn == b.arn);
    Ok(functions)
}

/// Maps one configuration. Lambda's documented defaults fill fields older responses omit:
/// architecture `x86_64`, package type `Zip`.
pub fn function_record(account_id: &str, region: &str, f: &FunctionConfiguration) -> FunctionRecord {
    let package_type = f.package_type().map(|p| p.as_str().to_string()).unwrap_or_else(|| "Zip".into());
    let name = f.function_name().unwrap_or_default();
    let log_group = f
        .logging_config()
        .and_then(|l| l.log_group())
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("/aws/lambda/{name}"));
    FunctionRecord {
        account_id: account_id.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        arn: f.function_arn().unwrap_or_default().to_string(),
        runtime: f.runtime().map(|r| r.as_str().to_string()).filter(|r| !r.is_empty()),
        memory_mb: f.memory_size().and_then(|m| u32::try_from(m).ok()),
        timeout_s: f.timeout().and_then(|t| u32::try_from(t).ok()),
        architecture: Some(f.architectures().first().map(|a| a.as_str().to_string()).unwrap_or_else(|| "x86_64".into())),
        package_type: Some(package_type),
        last_modified: f.last_modified().and_then(parse_last_modified),
        code_sha256: f.code_sha256().filter(|s| !s.is_empty()).map(str::to_string),
        version: f.version().filter(|v| !v.is_empty()).map(str::to_string),
        code_size_bytes: u64::try_from(f.code_size()).ok(),
        log_group,
    }
}

/// Lambda writes `LastModified` as `2024-03-01T12:34:56.789+0000`, "ISO-8601 format
/// (YYYY-MM-DDThh:mm:ss.sTZD)" (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html):
/// no colon in the offset, so not RFC 3339; RFC 3339 is accepted too.
pub fn parse_last_modified(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::types::{Architecture, PackageType, Runtime};

    #[test]
    fn parses_lambda_timestamps() {
        let expected: DateTime<Utc> = "2024-03-01T12:34:56.789Z".parse().unwrap();
        assert_eq!(parse_last_modified("2024-03-01T12:34:56.789+0000"), Some(expected));
        assert_eq!(parse_last_modified("2024-03-01T12:34:56.789Z"), Some(expected));
        assert_eq!(parse_last_modified("yesterday"), None);
    }

    #[test]
    fn container_image_has_no_runtime() {
        let f = FunctionConfiguration::builder()
            .function_name("resize")
            .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:resize")
            .package_type(PackageType::Image)
            .memory_size(1024)
            .timeout(30)
            .architectures(Architecture::Arm64)
            .code_size(0)
            .last_modified("2024-03-01T12:34:56.789+0000")
            .code_sha256("kQ4KsWyy5gmXNr3BzVIJUPZyYzOSAvt4tu3ncyAzYVk=")
            .version("$LATEST")
            .build();
        let r = function_record("111122223333", "eu-west-1", &f);
        assert_eq!(r.runtime, None);
        assert_eq!(r.package_type.as_deref(), Some("Image"));
        assert_eq!(r.architecture.as_deref(), Some("arm64"));
        assert_eq!((r.memory_mb, r.timeout_s), (Some(1024), Some(30)));
        assert_eq!(r.code_sha256.as_deref(), Some("kQ4KsWyy5gmXNr3BzVIJUPZyYzOSAvt4tu3ncyAzYVk="));
        assert_eq!(r.version.as_deref(), Some("$LATEST"));
    }

    #[test]
    fn zip_function_defaults() {
        let f = FunctionConfiguration::builder()
            .function_name("orders")
            .function_arn("arn:aws:lambda:eu-west-1:111122223333:function:orders")
            .runtime(Runtime::Python312)
            .code_size(2048)
            .build();
        let r = function_record("111122223333", "eu-west-1", &f);
        assert_eq!(r.runtime.as_deref(), Some("python3.12"));
        assert_eq!(r.package_type.as_deref(), Some("Zip"));
        assert_eq!(r.architecture.as_deref(), Some("x86_64"));
        assert_eq!(r.code_size_bytes, Some(2048));
        assert_eq!((r.code_sha256, r.version), (None, None));
    }
}
