//! The statistics of [`super::judge`], pure and self-contained (no statistics crate): the normal
//! distribution, a two-proportion z-test with over-dispersion, and the Mann-Whitney U test.
//!
//! All tests are one-sided: [`Tails`] gives the p-value of "after is greater than before" and
//! of "after is smaller than before" from one computation, so the caller can test a worsening
//! and an improvement each at its own alpha.

/// One-sided p-values of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tails {
    /// P(a statistic at least this large | no change): small when after > before.
    pub greater: f64,
    /// P(a statistic at least this small | no change): small when after < before.
    pub less: f64,
}

impl Tails {
    const NONE: Tails = Tails { greater: 1.0, less: 1.0 };
}

/// Complementary error function, fractional error below 1.2e-7 everywhere: the Chebyshev
/// fit `erfcc` of Press, Teukolsky, Vetterling, Flannery, *Numerical Recipes in C*, 2nd ed.
/// (1992), section 6.2, "Incomplete Gamma Function, Error Function ...", which states that
/// accuracy. A *fractional* bound matters here: tail probabilities near alpha = 0.001 and
/// below keep their relative precision (Abramowitz-Stegun 7.1.26 bounds the absolute error
/// only, 1.5e-7, which is 15% of a 1e-6 tail).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ans = t * poly.exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

/// Standard normal upper tail Q(z) = P(Z >= z) = erfc(z / sqrt 2) / 2.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    normal_upper_tail(-z)
}

/// Over-dispersion factor of per-period counts `(successes, trials)` around their pooled
/// proportion: Pearson chi-square / degrees of freedom (periods - 1), floored at 1 (binomial).
/// 1 when it cannot be estimated (fewer than two periods, or a pooled proportion of 0 or 1).
/// This is the quasi-binomial scale of McCullagh & Nelder, *Generalized Linear Models*, 2nd
/// ed. (1989), section 4.5.2.
pub fn overdispersion(counts: &[(u64, u64)]) -> f64 {
    overdispersion_within(&[counts])
}

/// [`overdispersion`] of several groups, each around its own pooled proportion: the
/// chi-squares and degrees of freedom (periods - 1 of each group) add up. With a before and an
/// after group this is the scale of the model "one proportion per side", which the z-test
/// compares; a shift between the sides does not inflate it.
pub fn overdispersion_within(groups: &[&[(u64, u64)]]) -> f64 {
    let (mut chi2, mut df) = (0.0, 0usize);
    for counts in groups {
        let counts: Vec<(f64, f64)> = counts.iter().filter(|(_, n)| *n > 0).map(|&(x, n)| (x as f64, n as f64)).collect();
        if counts.len() < 2 {
            continue;
        }
        let (x, n) = counts.iter().fold((0.0, 0.0), |(sx, sn), (x, n)| (sx + x, sn + n));
        let p = x / n;
        if p <= 0.0 || p >= 1.0 {
            continue;
        }
        chi2 += counts.iter().map(|(x, n)| (x - n * p).powi(2) / (n * p * (1.0 - p))).sum::<f64>();
        df += counts.len() - 1;
    }
    if df == 0 {
        return 1.0;
    }
    (chi2 / df as f64).max(1.0)
}

/// Two-proportion z-test of `after = (successes, trials)` against `before`, pooled variance
/// inflated by `phi` (>= 1): z = (p_a - p_b) / sqrt(phi p (1 - p) (1/n_b + 1/n_a)).
/// Returns z and its one-sided tails; no trials on a side, or a pooled proportion of 0 or 1
/// (no variance: both sides identical), is no evidence either way.
pub fn two_proportion_z(before: (u64, u64), after: (u64, u64), phi: f64) -> (f64, Tails) {
    let ((xb, nb), (xa, na)) = ((before.0 as f64, before.1 as f64), (after.0 as f64, after.1 as f64));
    if nb == 0.0 || na == 0.0 {
        return (0.0, Tails::NONE);
    }
    let pooled = (xb + xa) / (nb + na);
    let variance = phi.max(1.0) * pooled * (1.0 - pooled) * (1.0 / nb + 1.0 / na);
    if variance <= 0.0 {
        return (0.0, Tails::NONE);
    }
    let z = (xa / na - xb / nb) / variance.sqrt();
    (z, Tails { greater: normal_upper_tail(z), less: normal_cdf(z) })
}

/// Largest sample sizes for which the exact null distribution of U is computed (without ties).
const EXACT_MAX: usize = 25;

/// Mann-Whitney U test of `after` against `before` (Mann & Whitney 1947; Hollander & Wolfe,
/// *Nonparametric Statistical Methods*, 2nd ed., section 4.1). U counts the pairs
/// (before b, after a) with a > b, ties counting one half; large U means after is larger.
/// Without ties and both sides at most 25 values the p-values are exact (the permutation
/// distribution of U by the recurrence of Mann & Whitney); otherwise the normal
/// approximation with the tie-corrected variance
/// n_b n_a / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))) and a continuity correction of 1/2.
/// Returns U and the tails; an empty side is no evidence.
pub fn mann_whitney(before: &[f64], after: &[f64]) -> (f64, Tails) {
    let (nb, na) = (before.len(), after.len());
    if nb == 0 || na == 0 {
        return (0.0, Tails::NONE);
    }
    let mut u: f64 = 0.0;
    for a in after {
        for b in before {
            u += match a.partial_cmp(b) {
                Some(std::cmp::Ordering::Greater) => 1.0,
                Some(std::cmp::Ordering::Equal) => 0.5,
                _ => 0.0,
            };
        }
    }
    let ties = tie_sizes(before, after);
    if ties.is_empty() && nb <= EXACT_MAX && na <= EXACT_MAX {
        let distribution = u_distribution(na, nb);
        let total: f64 = distribution.iter().sum();
        let k = u.round() as usize;
        let greater = distribution[k..].iter().sum::<f64>() / total;
        let less = distribution[..=k].iter().sum::<f64>() / total;
        return (u, Tails { greater, less });
    }
    let (nbf, naf) = (nb as f64, na as f64);
    let n = nbf + naf;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum::<f64>() / (n * (n - 1.0));
    let variance = nbf * naf / 12.0 * ((n + 1.0) - tie_term);
    if variance <= 0.0 {
        return (u, Tails::NONE); // every value equal
    }
    let mean = nbf * naf / 2.0;
    let sd = variance.sqrt();
    let greater = normal_upper_tail((u - mean - 0.5) / sd);
    let less = normal_cdf((u - mean + 0.5) / sd);
    (u, Tails { greater: greater.min(1.0), less: less.min(1.0) })
}

/// Sizes (>= 2) of the groups of equal values in both samples together.
fn tie_sizes(before: &[f64], after: &[f64]) -> Vec<usize> {
    let mut all: Vec<f64> = before.iter().chain(after).copied().collect();
    all.sort_by(|a, b| a.total_cmp(b));
    let mut sizes = Vec::new();
    let mut run = 1;
    for pair in all.windows(2) {
        if pair[0] == pair[1] {
            run += 1;
        } else {
            if run > 1 {
                sizes.push(run);
            }
            run = 1;
        }
    }
    if run > 1 {
        sizes.push(run);
    }
    sizes
}

/// Number of orderings of `m` values of one sample and `n` of the other giving each U
/// (the count of pairs where the first sample's value is larger), U = 0 ..= m n.
/// Recurrence: f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u): the largest value belongs to
/// the first sample (beating all n) or to the second. Counts up to C(50, 25) ~ 1.3e14 are
/// exact in f64.
fn u_distribution(m: usize, n: usize) -> Vec<f64> {
    // table[i][j] = distribution for (i, j), built row by row.
    let mut previous: Vec<Vec<f64>> = (0..=n).map(|_| vec![1.0]).collect(); // m = 0: U = 0 only
    for i in 1..=m {
        let mut row: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
        row.push(vec![1.0]); // n = 0: U = 0 only
        for j in 1..=n {
            let mut dist = vec![0.0; i * j + 1];
            for (u, count) in previous[j].iter().enumerate() {
                dist[u + j] += count;
            }
            for (u, count) in row[j - 1].iter().enumerate() {
                dist[u] += count;
            }
            row.push(dist);
        }
        previous = row;
    }
    previous.swap_remove(n)
}

/// Median of a non-empty sample (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, relative: f64) -> bool {
        (a - b).abs() <= relative * b.abs()
    }

    #[test]
    fn normal_distribution_matches_tables() {
        // Standard normal table values (e.g. Abramowitz & Stegun, Table 26.1; NIST/SEMATECH
        // e-Handbook of Statistical Methods, 1.3.6.7.1 "Cumulative Distribution Function of
        // the Standard Normal Distribution").
        assert!(close(normal_cdf(0.0), 0.5, 1e-7));
        assert!(close(normal_cdf(1.0), 0.841_344_746, 1e-7));
        assert!(close(normal_cdf(1.96), 0.975_002_105, 1e-7));
        assert!(close(normal_upper_tail(1.644_853_627), 0.05, 1e-6));
        assert!(close(normal_upper_tail(2.326_347_874), 0.01, 1e-6));
        // The one-sided critical value of alpha = 0.001 is 3.090232306.
        assert!(close(normal_upper_tail(3.090_232_306), 0.001, 1e-6));
        // Far tail: Q(5) = 2.866515719e-7, Q(-3) = 0.998650102.
        assert!(close(normal_upper_tail(5.0), 2.866_515_719e-7, 1e-6));
        assert!(close(normal_upper_tail(-3.0), 0.998_650_102, 1e-7));
        // erfc(1) = 0.157299207 (A&S Table 7.1).
        assert!(close(erfc(1.0), 0.157_299_207, 1.2e-7));
    }

    #[test]
    fn two_proportion_z_by_hand() {
        // 50 of 1000 before, 80 of 1000 after: pooled p = 0.065,
        // SE = sqrt(0.065 * 0.935 * (2/1000)) = 0.0110250, z = 0.03 / SE = 2.72109.
        let (z, tails) = two_proportion_z((50, 1000), (80, 1000), 1.0);
        assert!(close(z, 2.72109, 1e-5), "{z}");
        assert!(close(tails.greater, normal_upper_tail(2.72109), 1e-4));
        assert!(tails.greater < 0.01 && tails.less > 0.99);
        // phi = 4 doubles the standard error: z halves.
        let (z4, _) = two_proportion_z((50, 1000), (80, 1000), 4.0);
        assert!(close(z4, z / 2.0, 1e-12));
        // No errors at all: no evidence.
        assert_eq!(two_proportion_z((0, 500), (0, 500), 1.0).1, Tails::NONE);
    }

    #[test]
    fn overdispersion_of_binomial_and_extra_binomial_counts() {
        // Identical proportions: chi-square 0, floored at 1.
        assert_eq!(overdispersion(&[(10, 100), (10, 100), (10, 100)]), 1.0);
        // Two periods 0/100 and 20/100: p = 0.1, each (x - np)^2 / (np(1-p)) = 100 / 9,
        // chi2 = 200 / 9, df 1.
        assert!(close(overdispersion(&[(0, 100), (20, 100)]), 200.0 / 9.0, 1e-12));
        assert_eq!(overdispersion(&[(0, 100), (0, 100)]), 1.0);
        assert_eq!(overdispersion(&[(3, 100)]), 1.0);
    }

    #[test]
    fn mann_whitney_tortoise_and_hare() {
        // The example of the Wikipedia article "Mann-Whitney U test" (section "Illustration
        // of calculation methods"): finishing order T H H H H H T T T T T H, U_T = 11,
        // U_H = 25. Encode finishing position as the value (larger = later).
        let order = "THHHHHTTTTTH";
        let position = |who: char| order.chars().enumerate().filter(|(_, c)| *c == who).map(|(i, _)| i as f64).collect::<Vec<_>>();
        let (tortoises, hares) = (position('T'), position('H'));
        // U of "hares later than tortoises" = U_T (pairs a tortoise beats a hare) = 11.
        let (u, tails) = mann_whitney(&tortoises, &hares);
        assert_eq!(u, 11.0);
        // Exact: P(U <= 11) for n1 = n2 = 6. The tables of critical values (e.g. Mann &
        // Whitney 1947, Table 1; Siegel, Nonparametric Statistics, Table K) give U <= 5 as the
        // one-sided 2.5% region, so 11 is far from significant; P(U <= 5) = 19/924 = 0.021.
        assert!(tails.less > 0.1 && tails.less < 0.5, "{tails:?}");
        let d = u_distribution(6, 6);
        assert_eq!(d.iter().sum::<f64>(), 924.0); // C(12, 6)
        assert_eq!(d[..=5].iter().sum::<f64>(), 19.0);
        assert_eq!(d[..=6].iter().sum::<f64>(), 30.0); // 30/924 = 0.032 > 0.025: 5 is the critical value
    }

    #[test]
    fn mann_whitney_extremes_and_ties() {
        let before = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0];
        let after = [20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0];
        let (u, tails) = mann_whitney(&before, &after);
        assert_eq!(u, 49.0);
        assert!(close(tails.greater, 1.0 / 3432.0, 1e-12)); // 1 / C(14, 7)
        assert_eq!(tails.less, 1.0);
        // 6 against 6 can never reach 0.001 exactly: 1 / C(12, 6) = 0.00108.
        let (_, six) = mann_whitney(&before[..6], &after[..6]);
        assert!(six.greater > 0.001);
        // Ties: normal approximation with the tie-corrected variance. All equal: no evidence.
        assert_eq!(mann_whitney(&[5.0; 8], &[5.0; 8]).1, Tails::NONE);
        let (u, tails) = mann_whitney(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0], &[3.0, 3.0, 4.0, 4.0, 5.0, 5.0]);
        // U = 32 + 4 * 0.5 = 34 of 36; ties 2, 2, 4, 2, 2: sum(t^3 - t) = 4 * 6 + 60 = 84,
        // var = 36/12 * (13 - 84 / 132) = 37.0909, z = (34 - 18 - 0.5) / 6.0903 = 2.5451.
        assert_eq!(u, 34.0);
        assert!(close(tails.greater, normal_upper_tail(2.5451), 1e-3), "{tails:?}");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
