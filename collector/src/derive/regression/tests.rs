//! Unit tests of [`super::judge`]: hand-made cases, then the false-alarm and detection rates
//! on seeded random fleets (`cargo test --workspace --lib regression::tests::rates -- --nocapture`
//! prints them).

use super::*;

fn t0() -> DateTime<Utc> {
    "2026-11-26T14:00:00Z".parse().unwrap()
}

const P: u32 = 300;

fn sample(i: i64, invocations: u64, errors: u64, p99: f64) -> PeriodSample {
    PeriodSample {
        start: t0() + TimeDelta::seconds(i * i64::from(P)),
        invocations,
        errors,
        cold_starts: Some(invocations / 50),
        duration_p99_ms: Some(p99),
        cost_usd: Some(invocations as f64 * 4e-7),
    }
}

/// 12 periods before the change (-12..-1) and `after` periods after it (1..), the period of
/// the change (0) left out as [`split`] does.
fn sides(
    after: usize,
    before_of: impl Fn(i64) -> PeriodSample,
    after_of: impl Fn(i64) -> PeriodSample,
) -> (Vec<PeriodSample>, Vec<PeriodSample>) {
    ((-12..0).map(before_of).collect(), (1..=after as i64).map(after_of).collect())
}

fn all() -> Vec<String> {
    Vec::new()
}

fn comparison<'a>(j: &'a Judgement, metric: &str) -> &'a DeploymentComparison {
    j.comparisons.iter().find(|c| c.metric == metric).unwrap()
}

#[test]
fn error_rate_and_p99_regression_named_in_the_summary() {
    // 200 invocations a period, 1 error (0.5%) before, 12 (6%) after; p99 ~116 -> ~478 ms
    // (medians of the periods' values).
    let (before, after) = sides(12, |i| sample(i, 200, 1, 118.0 + (i % 3) as f64 * 2.0), |i| sample(i, 200, 12, 470.0 + (i % 4) as f64 * 5.0));
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::REGRESSED);
    assert_eq!(comparison(&j, "error_rate").verdict, verdict::REGRESSED);
    assert_eq!(comparison(&j, "duration_p99_ms").verdict, verdict::REGRESSED);
    assert_eq!(comparison(&j, "cold_start_rate").verdict, verdict::UNCHANGED);
    assert_eq!(j.summary, "error rate 0.5% -> 6.0%; p99 duration 116 ms -> 478 ms");
    let e = comparison(&j, "error_rate");
    assert_eq!((e.before_samples, e.after_samples, e.test.as_str()), (12, 12, TEST_PROPORTION));
    assert!(e.p_value.unwrap() < 1e-6);
}

#[test]
fn improvement_is_recorded_as_improved() {
    let (before, after) = sides(12, |i| sample(i, 300, 15, 480.0 + i as f64), |i| sample(i, 300, 1, 120.0 + i as f64));
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::IMPROVED);
    assert_eq!(j.summary, "error rate 5.0% -> 0.3%; p99 duration 474 ms -> 126 ms");
}

#[test]
fn worse_on_one_metric_and_better_on_another_is_a_regression() {
    let (before, after) = sides(12, |i| sample(i, 300, 15, 120.0 + i as f64), |i| sample(i, 300, 1, 480.0 + i as f64));
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::REGRESSED);
    assert_eq!(j.summary, "p99 duration 114 ms -> 486 ms");
    // Only the metrics asked for count.
    let j = judge(&before, &after, &["error_rate".to_string()], P, false).unwrap();
    assert_eq!((j.verdict.as_str(), j.comparisons.len()), (verdict::IMPROVED, 1));
}

#[test]
fn same_numbers_are_unchanged() {
    let (before, after) = sides(12, |i| sample(i, 200, (i.rem_euclid(3)) as u64, 100.0 + (i.rem_euclid(5)) as f64), |i| {
        sample(i, 200, (i.rem_euclid(3)) as u64, 100.0 + (i.rem_euclid(5)) as f64)
    });
    let j = judge(&before, &after, &all(), P, true).unwrap();
    assert_eq!(j.verdict, verdict::UNCHANGED);
    assert!(j.summary.starts_with("no significant change: error rate 0.5% -> 0.5%"), "{}", j.summary);
}

#[test]
fn waits_for_the_after_side_then_gives_up_when_the_window_is_over() {
    let (before, after) = sides(3, |i| sample(i, 200, 1, 100.0), |i| sample(i, 200, 30, 400.0));
    assert_eq!(judge(&before, &after, &all(), P, false), None);
    let j = judge(&before, &after, &all(), P, true).unwrap();
    assert_eq!(j.verdict, verdict::INSUFFICIENT_DATA);
    assert!(j.comparisons.iter().all(|c| c.verdict == verdict::INSUFFICIENT_DATA && c.p_value.is_none()));
    assert!(j.summary.starts_with("not enough data"));
    // Six periods after: 1,200 invocations, judged at once.
    let (before, after) = sides(6, |i| sample(i, 200, 1, 100.0), |i| sample(i, 200, 30, 400.0));
    assert_eq!(judge(&before, &after, &all(), P, false).unwrap().verdict, verdict::REGRESSED);
}

#[test]
fn too_few_invocations_for_the_rates_waits_for_more() {
    // 12 periods of 5 invocations after: 60 < 100.
    let (before, after) = sides(12, |i| sample(i, 200, 1, 100.0), |i| sample(i, 5, 3, 100.0));
    assert_eq!(judge(&before, &after, &["error_rate".to_string()], P, false), None);
    let j = judge(&before, &after, &["error_rate".to_string()], P, true).unwrap();
    assert_eq!(j.verdict, verdict::INSUFFICIENT_DATA);
}

#[test]
fn before_side_without_the_minimum_is_insufficient_at_once() {
    // A new function: two periods before the change.
    let before: Vec<PeriodSample> = (-2..0).map(|i| sample(i, 200, 1, 100.0)).collect();
    let after: Vec<PeriodSample> = (1..=12).map(|i| sample(i, 200, 1, 100.0)).collect();
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::INSUFFICIENT_DATA);
}

#[test]
fn significant_but_small_changes_are_unchanged() {
    // 100,000 invocations a period: 0.50% -> 0.60% is significant (z ~ 10) but 0.1 point.
    let (before, after) = sides(12, |i| sample(i, 100_000, 500, 100.0), |i| sample(i, 100_000, 600, 100.0));
    let j = judge(&before, &after, &["error_rate".to_string()], P, false).unwrap();
    let e = comparison(&j, "error_rate");
    assert!(e.p_value.unwrap() < 1e-10);
    assert_eq!(j.verdict, verdict::UNCHANGED);
}

#[test]
fn overdispersed_before_periods_widen_the_test() {
    // Before: bursts of errors (0 or 40 of 200); after: a steady 10% (same 10% mean as before
    // plus 2 points). A binomial test calls that a change (z ~ 3.4); with the dispersion it is
    // well inside the noise.
    let (before, after) = sides(12, |i| sample(i, 200, if i % 2 == 0 { 40 } else { 0 }, 100.0), |i| sample(i, 200, 24, 100.0));
    let binomial = stats::two_proportion_z((240, 2400), (288, 2400), 1.0).1.greater;
    assert!(binomial < ALPHA * 20.0, "{binomial}");
    let j = judge(&before, &after, &["error_rate".to_string()], P, false).unwrap();
    assert_eq!(j.verdict, verdict::UNCHANGED);
    assert!(comparison(&j, "error_rate").p_value.unwrap() > 0.1);
}

#[test]
fn cost_per_invocation_and_missing_values() {
    let (before, after) = sides(12, |i| sample(i, 100, 0, 50.0), |i| PeriodSample { cost_usd: Some(100.0 * 9e-7), ..sample(i, 100, 0, 50.0) });
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::REGRESSED);
    assert_eq!(j.summary, "cost per 1M invocations $0.40 -> $0.90");
    // No cost (unpriced region) and no cold starts (logs not read): insufficient for those,
    // the others still judged without waiting.
    let none = |s: PeriodSample| PeriodSample { cost_usd: None, cold_starts: None, ..s };
    let (before, after) = sides(12, |i| none(sample(i, 100, 0, 50.0)), |i| none(sample(i, 100, 0, 50.0)));
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::UNCHANGED);
    assert_eq!(comparison(&j, "cost_per_invocation_usd").verdict, verdict::INSUFFICIENT_DATA);
    assert_eq!(comparison(&j, "cost_per_invocation_usd").before, None);
}

#[test]
fn periods_beyond_the_window_are_ignored() {
    // 30 bad periods long before the change do not count: only the latest 12 before.
    let before: Vec<PeriodSample> =
        (-42..0).map(|i| if i < -12 { sample(i, 200, 100, 900.0) } else { sample(i, 200, 1, 100.0) }).collect();
    let after: Vec<PeriodSample> = (1..=30).map(|i| if i <= 12 { sample(i, 200, 1, 100.0) } else { sample(i, 200, 100, 900.0) }).collect();
    let j = judge(&before, &after, &all(), P, false).unwrap();
    assert_eq!(j.verdict, verdict::UNCHANGED);
    assert_eq!(comparison(&j, "error_rate").before_samples, 12);
}

#[test]
fn split_leaves_out_the_period_of_the_change() {
    let samples: Vec<PeriodSample> = (-20..20).map(|i| sample(i, 10, 0, 1.0)).collect();
    // Change at 14:05:30: period 14:05 ran both versions.
    let changed: DateTime<Utc> = "2026-11-26T14:05:30.250Z".parse().unwrap();
    let (before, after) = split(&samples, changed, P);
    assert_eq!(before.len(), 12);
    assert_eq!(before.last().unwrap().start, "2026-11-26T14:00:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(before.first().unwrap().start, "2026-11-26T13:05:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(after.first().unwrap().start, "2026-11-26T14:10:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(after.len(), 12);
    assert_eq!(after_window_end(changed, P), "2026-11-26T15:10:00Z".parse::<DateTime<Utc>>().unwrap());
    // On a boundary: nothing straddles.
    let (before, after) = split(&samples, "2026-11-26T14:05:00Z".parse().unwrap(), P);
    assert_eq!(before.last().unwrap().start, "2026-11-26T14:00:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(after.first().unwrap().start, "2026-11-26T14:05:00Z".parse::<DateTime<Utc>>().unwrap());
}

// ---- rates on seeded random fleets -----------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA
/// 2014): small, seedable, good enough for simulation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        // Box-Muller.
        (-2.0 * self.uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
    /// exp(N(0, sigma)) scaled to mean 1.
    fn lognormal_factor(&mut self, sigma: f64) -> f64 {
        (sigma * self.normal() - sigma * sigma / 2.0).exp()
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda > 50.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        // Knuth.
        let (limit, mut k, mut p) = ((-lambda).exp(), 0, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if n as f64 * p > 50.0 && n as f64 * (1.0 - p) > 50.0 {
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            return (n as f64 * p + sd * self.normal()).round().clamp(0.0, n as f64) as u64;
        }
        (0..n).filter(|_| self.uniform() < p).count() as u64
    }
}

/// A function's behaviour: traffic, errors and cold starts with period-to-period
/// over-dispersion (a log-normal factor on the rate of each period), log-normal latencies.
#[derive(Clone, Copy, Debug)]
struct Profile {
    invocations: f64,
    traffic_sigma: f64,
    idle: f64,
    error_rate: f64,
    error_sigma: f64,
    cold_rate: f64,
    median_ms: f64,
    latency_sigma: f64,
    memory_gb: f64,
}

impl Profile {
    fn random(rng: &mut Rng) -> Self {
        Profile {
            invocations: rng.pick(&[20.0, 60.0, 200.0, 1000.0]),
            traffic_sigma: rng.pick(&[0.1, 0.4]),
            idle: rng.pick(&[0.0, 0.0, 0.1, 0.3]),
            error_rate: rng.pick(&[0.0, 0.002, 0.01, 0.04, 0.12]),
            error_sigma: rng.pick(&[0.0, 0.5, 1.0]),
            cold_rate: rng.pick(&[0.005, 0.03, 0.15]),
            median_ms: rng.pick(&[4.0, 40.0, 300.0, 2000.0]),
            latency_sigma: rng.pick(&[0.3, 0.6, 1.0]),
            memory_gb: rng.pick(&[0.125, 0.5, 2.0]),
        }
    }

    fn period(&self, rng: &mut Rng, i: i64) -> PeriodSample {
        let start = t0() + TimeDelta::seconds(i * i64::from(P));
        let n = if rng.uniform() < self.idle {
            0
        } else {
            let mean = self.invocations * rng.lognormal_factor(self.traffic_sigma);
            rng.poisson(mean)
        };
        if n == 0 {
            return PeriodSample { start, invocations: 0, errors: 0, cold_starts: Some(0), duration_p99_ms: None, cost_usd: None };
        }
        let error_p = (self.error_rate * rng.lognormal_factor(self.error_sigma)).min(1.0);
        let errors = rng.binomial(n, error_p);
        let cold_p = (self.cold_rate * rng.lognormal_factor(0.5)).min(1.0);
        let cold = rng.binomial(n, cold_p);
        let k = n.min(300) as usize;
        let mut durations: Vec<f64> = (0..k).map(|_| self.median_ms * (self.latency_sigma * rng.normal()).exp()).collect();
        durations.sort_by(|a, b| a.total_cmp(b));
        let p99 = durations[((0.99 * k as f64).ceil() as usize).clamp(1, k) - 1];
        let mean = durations.iter().sum::<f64>() / k as f64;
        let cost = n as f64 * 2e-7 + n as f64 * mean.ceil() / 1000.0 * self.memory_gb * 0.000_016_666_7;
        PeriodSample { start, invocations: n, errors, cold_starts: Some(cold), duration_p99_ms: Some(p99), cost_usd: Some(cost) }
    }
}

/// How a case changes at the deployment.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    None,
    Errors,
    Latency,
    ColdStarts,
    Better,
}

fn run_case(rng: &mut Rng, change: Change) -> (Judgement, Profile) {
    let before_profile = Profile::random(rng);
    let mut after_profile = before_profile;
    match change {
        Change::None => {}
        Change::Errors => after_profile.error_rate = (before_profile.error_rate * 3.0).max(before_profile.error_rate + 0.03),
        Change::Latency => after_profile.median_ms *= 2.0,
        Change::ColdStarts => after_profile.cold_rate = (before_profile.cold_rate * 3.0).max(before_profile.cold_rate + 0.06),
        Change::Better => {
            after_profile.error_rate /= 4.0;
            after_profile.median_ms /= 2.0;
        }
    }
    let before: Vec<PeriodSample> = (-12..0).map(|i| before_profile.period(rng, i)).collect();
    let after: Vec<PeriodSample> = (1..=12).map(|i| after_profile.period(rng, i)).collect();
    (judge(&before, &after, &all(), P, true).expect("the after window is over"), before_profile)
}

/// Share of `cases` seeded cases of `change` judged `verdict`: over all cases, and over the
/// busy ones (at least 200 invocations a period); and how many were judged at all (not
/// insufficient_data).
fn rate(seed: u64, cases: usize, change: Change, verdict: &str) -> (f64, f64, usize) {
    let mut rng = Rng(seed);
    let (mut hits, mut busy, mut busy_hits, mut judged) = (0, 0, 0, 0);
    for _ in 0..cases {
        let (j, profile) = run_case(&mut rng, change);
        let hit = j.verdict == verdict;
        hits += usize::from(hit);
        if profile.invocations >= 200.0 {
            busy += 1;
            busy_hits += usize::from(hit);
        }
        judged += usize::from(j.verdict != verdict::INSUFFICIENT_DATA);
        if change == Change::None && j.verdict == verdict::REGRESSED {
            eprintln!("false alarm: {} ({profile:?})", j.summary);
        }
    }
    (hits as f64 / cases as f64, busy_hits as f64 / busy.max(1) as f64, judged)
}

#[test]
fn rates() {
    const CASES: usize = 2000;
    let (false_alarms, busy_false_alarms, judged) = rate(1, CASES, Change::None, verdict::REGRESSED);
    let (false_improvements, _, _) = rate(2, CASES, Change::None, verdict::IMPROVED);
    let (errors, busy_errors, _) = rate(3, CASES / 2, Change::Errors, verdict::REGRESSED);
    let (latency, busy_latency, _) = rate(4, CASES / 2, Change::Latency, verdict::REGRESSED);
    let (cold, busy_cold, _) = rate(5, CASES / 2, Change::ColdStarts, verdict::REGRESSED);
    let (better, busy_better, _) = rate(6, CASES / 2, Change::Better, verdict::IMPROVED);
    let (better_as_regressed, _, _) = rate(6, CASES / 2, Change::Better, verdict::REGRESSED);
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    println!(
        "regression rates over seeded cases, 12 periods each side (all functions / busy: >= 200 invocations a period):\n  \
         no change, judged regressed (false alarms): {:.2}% / {:.2}% of {CASES} ({judged} judged)\n  \
         no change, judged improved: {:.2}%\n  \
         error rate x3 (at least +3 points) detected: {} / {} of {}\n  \
         p99 x2 detected: {} / {}\n  \
         cold-start rate x3 (at least +6 points) detected: {} / {}\n  \
         error rate / 4 and p99 / 2 judged improved: {} / {} (judged regressed: {:.2}%)",
        false_alarms * 100.0,
        busy_false_alarms * 100.0,
        false_improvements * 100.0,
        pct(errors),
        pct(busy_errors),
        CASES / 2,
        pct(latency),
        pct(busy_latency),
        pct(cold),
        pct(busy_cold),
        pct(better),
        pct(busy_better),
        better_as_regressed * 100.0,
    );
    assert!(judged > CASES * 9 / 10, "most cases have the minimum samples: {judged}");
    assert!(false_alarms < 0.01, "false-alarm rate {false_alarms}");
    assert!(false_improvements < 0.01, "false improvements {false_improvements}");
    assert!(errors > 0.5 && busy_errors > 0.65, "error-rate regressions detected {errors} / {busy_errors}");
    assert!(latency > 0.8 && busy_latency > 0.8, "p99 regressions detected {latency} / {busy_latency}");
    assert!(cold > 0.6 && busy_cold > 0.75, "cold-start regressions detected {cold} / {busy_cold}");
    assert!(better > 0.7 && better_as_regressed < 0.01, "improvements {better} / {better_as_regressed}");
}
