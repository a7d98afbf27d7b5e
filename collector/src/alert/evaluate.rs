//! M-of-N evaluation of a threshold rule on one function's periods (pure), as CloudWatch
//! alarms count datapoints: the slots are the last N periods ending at the newest period the
//! run collected (docs/guides/alerts.md; a function without a document there has missing
//! slots, it is not evaluated on older periods), or at the function's newest period when the
//! run collected none; a slot breaches when its period has at least `min_invocations`
//! invocations and a value that compares true. A period with fewer invocations, no value or no
//! document is missing: neither breaching nor ok. Part of [`crate::alert`].

use super::series::PeriodRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Comparison {
    const ALL: [Comparison; 4] = [Comparison::Greater, Comparison::GreaterOrEqual, Comparison::Less, Comparison::LessOrEqual];

    /// CloudWatch's name (`GreaterThanThreshold` ...), as lfm-schema defines it.
    pub fn name(self) -> &'static str {
        use lfm_schema::alerts::comparison as n;
        match self {
            Comparison::Greater => n::GREATER,
            Comparison::GreaterOrEqual => n::GREATER_OR_EQUAL,
            Comparison::Less => n::LESS,
            Comparison::LessOrEqual => n::LESS_OR_EQUAL,
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// lfm-schema's [`lfm_schema::alerts::compare`]: the one definition of what breaches.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        lfm_schema::alerts::compare(self.name(), value, threshold)
    }

    pub fn symbol(self) -> &'static str {
        lfm_schema::alerts::comparison::symbol(self.name())
    }
}

/// A threshold rule's condition, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: String,
    /// Index of `metric` in the stage's [`super::series::MetricTable`].
    pub metric_index: usize,
    pub comparison: Comparison,
    pub threshold: f64,
    /// M of N.
    pub datapoints_to_alarm: u32,
    pub evaluation_periods: u32,
    pub min_invocations: u64,
}

impl Threshold {
    /// Whether one period breaches (enough invocations and a value that compares true).
    pub fn breaches(&self, invocations: u64, value: Option<f64>) -> bool {
        invocations >= self.min_invocations && value.is_some_and(|v| v.is_finite() && self.comparison.holds(v, self.threshold))
    }
}

/// One slot: a period of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slot {
    Breaching(f64),
    Ok(f64),
    Missing,
}

/// What M-of-N saw for one function.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub breaching: u32,
    pub ok: u32,
    pub missing: u32,
    /// Start of the oldest slot and end of the newest (unix seconds).
    pub from: i64,
    pub to: i64,
    /// Oldest first, N of them.
    pub slots: Vec<Slot>,
}

impl Evaluation {
    /// The newest breaching value, else the newest value (for messages).
    pub fn shown_value(&self) -> Option<f64> {
        let newest = |want_breach: bool| {
            self.slots.iter().rev().find_map(|s| match s {
                Slot::Breaching(v) => Some(*v),
                Slot::Ok(v) if !want_breach => Some(*v),
                _ => None,
            })
        };
        newest(true).or_else(|| newest(false))
    }
}

/// Evaluates `rule` on `rows` (ascending by start). `None` when there is no row: nothing seen.
/// `newest_end`: end of the newest period the run collected (the slots end there; later rows
/// are ignored); `None`: the slots end at the function's newest row. Rows with another period
/// length than the newest one are ignored.
pub fn evaluate(rule: &Threshold, rows: &[PeriodRow], newest_end: Option<i64>) -> Option<Evaluation> {
    let newest = rows.last()?;
    let period = i64::from(newest.period_seconds.max(1));
    let n = i64::from(rule.evaluation_periods.max(1));
    let to = newest_end.unwrap_or_else(|| newest.end());
    let from = to - n * period;
    let mut slots = vec![Slot::Missing; n as usize];
    for row in rows.iter().rev().filter(|r| r.start < to).take_while(|r| r.start >= from) {
        if row.period_seconds != newest.period_seconds || (row.start - from) % period != 0 {
            continue;
        }
        let value = row.values.get(rule.metric_index).copied().flatten().filter(|v| v.is_finite());
        let slot = &mut slots[((row.start - from) / period) as usize];
        *slot = match value {
            _ if row.invocations < rule.min_invocations => Slot::Missing,
            None => Slot::Missing,
            Some(v) if rule.breaches(row.invocations, Some(v)) => Slot::Breaching(v),
            Some(v) => Slot::Ok(v),
        };
    }
    let count = |f: fn(&Slot) -> bool| slots.iter().filter(|s| f(s)).count() as u32;
    Some(Evaluation {
        breaching: count(|s| matches!(s, Slot::Breaching(_))),
        ok: count(|s| matches!(s, Slot::Ok(_))),
        missing: count(|s| matches!(s, Slot::Missing)),
        from,
        to,
        slots,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn rule(m: u32, n: u32) -> Threshold {
        Threshold {
            metric: "error_rate".into(),
            metric_index: 0,
            comparison: Comparison::Greater,
            threshold: 0.05,
            datapoints_to_alarm: m,
            evaluation_periods: n,
            min_invocations: 10,
        }
    }

    pub fn row(start: i64, invocations: u64, value: Option<f64>) -> PeriodRow {
        PeriodRow { start, period_seconds: 300, invocations, values: vec![value].into_boxed_slice() }
    }

    #[test]
    fn comparisons() {
        assert!(Comparison::parse("GreaterThanThreshold").unwrap().holds(2.0, 1.0));
        assert!(!Comparison::Greater.holds(1.0, 1.0));
        assert!(Comparison::GreaterOrEqual.holds(1.0, 1.0));
        assert!(Comparison::Less.holds(0.5, 1.0));
        assert!(!Comparison::Less.holds(1.0, 1.0));
        assert!(Comparison::LessOrEqual.holds(1.0, 1.0));
        assert_eq!(Comparison::parse("Bigger"), None);
    }

    #[test]
    fn m_of_n_slots_end_at_the_newest_period() {
        let rows = vec![
            row(0, 100, Some(0.5)), // outside the last 3
            row(300, 100, Some(0.06)),
            row(600, 100, Some(0.01)),
            row(900, 100, Some(0.07)),
        ];
        let e = evaluate(&rule(2, 3), &rows, None).unwrap();
        assert_eq!((e.breaching, e.ok, e.missing), (2, 1, 0));
        assert_eq!((e.from, e.to), (300, 1200));
        assert_eq!(e.slots, vec![Slot::Breaching(0.06), Slot::Ok(0.01), Slot::Breaching(0.07)]);
        assert_eq!(e.shown_value(), Some(0.07));
    }

    #[test]
    fn min_invocations_null_values_and_gaps_are_missing() {
        let rows = vec![row(0, 9, Some(1.0)), row(300, 100, None), row(900, 10, Some(0.2))];
        let e = evaluate(&rule(1, 4), &rows, None).unwrap();
        // Slots 0, 300, 600 (no document), 900.
        assert_eq!(e.slots, vec![Slot::Missing, Slot::Missing, Slot::Missing, Slot::Breaching(0.2)]);
        assert_eq!((e.breaching, e.ok, e.missing), (1, 0, 3));
        assert_eq!(evaluate(&rule(1, 1), &[], None), None);
    }

    #[test]
    fn other_period_lengths_and_nan_are_ignored() {
        let mut odd = row(600, 100, Some(0.9));
        odd.period_seconds = 60;
        let rows = vec![row(300, 100, Some(f64::NAN)), odd, row(900, 100, Some(0.0))];
        let e = evaluate(&rule(1, 3), &rows, None).unwrap();
        assert_eq!(e.slots, vec![Slot::Missing, Slot::Missing, Slot::Ok(0.0)]);
        assert_eq!(e.shown_value(), Some(0.0));
    }

    #[test]
    fn slots_end_at_the_newest_period_of_the_run_not_of_the_function() {
        // The function's last document is at 900; the run collected up to 1800 (ends 2100).
        // Its older breaching periods are not evaluated again: slots 1200, 1500, 1800 are missing,
        // whatever else the history holds (issue 10: a rerun with a wider history changed the result).
        let rows = vec![row(600, 100, Some(0.5)), row(900, 100, Some(0.5))];
        let e = evaluate(&rule(2, 3), &rows, Some(2100)).unwrap();
        assert_eq!((e.breaching, e.missing, e.from, e.to), (0, 3, 1200, 2100));
        let e = evaluate(&rule(2, 3), &rows, Some(1200)).unwrap();
        assert_eq!((e.breaching, e.from, e.to), (2, 300, 1200));
        // Rows after the run's newest period (collected by another run) are not counted.
        let e = evaluate(&rule(1, 1), &rows, Some(900)).unwrap();
        assert_eq!(e.slots, vec![Slot::Breaching(0.5)]);
    }
}
