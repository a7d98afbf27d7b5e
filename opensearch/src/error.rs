//! The one error of the client. Its message is a readable chain, never Rust `Debug` output:
//! what was being done, the endpoint (method and URL), what happened (the HTTP status with
//! OpenSearch's error type and reason, no connection, or which timeout passed), how many
//! attempts were made, and the fix, naming the caller's setting ([`crate::SettingNames`]).
//!
//! ```text
//! installing index template lfm-metrics failed: PUT http://127.0.0.1:9/_index_template/lfm-metrics:
//! no connection (Connection refused), after 5 attempts. Check the URL
//! (--opensearch-url, LFM_OPENSEARCH_URL) and that OpenSearch is running and reachable from here.
//! ```

use std::time::Duration;

use crate::config::SettingNames;

/// Which timeout passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    Attempt,
    Overall,
}

/// What went wrong, without the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// OpenSearch (or what answers at the URL) answered with an error status.
    Status {
        status: u16,
        /// OpenSearch's `error.type`, e.g. `security_exception`.
        error_type: Option<String>,
        /// OpenSearch's `error.reason` (or Dashboards' `message`), else the start of the body.
        reason: String,
    },
    /// No connection (refused, reset, DNS, TLS); `cause` is the innermost reason
    /// ([`lfm_aws::root_cause`], without the OS error number).
    Unreachable { cause: String },
    TimedOut { which: TimeoutKind, after: Duration },
    /// The request never left: it could not be built or signed.
    NotSent { cause: String },
    /// An answer that says success but cannot be used (unreadable, or refusing part of the work).
    Unexpected { cause: String },
}

#[derive(Debug, Clone)]
pub struct Error {
    /// What was being done, e.g. `installing index template lfm-metrics`.
    pub action: String,
    pub method: String,
    pub url: String,
    pub problem: Problem,
    pub attempts: u32,
    /// The caller's setting names, for the fix.
    pub settings: SettingNames,
}

impl Error {
    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self.problem {
            Problem::Status { status, .. } => Some(status),
            _ => None,
        }
    }

    /// OpenSearch's error type, when it said one.
    pub fn error_type(&self) -> Option<&str> {
        match &self.problem {
            Problem::Status { error_type, .. } => error_type.as_deref(),
            _ => None,
        }
    }

    /// The problem without the action and the fix, e.g. `HTTP 403 Forbidden (security_exception: no permissions ...)`.
    pub fn what_happened(&self) -> String {
        match &self.problem {
            Problem::Status { status, error_type, reason } => {
                let name = reqwest::StatusCode::from_u16(*status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
                let server = match (error_type, reason.is_empty()) {
                    (Some(kind), false) => format!(" ({kind}: {reason})"),
                    (Some(kind), true) => format!(" ({kind})"),
                    (None, false) => format!(" ({reason})"),
                    (None, true) => String::new(),
                };
                format!("HTTP {status} {name}{server}").replace("  ", " ")
            }
            Problem::Unreachable { cause } => format!("no connection ({cause})"),
            Problem::TimedOut { which, after } => {
                let what = match which {
                    TimeoutKind::Connect => "no connection within the connect timeout",
                    TimeoutKind::Attempt => "no answer within the per-attempt timeout",
                    TimeoutKind::Overall => "no answer within the overall timeout",
                };
                format!("{what} of {}", seconds(*after))
            }
            Problem::NotSent { cause } => format!("not sent: {cause}"),
            Problem::Unexpected { cause } => cause.clone(),
        }
    }

    /// What to do about it.
    pub fn fix(&self) -> String {
        let s = &self.settings;
        match &self.problem {
            Problem::Status { status: 401, .. } => {
                format!("OpenSearch wants credentials: set {}.", s.credentials)
            }
            Problem::Status { status: 403, .. } => format!(
                "The identity is not allowed to do this: give the user a role that may (security plugin), or allow the AWS identity in the domain's access policy; check {}.",
                s.credentials
            ),
            Problem::Status { status: 404, .. } => {
                format!("Check {}: the URL must be the base URL of OpenSearch (or of Dashboards for saved objects).", s.url)
            }
            Problem::Status { status: 429 | 502 | 503 | 504, .. } => match &s.attempts {
                Some(attempts) => format!("OpenSearch is overloaded or not available: try again later, or raise {attempts}."),
                None => "OpenSearch is overloaded or not available: try again later.".into(),
            },
            Problem::Status { .. } | Problem::Unexpected { .. } => "See OpenSearch's reason above.".into(),
            Problem::Unreachable { .. } => {
                format!("Check {} and that OpenSearch is running and reachable from here.", s.url)
            }
            Problem::TimedOut { which, .. } => {
                let setting = match which {
                    TimeoutKind::Connect => &s.connect_timeout,
                    TimeoutKind::Attempt => &s.attempt_timeout,
                    TimeoutKind::Overall => &s.overall_timeout,
                };
                format!("Check that {} points at OpenSearch and that it answers, or raise {setting}.", s.url)
            }
            Problem::NotSent { .. } => format!("Check {}.", s.credentials),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {} {}: {}", self.action, self.method, self.url, self.what_happened())?;
        if self.attempts > 1 {
            write!(f, ", after {} attempts", self.attempts)?;
        }
        write!(f, ". {}", self.fix())
    }
}

impl std::error::Error for Error {}

/// `12 s`, `1.5 s`, `250 ms`.
pub fn seconds(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// OpenSearch's `{"error": {"type", "reason"}, "status"}` (or Dashboards' `{"message"}`, or
/// `{"error": "text"}`) from a body; else the start of the body as the reason.
pub fn server_reason(body: &str) -> (Option<String>, String) {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    let error = &json["error"];
    if let Some(kind) = error["type"].as_str() {
        let reason = error["reason"].as_str().unwrap_or_default().to_string();
        return (Some(kind.to_string()), reason);
    }
    if let Some(text) = error.as_str() {
        let reason = json["message"].as_str().map(|m| format!("{text}: {m}")).unwrap_or_else(|| text.to_string());
        return (None, reason);
    }
    if let Some(message) = json["message"].as_str() {
        return (None, message.to_string());
    }
    (None, truncate(body.trim(), 300).to_string())
}

pub fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(problem: Problem, attempts: u32) -> Error {
        Error {
            action: "installing index template lfm-metrics".into(),
            method: "PUT".into(),
            url: "http://127.0.0.1:9200/_index_template/lfm-metrics".into(),
            problem,
            attempts,
            settings: SettingNames { url: "opensearch_url".into(), credentials: "username and password".into(), ..SettingNames::default() },
        }
    }

    #[test]
    fn a_refusal_names_the_action_endpoint_status_reason_and_fix() {
        let body = r#"{"error":{"root_cause":[],"type":"security_exception","reason":"no permissions for [indices:admin/index_template/put] and User [name=lfm]"},"status":403}"#;
        let (error_type, reason) = server_reason(body);
        let text = error(Problem::Status { status: 403, error_type, reason }, 1).to_string();
        assert_eq!(
            text,
            "installing index template lfm-metrics failed: PUT http://127.0.0.1:9200/_index_template/lfm-metrics: \
             HTTP 403 Forbidden (security_exception: no permissions for [indices:admin/index_template/put] and User [name=lfm]). \
             The identity is not allowed to do this: give the user a role that may (security plugin), or allow the AWS identity \
             in the domain's access policy; check username and password."
        );
    }

    #[test]
    fn timeouts_and_connections_name_the_setting() {
        let text = error(Problem::TimedOut { which: TimeoutKind::Overall, after: Duration::from_secs(120) }, 3).to_string();
        assert!(text.contains("no answer within the overall timeout of 120 s, after 3 attempts."), "{text}");
        assert!(text.ends_with("raise the overall timeout (Timeouts::overall)."), "{text}");
        let text = error(Problem::Unreachable { cause: "Connection refused".into() }, 5).to_string();
        assert!(text.contains("no connection (Connection refused), after 5 attempts. Check opensearch_url"), "{text}");
        assert!(!text.contains("Some(") && !text.contains("{ "), "{text}");
    }

    #[test]
    fn reasons_from_opensearch_dashboards_and_proxies() {
        assert_eq!(
            server_reason(r#"{"error":{"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}"#),
            (Some("index_not_found_exception".into()), "no such index [x]".into())
        );
        assert_eq!(
            server_reason(r#"{"statusCode":400,"error":"Bad Request","message":"Request must contain a osd-xsrf header."}"#),
            (None, "Bad Request: Request must contain a osd-xsrf header.".into())
        );
        assert_eq!(server_reason("<html>502 Bad Gateway</html>"), (None, "<html>502 Bad Gateway</html>".into()));
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
    }
}
