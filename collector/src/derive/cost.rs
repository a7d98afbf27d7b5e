//! Lambda cost of one function in one period: requests plus GB-seconds at the region's price
//! for the function's architecture ([`lfm_schema::reference::PriceTable`], overridable).
//!
//! - `billed`: GB-seconds from REPORT "Billed Duration" x "Memory Size" (exact: what AWS bills,
//!   1 ms granularity, the init phase included when AWS bills it);
//! - `estimated`: no REPORT records, so invocations x average Duration x configured memory,
//!   plus the init durations of cold starts when they are billed: for on-demand invocations
//!   of every package type in windows from 2025-08-01 on; before that only container images
//!   and custom runtimes (`provided*`) paid for init.
//!
//! Not included (billed separately): free tier, tier discounts, Savings Plans, ephemeral
//! storage above 512 MB, provisioned concurrency.

use chrono::{DateTime, TimeZone, Utc};
use lfm_schema::reference::PriceTable;

/// AWS bills the INIT phase of all on-demand invocations since this instant.
pub fn init_billed_since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 1, 0, 0, 0).single().expect("valid date")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostBasis {
    Billed,
    Estimated,
}

impl CostBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Billed => "billed",
            Self::Estimated => "estimated",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub basis: CostBasis,
    pub gb_seconds: f64,
    /// `None` when the table has no price for the region (never a guess).
    pub request_cost_usd: Option<f64>,
    pub compute_cost_usd: Option<f64>,
    pub cost_usd: Option<f64>,
}

/// What is known about the usage of one function in one period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    pub invocations: u64,
    /// Sum over REPORT records of Billed Duration (ms) x Memory Size (MB), when REPORTs exist.
    pub billed_mb_ms: Option<f64>,
    /// Fallback inputs for an estimate.
    pub duration_avg_ms: Option<f64>,
    pub memory_mb: Option<u32>,
    /// Sum of Init Duration of the period's cold starts, when known.
    pub init_duration_ms_sum: Option<f64>,
}

/// Whether the init phase of an on-demand cold start is billed for a period at `period_start`.
pub fn init_is_billed(period_start: &DateTime<Utc>, package_type: Option<&str>, runtime: Option<&str>) -> bool {
    *period_start >= init_billed_since()
        || package_type == Some("Image")
        || runtime.is_some_and(|r| r.starts_with("provided"))
}

/// Cost of one period. `None` when neither REPORTs nor the estimate's inputs are available.
pub fn period_cost(
    usage: &Usage,
    prices: &PriceTable,
    region: &str,
    architecture: &str,
    init_billed: bool,
) -> Option<Cost> {
    let (basis, mb_ms) = match usage.billed_mb_ms {
        Some(mb_ms) => (CostBasis::Billed, mb_ms),
        None => {
            let memory = f64::from(usage.memory_mb?);
            let run_ms = match (usage.invocations, usage.duration_avg_ms) {
                (0, _) => 0.0,
                (n, Some(avg)) => n as f64 * avg,
                (_, None) => return None,
            };
            let init_ms = if init_billed { usage.init_duration_ms_sum.unwrap_or(0.0) } else { 0.0 };
            (CostBasis::Estimated, (run_ms + init_ms) * memory)
        }
    };
    let gb_seconds = mb_ms / 1024.0 / 1000.0;
    let price = prices.lookup(region, architecture);
    let request_cost_usd = price.map(|(per_request, _)| usage.invocations as f64 * per_request);
    let compute_cost_usd = price.map(|(_, per_gb_s)| gb_seconds * per_gb_s);
    Some(Cost {
        basis,
        gb_seconds,
        request_cost_usd,
        compute_cost_usd,
        cost_usd: request_cost_usd.zip(compute_cost_usd).map(|(r, c)| r + c),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn billed_cost_from_report_sums() {
        // 1,000 invocations, 150,000 billed ms at 512 MB on x86_64 in us-east-1.
        let usage = Usage { invocations: 1000, billed_mb_ms: Some(150_000.0 * 512.0), ..Usage::default() };
        let cost = period_cost(&usage, &PriceTable::shipped(), "us-east-1", "x86_64", true).unwrap();
        assert_eq!(cost.basis, CostBasis::Billed);
        assert!((cost.gb_seconds - 75.0).abs() < 1e-9);
        assert!((cost.request_cost_usd.unwrap() - 0.0002).abs() < 1e-12);
        assert!((cost.compute_cost_usd.unwrap() - 75.0 * 0.0000166667).abs() < 1e-12);
        assert!((cost.cost_usd.unwrap() - (0.0002 + 75.0 * 0.0000166667)).abs() < 1e-12);
        let arm = period_cost(&usage, &PriceTable::shipped(), "us-east-1", "arm64", true).unwrap();
        assert!(arm.compute_cost_usd.unwrap() < cost.compute_cost_usd.unwrap());
    }

    #[test]
    fn estimate_adds_billed_init_only_when_billed() {
        let usage = Usage {
            invocations: 100,
            billed_mb_ms: None,
            duration_avg_ms: Some(20.0),
            memory_mb: Some(1024),
            init_duration_ms_sum: Some(500.0),
        };
        let prices = PriceTable::shipped();
        let after = period_cost(&usage, &prices, "eu-west-1", "arm64", true).unwrap();
        assert_eq!(after.basis, CostBasis::Estimated);
        assert!((after.gb_seconds - 2.5).abs() < 1e-12); // (2,000 + 500) ms x 1 GB
        let before = period_cost(&usage, &prices, "eu-west-1", "arm64", false).unwrap();
        assert!((before.gb_seconds - 2.0).abs() < 1e-12);
    }

    #[test]
    fn init_billing_rule_by_date_and_package() {
        assert!(init_is_billed(&t("2025-08-01T00:00:00Z"), Some("Zip"), Some("python3.12")));
        assert!(!init_is_billed(&t("2025-07-31T23:55:00Z"), Some("Zip"), Some("python3.12")));
        assert!(init_is_billed(&t("2025-07-31T23:55:00Z"), Some("Image"), None));
        assert!(init_is_billed(&t("2025-07-31T23:55:00Z"), Some("Zip"), Some("provided.al2023")));
    }

    #[test]
    fn unknown_region_has_usage_but_no_price() {
        let usage = Usage { invocations: 10, billed_mb_ms: Some(1024.0 * 1000.0), ..Usage::default() };
        let cost = period_cost(&usage, &PriceTable::shipped(), "af-south-1", "x86_64", true).unwrap();
        assert!((cost.gb_seconds - 1.0).abs() < 1e-12);
        assert_eq!((cost.request_cost_usd, cost.compute_cost_usd, cost.cost_usd), (None, None, None));
    }

    #[test]
    fn no_inputs_no_cost() {
        let usage = Usage { invocations: 5, ..Usage::default() };
        assert_eq!(period_cost(&usage, &PriceTable::shipped(), "us-east-1", "x86_64", true), None);
    }
}
