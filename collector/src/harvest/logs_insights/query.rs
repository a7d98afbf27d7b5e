//! The Logs Insights query: its text (one text for text REPORT lines and JSON `platform.report`
//! records), the row it answers per `(@log, bin(period))` ([`LogPeriodStats`]), and how many
//! log groups one query may read so that its rows fit one answer ([`groups_per_query`]).

/// StartQuery accepts at most 50 log groups.
pub const MAX_GROUPS_PER_QUERY: usize = 50;
/// GetQueryResults returns at most 10,000 rows.
pub const MAX_ROWS_PER_QUERY: usize = 10_000;

/// REPORT-derived aggregates of one log group in one period, as Logs Insights returned them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPeriodStats {
    /// REPORT records (one per finished invocation).
    pub reports: u64,
    pub duration_max_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub billed_duration_ms_sum: f64,
    /// Sum of Billed Duration (ms) x Memory Size (MB): GB-seconds x 1024 x 1000.
    pub billed_mb_ms_sum: f64,
    /// Sum of Billed Restore Duration (ms) of SnapStart restores, and the same x Memory Size (MB).
    /// Charged on top of Billed Duration, which covers the handler only: AWS "Monitoring for
    /// Lambda SnapStart", https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html
    /// ("Billed Restore Duration: The time it takes for Lambda to load the runtime and run any
    /// after-restore runtime hooks"; duration charges apply to them).
    pub billed_restore_duration_ms_sum: f64,
    pub billed_restore_mb_ms_sum: f64,
    pub memory_size_mb: Option<f64>,
    pub max_memory_used_mb: Option<f64>,
    /// REPORTs with an Init Duration, and its average and maximum.
    pub inits: u64,
    pub init_duration_avg_ms: Option<f64>,
    pub init_duration_max_ms: Option<f64>,
    /// REPORTs with a Restore Duration (SnapStart), and its maximum.
    pub restores: u64,
    pub restore_duration_max_ms: Option<f64>,
    /// REPORTs with status timeout (text `Status: timeout` or JSON `"status":"timeout"`).
    pub status_timeouts: u64,
    /// "Task timed out after N seconds" lines (runtimes whose REPORT carries no status).
    pub task_timeouts: u64,
}

impl LogPeriodStats {
    /// A SnapStart restore is a cold start: "The cold start duration is the sum of Restore
    /// Duration + Duration" (AWS "Monitoring for Lambda SnapStart").
    pub fn cold_starts(&self) -> u64 {
        self.inits + self.restores
    }

    /// Milliseconds AWS charges: Billed Duration plus Billed Restore Duration.
    pub fn charged_duration_ms_sum(&self) -> f64 {
        self.billed_duration_ms_sum + self.billed_restore_duration_ms_sum
    }

    /// Charged milliseconds x Memory Size (MB): GB-seconds x 1024 x 1000.
    pub fn charged_mb_ms_sum(&self) -> f64 {
        self.billed_mb_ms_sum + self.billed_restore_mb_ms_sum
    }

    /// A timed-out invocation is marked by a REPORT status, a "Task timed out" line, or both
    /// (depending on the runtime): the larger count, so no invocation counts twice.
    pub fn timeouts(&self) -> u64 {
        self.status_timeouts.max(self.task_timeouts)
    }
}

/// The query text for periods of `period_seconds`. Column names are the `as` aliases below.
pub fn query_string(period_seconds: u32) -> String {
    format!(
        r#"filter @type = "REPORT" or type = "platform.report" or @message like /Task timed out after/
| parse @message /\tRestore Duration: (?<lfmRestoreText>[0-9.]+) ms/
| parse @message /\tBilled Restore Duration: (?<lfmBilledRestoreText>[0-9.]+) ms/
| parse @message /\tStatus: (?<lfmStatusTimeout>timeout)/
| parse @message /"status": ?"(?<lfmJsonTimeout>timeout)"/
| parse @message /(?<lfmTaskTimedOut>Task timed out after)/
| fields coalesce(@duration, record.metrics.durationMs) as lfmDuration,
    coalesce(@billedDuration, record.metrics.billedDurationMs) as lfmBilled,
    coalesce(@memorySize, record.metrics.memorySizeMB) as lfmMemory,
    coalesce(@maxMemoryUsed, record.metrics.maxMemoryUsedMB) as lfmMaxMemory,
    coalesce(@initDuration, record.metrics.initDurationMs) as lfmInit,
    coalesce(lfmRestoreText, record.metrics.restoreDurationMs) as lfmRestore,
    coalesce(lfmBilledRestoreText, record.metrics.billedRestoreDurationMs) as lfmBilledRestore
| fields lfmBilled * lfmMemory as lfmBilledMbMs, lfmBilledRestore * lfmMemory as lfmBilledRestoreMbMs
| stats count(lfmDuration) as reports, max(lfmDuration) as durationMax, pct(lfmDuration, 99) as durationP99,
    sum(lfmBilled) as billedSum, sum(lfmBilledMbMs) as billedMbMs, sum(lfmBilledRestore) as billedRestoreSum,
    sum(lfmBilledRestoreMbMs) as billedRestoreMbMs, max(lfmMemory) as memorySize,
    max(lfmMaxMemory) as maxMemoryUsed, count(lfmInit) as inits, avg(lfmInit) as initAvg,
    max(lfmInit) as initMax, count(lfmRestore) as restores, max(lfmRestore) as restoreMax,
    count(lfmStatusTimeout) as statusTimeouts, count(lfmJsonTimeout) as jsonTimeouts,
    count(lfmTaskTimedOut) as taskTimeouts
    by @log as lfmLog, bin({period_seconds}s) as lfmPeriod"#
    )
}

/// Log groups per query so that `groups x periods` rows fit in one result.
pub fn groups_per_query(periods: u64) -> usize {
    let by_rows = MAX_ROWS_PER_QUERY as u64 / periods.max(1);
    (by_rows as usize).clamp(1, MAX_GROUPS_PER_QUERY)
}
