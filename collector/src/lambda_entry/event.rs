//! The invocation event, read into the few settings an invocation may override (pure).
//!
//! Accepted events:
//! - an EventBridge event (a schedule rule's "Scheduled Event", or any event with the
//!   `source` and `detail-type` envelope): a normal run, nothing overridden;
//! - `{}`, `null` or an empty body: the same;
//! - an object with any of `backfill` ("6h"), `settle` ("0s"), `start` / `end` (RFC 3339) and
//!   `dry_run` (bool), e.g. the constant input of a rule, or a manual `aws lambda invoke`.
//!
//! Anything else is an error that names the field and shows a valid event: a typo in an
//! override must not silently become a normal run. (A body that is not JSON never arrives:
//! Lambda's Invoke refuses it with `InvalidRequestContentException`, see the Lambda API
//! reference, Invoke, Errors; an empty body arrives as `null`, [`super::runtime`].)
//!
//! Debug builds (never packaged: `scripts/package-collector` builds release) also accept
//! `panic` (a message): the handler panics with it, so the tests under the Runtime Interface
//! Emulator can prove that a panic becomes a function error and the runtime goes on.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What an invocation overrides of the configuration from the environment.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Like `--backfill` / `LFM_BACKFILL`: how far back to catch up from an old checkpoint.
    pub backfill: Option<String>,
    /// Like `--settle` / `LFM_SETTLE`.
    pub settle: Option<String>,
    /// Like `--start` / `LFM_START`: an explicit window (never moves a checkpoint backwards).
    pub start: Option<DateTime<Utc>>,
    /// Like `--end` / `LFM_END`.
    pub end: Option<DateTime<Utc>>,
    /// Like `--dry-run` / `LFM_DRY_RUN`.
    pub dry_run: Option<bool>,
    /// Test only (debug builds): panic with this message after reading the configuration.
    #[cfg(debug_assertions)]
    pub panic: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invocation event: {reason}. Send an EventBridge scheduled event, {{}} or e.g. {{\"backfill\": \"6h\"}} (fields: backfill, settle, start, end, dry_run)")]
pub struct EventError {
    reason: String,
}

/// Reads an invocation event (the body the Runtime API delivered).
pub fn parse(body: &[u8]) -> Result<Overrides, EventError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Overrides::default());
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| EventError {
        reason: format!("not JSON ({e})"),
    })?;
    from_value(value)
}

/// Reads an invocation event already parsed as JSON (by `lambda_runtime`).
pub fn from_value(value: serde_json::Value) -> Result<Overrides, EventError> {
    match &value {
        serde_json::Value::Null => Ok(Overrides::default()),
        serde_json::Value::Object(fields)
            if fields.contains_key("detail-type") && fields.contains_key("source") =>
        {
            Ok(Overrides::default())
        }
        serde_json::Value::Object(_) => serde_json::from_value(value).map_err(|e| EventError {
            reason: e.to_string(),
        }),
        other => Err(EventError {
            reason: format!("expected a JSON object, got {}", kind(other)),
        }),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A schedule rule's event as EventBridge delivers it (AWS docs, "Amazon EventBridge
    /// scheduled events", example event).
    const SCHEDULED_EVENT: &str = r#"{
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2015-10-08T16:53:06Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],
        "detail": {}
    }"#;

    #[test]
    fn a_scheduled_event_is_a_normal_run() {
        assert_eq!(
            parse(SCHEDULED_EVENT.as_bytes()).unwrap(),
            Overrides::default()
        );
    }

    #[test]
    fn empty_bodies_are_a_normal_run() {
        for body in ["", "  \n", "null", "{}"] {
            assert_eq!(
                parse(body.as_bytes()).unwrap(),
                Overrides::default(),
                "{body:?}"
            );
        }
    }

    #[test]
    fn overrides_are_read() {
        let overrides = parse(br#"{"backfill": "6h", "settle": "0s", "dry_run": true}"#).unwrap();
        assert_eq!(overrides.backfill.as_deref(), Some("6h"));
        assert_eq!(overrides.settle.as_deref(), Some("0s"));
        assert_eq!(overrides.dry_run, Some(true));
        let window =
            parse(br#"{"start": "2026-11-26T10:00:00Z", "end": "2026-11-26T11:00:00+00:00"}"#)
                .unwrap();
        assert_eq!(window.start, Some("2026-11-26T10:00:00Z".parse().unwrap()));
        assert_eq!(window.end, Some("2026-11-26T11:00:00Z".parse().unwrap()));
    }

    #[test]
    fn a_typo_is_an_error_naming_the_field() {
        let err = parse(br#"{"backfil": "6h"}"#).unwrap_err().to_string();
        assert!(err.contains("backfil") && err.contains("backfill"), "{err}");
        let err = parse(br#"{"start": "yesterday"}"#).unwrap_err().to_string();
        assert!(err.contains("invocation event"), "{err}");
        let err = parse(b"[1]").unwrap_err().to_string();
        assert!(err.contains("an array"), "{err}");
        let err = parse(b"{not json").unwrap_err().to_string();
        assert!(err.contains("not JSON"), "{err}");
    }
}
