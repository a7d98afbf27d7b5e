//! The run record: one document per run in `{prefix}-runs` with the numbers of the
//! [`RunSummary`] (the same numbers the human and JSON summaries print), the AWS API cost the
//! run caused, and failed accounts with a short reason class.

use chrono::{DateTime, SecondsFormat, Utc};
use lfm_schema::documents::{runs_index, RunAccount, RunDocument, RunRetention, RunWindow};

use crate::checkpoint::PairWindow;
use crate::store::IndexedDocument;
use crate::summary::RunSummary;

/// A short class of an error line, for aggregations in the run index.
pub fn reason_class(error: &str) -> &'static str {
    let has = |needle: &str| error.contains(needle);
    // No answer (lfm-aws's sentences: "could not be reached", "... timeout ...") whatever the call.
    if has("could not be reached") || has("could not connect") || has("timeout") {
        "unreachable"
    } else if has("sts:AssumeRole") || has("STS AssumeRole") {
        if has("Throttl") || has("Rate exceeded") {
            "throttled"
        } else {
            "assume_role_denied"
        }
    } else if has("Throttl") || has("TooManyRequests") || has("Rate exceeded") || has("RequestLimitExceeded") {
        "throttled"
    } else if has("UnrecognizedClientException") || has("InvalidClientTokenId") || has("OptInRequired") {
        // What AWS answers in a region the account has not enabled (opt-in regions).
        "region_disabled"
    } else if has("AccessDenied") || has("not authorized") {
        "access_denied"
    } else if has("could not be reached") || has("timeout") {
        "unreachable"
    } else {
        "other"
    }
}

/// `YYYYMMDDTHHMMSSZ-<pid>-<nanos>`: sortable by start, unique per host.
pub fn new_run_id(started_at: DateTime<Utc>) -> String {
    format!("{}-{}-{:09}", started_at.format("%Y%m%dT%H%M%SZ"), std::process::id(), started_at.timestamp_subsec_nanos())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn run_window(w: &PairWindow) -> RunWindow {
    RunWindow { account_id: w.account_id.clone(), region: w.region.clone(), start: rfc3339(w.start), end: rfc3339(w.end) }
}

/// The run document of `summary`, ended at `ended_at`.
pub fn run_document(prefix: &str, summary: &RunSummary, ended_at: DateTime<Utc>) -> IndexedDocument {
    let failed_documents_of = |account: &str| {
        summary.documents_failed.iter().any(|d| d.id.starts_with(&format!("{account}:")))
    };
    let accounts = summary
        .accounts
        .iter()
        .map(|a| {
            let mut reasons: Vec<String> = a.errors.iter().map(|e| reason_class(e).to_string()).collect();
            if failed_documents_of(&a.account_id) {
                reasons.push("documents_failed".into());
            }
            reasons.sort();
            reasons.dedup();
            RunAccount {
                account_id: a.account_id.clone(),
                status: a.status.as_str().into(),
                functions: a.functions as u64,
                reasons,
                errors: a.errors.clone(),
            }
        })
        .collect();
    let doc = RunDocument {
        timestamp: rfc3339(summary.started_at),
        run_id: summary.run_id.clone(),
        started_at: rfc3339(summary.started_at),
        ended_at: rfc3339(ended_at),
        duration_ms: summary.duration_ms,
        succeeded: summary.succeeded(),
        dry_run: summary.dry_run,
        period_seconds: summary.window.period_seconds,
        windows: summary.schedule.windows.iter().map(run_window).collect(),
        gaps: summary.schedule.gaps.iter().map(run_window).collect(),
        accounts_ok: summary.accounts_ok as u64,
        accounts_failed: summary.accounts_failed as u64,
        accounts,
        functions: summary.functions as u64,
        functions_active: summary.functions_active as u64,
        api_calls: summary.api_calls.clone(),
        api_calls_total: summary.api_calls.values().sum(),
        answers_skipped: summary.answers_skipped.clone(),
        metrics_requested: summary.metric_queries,
        logs_insights_bytes_scanned: summary.logs_insights_bytes_scanned,
        log_periods_withheld: summary.log_periods_withheld,
        estimated_cost_usd: summary.estimated_cost.total_usd,
        documents_written: summary.documents_written,
        documents_failed: summary.documents_failed_count,
        bulk_requests: summary.bulk_requests,
        checkpoints_advanced: summary.schedule.checkpoints_advanced.len() as u64,
        retention: summary.retention.as_ref().map(|r| RunRetention {
            retention_days: r.retention_days,
            deleted: r.deleted.clone(),
            errors: r.errors.clone(),
        }),
        fatal_error: summary.fatal_error.clone(),
        cut_short: summary.cut_short.clone(),
        alerts: summary.alerts.clone(),
    };
    IndexedDocument::new(runs_index(prefix), summary.run_id.clone(), &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_classes() {
        let denied = "account 111122223333: sts:AssumeRole into arn:aws:iam::111122223333:role/R failed: AccessDenied: User is not authorized (HTTP 403). Check ...";
        assert_eq!(reason_class(denied), "assume_role_denied");
        assert_eq!(reason_class("account 1 region us-east-1: cloudwatch:GetMetricData failed: Throttling: Rate exceeded (HTTP 400)"), "throttled");
        assert_eq!(
            reason_class("account 1 region ap-east-1: lambda:ListFunctions failed: UnrecognizedClientException: The security token included in the request is invalid (HTTP 403)"),
            "region_disabled"
        );
        assert_eq!(reason_class("account 1 region us-east-1: cloudwatch:ListMetrics failed: AccessDenied: no (HTTP 403)"), "access_denied");
        assert_eq!(reason_class("something else"), "other");
        let silent = "account 111122223333, role arn:aws:iam::111122223333:role/R: STS AssumeRole got no answer from http://127.0.0.1:9 within the per-attempt timeout of 2 s, in every attempt: check ...";
        assert_eq!(reason_class(silent), "unreachable");
        let denied = "account 111122223333, role arn:aws:iam::111122223333:role/R: STS AssumeRole was denied (AccessDenied: no, HTTP 403): allow sts:AssumeRole ...";
        assert_eq!(reason_class(denied), "assume_role_denied");
    }

    fn summary() -> RunSummary {
        let start = "2026-11-26T15:00:00Z".parse().unwrap();
        let end = "2026-11-26T16:00:00Z".parse().unwrap();
        let mut summary = RunSummary::new(crate::config::Window::new(start, end, 300).unwrap(), false, "run-1".into(), end);
        summary.duration_ms = 5;
        summary.log_periods_withheld = 2;
        summary
    }

    #[test]
    fn retention_and_skipped_answers_are_recorded_and_a_refused_deletion_does_not_fail_the_run() {
        let mut summary = summary();
        let record = run_document("lfm", &summary, summary.started_at);
        assert!(record.body["retention"].is_null(), "no retention configured: null");
        assert_eq!(record.body["answers_skipped"], serde_json::json!({}));

        let mut retention = crate::store::retention::RetentionReport::new(30);
        retention.deletion("lfm-metrics-2026.10.01", Ok(()));
        retention.deletion("lfm-metrics-2026.10.02", Err("DELETE lfm-metrics-2026.10.02: HTTP 403 Forbidden".into()));
        summary.retention = Some(retention);
        summary.answers_skipped = [("cloudwatch_datapoints_outside_window".to_string(), 3)].into();
        assert!(summary.succeeded(), "a refused deletion is reported, not a failed run");
        let record = run_document("lfm", &summary, summary.started_at);
        assert_eq!(record.index, "lfm-runs");
        assert_eq!(record.body["retention"]["retention_days"], 30);
        assert_eq!(record.body["retention"]["deleted"], serde_json::json!(["lfm-metrics-2026.10.01"]));
        assert!(record.body["retention"]["errors"][0].as_str().unwrap().contains("lfm-metrics-2026.10.02"));
        assert_eq!(record.body["answers_skipped"]["cloudwatch_datapoints_outside_window"], 3);
        assert_eq!(record.body["succeeded"], true);
        let human = summary.to_string();
        assert!(human.contains("retention   30 days: 1 indices deleted, 1 errors"), "{human}");
        assert!(human.contains("  deleted lfm-metrics-2026.10.01"), "{human}");
        assert!(human.contains("  error: retention 30 days: deleting index lfm-metrics-2026.10.02 failed"), "{human}");
        assert!(human.contains("  skipped cloudwatch_datapoints_outside_window 3"), "{human}");
    }

    #[test]
    fn withheld_log_periods_are_counted_in_the_record_and_the_summary() {
        let mut summary = summary();
        summary.log_periods_withheld = 0;
        assert_eq!(run_document("lfm", &summary, summary.started_at).body["log_periods_withheld"], 0);
        assert!(!summary.to_string().contains("withheld"));
        summary.log_periods_withheld = 2;
        assert_eq!(run_document("lfm", &summary, summary.started_at).body["log_periods_withheld"], 2);
        let human = summary.to_string();
        assert!(human.contains("log fields withheld in 2 function periods"), "{human}");
    }

    #[test]
    fn run_ids_sort_by_start() {
        let a = new_run_id("2026-11-26T16:00:00Z".parse().unwrap());
        let b = new_run_id("2026-11-26T17:00:00Z".parse().unwrap());
        assert!(a < b && a.starts_with("20261126T160000Z-"), "{a} {b}");
    }
}
