//! Lambda REPORT records: the one place where cold starts, memory use, billed duration and
//! timeouts are written down per invocation (`AWS/Lambda` metrics have none of them).
//!
//! Two shapes exist, by the function's log format:
//! - Text: `REPORT RequestId: ID<TAB>Duration: 12.34 ms<TAB>Billed Duration: 13 ms<TAB>Memory
//!   Size: 128 MB<TAB>Max Memory Used: 64 MB[<TAB>Init Duration: 180.02 ms][<TAB>Restore
//!   Duration: 312.5 ms<TAB>Billed Restore Duration: 313 ms][<TAB>Status: timeout]...`
//! - JSON: a `platform.report` record, `{"type": "platform.report", "record": {"requestId",
//!   "metrics": {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB",
//!   "initDurationMs"?, "restoreDurationMs"?}, "status"}}`.
//!
//! The collector never downloads log lines (Logs Insights aggregates them server-side, see
//! `harvest::logs_insights`); this parser is the reference those aggregates are tested against,
//! and it is exact where naive parsing is not: items are matched by their whole key, so
//! "Memory Used" is never read out of "Max Memory Used", nor "Restore Duration" out of "Billed
//! Restore Duration". A malformed line is a typed [`ReportError`], never a panic.

use serde_json::Value;

/// One invocation's REPORT, whichever log format carried it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_duration_ms: f64,
    pub memory_size_mb: f64,
    pub max_memory_used_mb: f64,
    /// Present only on the first invocation of a new execution environment (a cold start).
    pub init_duration_ms: Option<f64>,
    /// SnapStart: the restore of a snapshot replaces the init phase.
    pub restore_duration_ms: Option<f64>,
    pub billed_restore_duration_ms: Option<f64>,
    /// `timeout`, `error`, `success` ... when the record says; older runtimes write no status
    /// (their timeouts show as a separate "Task timed out after N seconds" line).
    pub status: Option<String>,
}

impl ReportRecord {
    pub fn is_cold_start(&self) -> bool {
        self.init_duration_ms.is_some() || self.restore_duration_ms.is_some()
    }

    pub fn is_timeout(&self) -> bool {
        self.status.as_deref() == Some("timeout")
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error("not a REPORT record")]
    NotAReport,
    #[error("REPORT record without {field}")]
    MissingField { field: &'static str },
    #[error("REPORT record: {field} {value:?} is not a number of {unit}")]
    InvalidNumber { field: &'static str, value: String, unit: &'static str },
    #[error("platform.report record is not valid JSON: {0}")]
    InvalidJson(String),
}

/// Parses one log event: a text REPORT line or a JSON `platform.report` record.
/// Anything else is [`ReportError::NotAReport`].
pub fn parse_report(message: &str) -> Result<ReportRecord, ReportError> {
    let trimmed = message.trim();
    if trimmed.starts_with('{') {
        parse_platform_report(trimmed)
    } else if let Some(rest) = trimmed.strip_prefix("REPORT ") {
        parse_text_report(rest)
    } else {
        Err(ReportError::NotAReport)
    }
}

/// "Task timed out after 3.00 seconds": how runtimes without a REPORT `Status` mark a timeout.
pub fn is_task_timed_out_line(message: &str) -> bool {
    message.contains("Task timed out after ")
}

fn parse_text_report(rest: &str) -> Result<ReportRecord, ReportError> {
    let mut request_id = None;
    let mut items: Vec<(&str, &str)> = Vec::new();
    for item in rest.split('\t').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((key, value)) = item.split_once(": ") else { continue };
        if key == "RequestId" {
            request_id = Some(value.trim().to_string());
        } else {
            items.push((key, value.trim()));
        }
    }
    let find = |key: &str| items.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let number = |field: &'static str, unit: &'static str| -> Result<Option<f64>, ReportError> {
        let Some(text) = find(field) else { return Ok(None) };
        let digits = text.strip_suffix(unit).map(str::trim).ok_or_else(|| ReportError::InvalidNumber {
            field,
            value: text.to_string(),
            unit,
        })?;
        match digits.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(ReportError::InvalidNumber { field, value: text.to_string(), unit }),
        }
    };
    let required = |field: &'static str, unit: &'static str| -> Result<f64, ReportError> {
        number(field, unit)?.ok_or(ReportError::MissingField { field })
    };
    Ok(ReportRecord {
        request_id: request_id.ok_or(ReportError::MissingField { field: "RequestId" })?,
        duration_ms: required("Duration", "ms")?,
        billed_duration_ms: required("Billed Duration", "ms")?,
        memory_size_mb: required("Memory Size", "MB")?,
        max_memory_used_mb: required("Max Memory Used", "MB")?,
        init_duration_ms: number("Init Duration", "ms")?,
        restore_duration_ms: number("Restore Duration", "ms")?,
        billed_restore_duration_ms: number("Billed Restore Duration", "ms")?,
        status: find("Status").map(str::to_string),
    })
}

fn parse_platform_report(text: &str) -> Result<ReportRecord, ReportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ReportError::InvalidJson(e.to_string()))?;
    if value.get("type").and_then(Value::as_str) != Some("platform.report") {
        return Err(ReportError::NotAReport);
    }
    let record = value.get("record").ok_or(ReportError::MissingField { field: "record" })?;
    let metrics = record.get("metrics").ok_or(ReportError::MissingField { field: "record.metrics" })?;
    let number = |field: &'static str| -> Result<Option<f64>, ReportError> {
        match metrics.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                _ => Err(ReportError::InvalidNumber { field, value: v.to_string(), unit: "ms or MB" }),
            },
        }
    };
    let required = |field: &'static str| number(field)?.ok_or(ReportError::MissingField { field });
    Ok(ReportRecord {
        request_id: record
            .get("requestId")
            .and_then(Value::as_str)
            .ok_or(ReportError::MissingField { field: "record.requestId" })?
            .to_string(),
        duration_ms: required("durationMs")?,
        billed_duration_ms: required("billedDurationMs")?,
        memory_size_mb: required("memorySizeMB")?,
        max_memory_used_mb: required("maxMemoryUsedMB")?,
        init_duration_ms: number("initDurationMs")?,
        restore_duration_ms: number("restoreDurationMs")?,
        billed_restore_duration_ms: number("billedRestoreDurationMs")?,
        status: record.get("status").and_then(Value::as_str).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shapes as Lambda writes them (tabs between items, trailing tab and newline).
    const WARM: &str = "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t\n";
    const COLD: &str = "REPORT RequestId: 6f7f0961-1a2b-4c3d-9e8f-0a1b2c3d4e5f\tDuration: 102.54 ms\tBilled Duration: 327 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\tInit Duration: 224.17 ms\t\n";
    const SNAP: &str = "REPORT RequestId: 9a1c3e5f-0000-4000-8000-000000000001\tDuration: 41.00 ms\tBilled Duration: 355 ms\tMemory Size: 1024 MB\tMax Memory Used: 150 MB\tRestore Duration: 312.50 ms\tBilled Restore Duration: 314 ms\t\n";
    const TIMEOUT: &str = "REPORT RequestId: 1d2e3f40-5566-4778-8899-aabbccddeeff\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 256 MB\tMax Memory Used: 255 MB\tStatus: timeout\n";
    const XRAY: &str = "REPORT RequestId: 0e1f2a3b-0000-4000-8000-000000000002\tDuration: 5.02 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\nXRAY TraceId: 1-5e1b4151-43a0913a12345678901234567\tSegmentId: 5e1b415143a09135\tSampled: true\t\n";
    const JSON_COLD: &str = r#"{"time":"2026-11-26T15:03:12.345Z","type":"platform.report","record":{"requestId":"c0ffee00-0000-4000-8000-000000000003","metrics":{"durationMs":250.25,"billedDurationMs":431,"memorySizeMB":1024,"maxMemoryUsedMB":300,"initDurationMs":180.5},"status":"success"}}"#;
    const JSON_TIMEOUT: &str = r#"{"time":"2026-11-26T15:04:00.000Z","type":"platform.report","record":{"requestId":"c0ffee00-0000-4000-8000-000000000004","metrics":{"durationMs":6000.0,"billedDurationMs":6000,"memorySizeMB":128,"maxMemoryUsedMB":128},"status":"timeout"}}"#;

    #[test]
    fn warm_text_report() {
        let r = parse_report(WARM).unwrap();
        assert_eq!(r.request_id, "3604209a-e9a3-11e6-939a-754dd98c7be3");
        assert_eq!((r.duration_ms, r.billed_duration_ms, r.memory_size_mb, r.max_memory_used_mb), (12.34, 13.0, 128.0, 18.0));
        assert!(!r.is_cold_start() && !r.is_timeout());
        assert_eq!(r.status, None);
    }

    #[test]
    fn cold_start_has_init_duration() {
        let r = parse_report(COLD).unwrap();
        assert_eq!(r.init_duration_ms, Some(224.17));
        assert!(r.is_cold_start());
    }

    #[test]
    fn snapstart_restore_is_not_read_from_billed_restore() {
        let r = parse_report(SNAP).unwrap();
        assert_eq!(r.restore_duration_ms, Some(312.5));
        assert_eq!(r.billed_restore_duration_ms, Some(314.0));
        assert_eq!(r.init_duration_ms, None);
        assert!(r.is_cold_start());
    }

    #[test]
    fn timeout_status() {
        let r = parse_report(TIMEOUT).unwrap();
        assert!(r.is_timeout());
        assert_eq!(r.max_memory_used_mb, 255.0);
    }

    #[test]
    fn xray_suffix_is_ignored() {
        let r = parse_report(XRAY).unwrap();
        assert_eq!(r.max_memory_used_mb, 40.0);
    }

    #[test]
    fn memory_used_is_never_max_memory_used() {
        // An app line that mentions "Memory Used" is not a REPORT ...
        assert_eq!(parse_report("2026-11-26T15:00:00Z\tabc\tINFO\tdone; Memory Used: 99 MB\n"), Err(ReportError::NotAReport));
        // ... and a REPORT without "Max Memory Used" is malformed, whatever else it says.
        let line = "REPORT RequestId: x\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMemory Used: 99 MB\t";
        assert_eq!(parse_report(line), Err(ReportError::MissingField { field: "Max Memory Used" }));
    }

    #[test]
    fn json_platform_reports() {
        let r = parse_report(JSON_COLD).unwrap();
        assert_eq!((r.duration_ms, r.billed_duration_ms, r.init_duration_ms), (250.25, 431.0, Some(180.5)));
        assert!(r.is_cold_start() && !r.is_timeout());
        let t = parse_report(JSON_TIMEOUT).unwrap();
        assert!(t.is_timeout() && !t.is_cold_start());
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        assert_eq!(
            parse_report("REPORT RequestId: abc-x Duration: n/a\n"),
            Err(ReportError::MissingField { field: "Duration" })
        );
        assert!(matches!(
            parse_report("REPORT RequestId: a\tDuration: fast ms\tBilled Duration: 1 ms\tMemory Size: 1 MB\tMax Memory Used: 1 MB"),
            Err(ReportError::InvalidNumber { field: "Duration", .. })
        ));
        assert!(matches!(
            parse_report("REPORT RequestId: a\tDuration: 1.0 s\tBilled Duration: 1 ms\tMemory Size: 1 MB\tMax Memory Used: 1 MB"),
            Err(ReportError::InvalidNumber { field: "Duration", .. })
        ));
        assert_eq!(parse_report("REPORT Duration: 1 ms"), Err(ReportError::MissingField { field: "RequestId" }));
        assert!(matches!(parse_report("{\"type\": \"platform.report\", "), Err(ReportError::InvalidJson(_))));
        assert_eq!(parse_report(r#"{"type":"platform.start","record":{}}"#), Err(ReportError::NotAReport));
        assert_eq!(
            parse_report(r#"{"type":"platform.report","record":{"requestId":"a","metrics":{"durationMs":"1"}}}"#),
            Err(ReportError::InvalidNumber { field: "durationMs", value: "\"1\"".into(), unit: "ms or MB" })
        );
        for junk in ["", "REPORT", "START RequestId: a Version: $LATEST", "\u{0}\u{ff}REPORT RequestId"] {
            assert!(parse_report(junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn odd_numbers_are_typed_errors_and_unknown_items_are_ignored() {
        let line = |duration: &str| {
            format!("REPORT RequestId: a\tDuration: {duration}\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\t")
        };
        for odd in ["NaN ms", "inf ms", "1e400 ms", "-1 ms", " ms", "abc ms", "12,5 ms"] {
            assert!(
                matches!(parse_report(&line(odd)), Err(ReportError::InvalidNumber { field: "Duration", .. })),
                "{odd:?}: {:?}",
                parse_report(&line(odd))
            );
        }
        // Large but finite: a number, kept as written.
        assert_eq!(parse_report(&line("123456789012.5 ms")).unwrap().duration_ms, 123456789012.5);
        // Items this parser does not know (newer Lambda versions add some) are ignored.
        let newer = format!("{}Extension Duration: 3 ms\tSomething: else\tno separator here\t", line("5.00 ms"));
        assert_eq!(parse_report(&newer).unwrap().duration_ms, 5.0);
        for odd in [r#"-1"#, r#"1e400"#, r#"null"#, r#"true"#] {
            let json = format!(
                r#"{{"type":"platform.report","record":{{"requestId":"a","metrics":{{"durationMs":{odd},"billedDurationMs":1,"memorySizeMB":128,"maxMemoryUsedMB":1}}}}}}"#
            );
            let parsed = parse_report(&json);
            match odd {
                "null" => assert_eq!(parsed, Err(ReportError::MissingField { field: "durationMs" })),
                "1e400" => assert!(matches!(parsed, Err(ReportError::InvalidJson(_)) | Err(ReportError::InvalidNumber { .. })), "{parsed:?}"),
                _ => assert!(matches!(parsed, Err(ReportError::InvalidNumber { field: "durationMs", .. })), "{odd}: {parsed:?}"),
            }
        }
    }

    #[test]
    fn task_timed_out_lines() {
        assert!(is_task_timed_out_line("2026-11-26T15:00:03.000Z abc Task timed out after 3.00 seconds\n"));
        assert!(!is_task_timed_out_line(WARM));
    }
}
