//! What CloudWatch's GetMetricData accepts and keeps, and how a window is cut to fit: at most
//! [`MAX_QUERIES_PER_CALL`] queries and [`MAX_DATAPOINTS_PER_CALL`] datapoints per call, so a
//! window is harvested in [`chunks`] of at most [`MAX_PERIODS_PER_CHUNK`] periods; datapoints
//! are kept only for a [`retention`] that depends on the period. The checkpoint planner
//! ([`crate::checkpoint`]) cuts the windows of a run with these; the query planner
//! ([`super::plan`]) batches queries with them.

use chrono::TimeDelta;

use crate::config::Window;

/// GetMetricData accepts at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// GetMetricData answers at most 100,800 datapoints per call (more come with NextToken).
pub const MAX_DATAPOINTS_PER_CALL: i64 = 100_800;
/// Periods per chunk: a call of 500 queries over this many periods fits one answer.
pub const MAX_PERIODS_PER_CHUNK: i64 = MAX_DATAPOINTS_PER_CALL / MAX_QUERIES_PER_CALL as i64;

/// How long CloudWatch keeps datapoints at a period: under 5 minutes 15 days, under an hour 63
/// days, else 455 days (CloudWatch concepts, "Metrics retention").
pub fn retention(period_seconds: u32) -> TimeDelta {
    match period_seconds {
        0..=299 => TimeDelta::days(15),
        300..=3599 => TimeDelta::days(63),
        _ => TimeDelta::days(455),
    }
}

/// Cuts `window` into chunks of at most [`MAX_PERIODS_PER_CHUNK`] periods.
pub fn chunks(window: &Window) -> Vec<Window> {
    let step = TimeDelta::seconds(i64::from(window.period_seconds) * MAX_PERIODS_PER_CHUNK);
    let mut out = Vec::new();
    let mut start = window.start;
    while start < window.end {
        let end = (start + step).min(window.end);
        out.push(Window { start, end, period_seconds: window.period_seconds });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_window_in_order_without_overlap() {
        let start = "2026-11-26T00:00:00Z".parse().unwrap();
        let end = "2026-11-27T06:15:00Z".parse().unwrap();
        let window = Window::new(start, end, 300).unwrap();
        let parts = chunks(&window);
        assert_eq!(parts.len(), 2, "363 periods > {MAX_PERIODS_PER_CHUNK}");
        assert_eq!(parts[0].start, start);
        assert_eq!(parts[0].end, parts[1].start);
        assert_eq!(parts[1].end, end);
        assert!(parts.iter().all(|w| w.period_count() <= MAX_PERIODS_PER_CHUNK));
    }
}
