//! Reference data LFM ships because AWS has no API for it, each table a dated JSON file under
//! `schema/data/` that names its sources:
//!
//! - [`RuntimeTable`] (`runtimes.json`): Lambda runtime deprecation schedule and arm64 support;
//! - [`PriceTable`] (`lambda_prices.json`): Lambda request and GB-second prices per region.
//!
//! Both parse from the same format when a user overrides them with a file of their own, so the
//! shipped table and an override can never disagree on shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const RUNTIMES: &str = include_str!("../data/runtimes.json");
const PRICES: &str = include_str!("../data/lambda_prices.json");

/// One managed runtime's schedule. Dates are `YYYY-MM-DD` (UTC calendar days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeInfo {
    pub id: String,
    /// End of support: no more patches, no technical support.
    pub deprecation: String,
    pub block_function_create: Option<String>,
    pub block_function_update: Option<String>,
    /// AWS offers this runtime on arm64 (Graviton).
    pub arm64: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeTable {
    #[serde(rename = "_retrieved")]
    pub retrieved: String,
    pub runtimes: Vec<RuntimeInfo>,
}

impl RuntimeTable {
    /// The table shipped with this version of LFM.
    pub fn shipped() -> Self {
        Self::from_json(RUNTIMES).unwrap_or_else(|e| panic!("schema/data/runtimes.json: {e}"))
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let table: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for r in &table.runtimes {
            for date in [Some(&r.deprecation), r.block_function_create.as_ref(), r.block_function_update.as_ref()]
                .into_iter()
                .flatten()
            {
                if !is_iso_date(date) {
                    return Err(format!("runtime {}: {date:?} is not a YYYY-MM-DD date", r.id));
                }
            }
        }
        Ok(table)
    }

    pub fn get(&self, runtime_id: &str) -> Option<&RuntimeInfo> {
        self.runtimes.iter().find(|r| r.id == runtime_id)
    }
}

/// Prices of one region, first tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionPrices {
    pub request_usd_per_million: f64,
    /// By architecture (`x86_64`, `arm64`).
    pub gb_second_usd: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    #[serde(rename = "_retrieved")]
    pub retrieved: String,
    pub regions: BTreeMap<String, RegionPrices>,
}

impl PriceTable {
    pub fn shipped() -> Self {
        Self::from_json(PRICES).unwrap_or_else(|e| panic!("schema/data/lambda_prices.json: {e}"))
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let table: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (region, prices) in &table.regions {
            let all = std::iter::once(prices.request_usd_per_million).chain(prices.gb_second_usd.values().copied());
            if all.into_iter().any(|p| !p.is_finite() || p < 0.0) {
                return Err(format!("region {region}: prices must be finite and not negative"));
            }
        }
        Ok(table)
    }

    /// `(per request, per GB-second)` in `region` for `architecture`, if known.
    pub fn lookup(&self, region: &str, architecture: &str) -> Option<(f64, f64)> {
        let prices = self.regions.get(region)?;
        Some((prices.request_usd_per_million / 1_000_000.0, *prices.gb_second_usd.get(architecture)?))
    }
}

fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_runtime_table_parses_and_is_unique() {
        let table = RuntimeTable::shipped();
        let mut ids: Vec<&str> = table.runtimes.iter().map(|r| r.id.as_str()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate runtime ids");
        let py39 = table.get("python3.9").unwrap();
        assert_eq!(py39.deprecation, "2025-12-15");
        assert!(!table.get("go1.x").unwrap().arm64);
        // Blocking never precedes deprecation.
        for r in &table.runtimes {
            for d in [&r.block_function_create, &r.block_function_update].into_iter().flatten() {
                assert!(d.as_str() >= r.deprecation.as_str(), "{}", r.id);
            }
        }
    }

    #[test]
    fn shipped_prices_are_the_first_tier_of_us_east_1() {
        let table = PriceTable::shipped();
        let (request, x86) = table.lookup("us-east-1", "x86_64").unwrap();
        assert!((request - 0.0000002).abs() < 1e-15);
        assert_eq!(x86, 0.0000166667);
        assert_eq!(table.lookup("us-east-1", "arm64").unwrap().1, 0.0000133334);
        assert!(table.lookup("xx-nowhere-1", "x86_64").is_none());
    }

    #[test]
    fn overrides_are_validated() {
        assert!(RuntimeTable::from_json(
            r#"{"_retrieved": "x", "runtimes": [{"id": "a", "deprecation": "30 Apr 2026", "block_function_create": null, "block_function_update": null, "arm64": true}]}"#
        )
        .unwrap_err()
        .contains("YYYY-MM-DD"));
        assert!(PriceTable::from_json(
            r#"{"_retrieved": "x", "regions": {"r": {"request_usd_per_million": -1, "gb_second_usd": {}}}}"#
        )
        .is_err());
        let custom = PriceTable::from_json(
            r#"{"_retrieved": "2026-11-01", "regions": {"xx-custom-1": {"request_usd_per_million": 0.5, "gb_second_usd": {"x86_64": 0.00002, "arm64": 0.00001}}}}"#,
        )
        .unwrap();
        assert_eq!(custom.lookup("xx-custom-1", "arm64").unwrap().1, 0.00001);
    }
}
