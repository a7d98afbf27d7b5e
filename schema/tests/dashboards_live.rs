//! The dashboards bundle against a real OpenSearch node (no Dashboards server runs in the test
//! bed): the lfm-schema index templates are installed under a test prefix, realistic documents
//! built with lfm-schema's own types are indexed, and then, for every visualisation,
//! (a) every field its aggregations and filters use is in the index mapping with a type the
//! aggregation needs, and (b) the search it implies runs and returns something to draw.
//!
//! The numbers of the alerts and regressions dashboard are proved in [`alerts`].
//!
//! Needs `LFM_OPENSEARCH_URL` (from `python -m lfm_testbed env`).

#[path = "dashboards_live/alerts.rs"]
mod alerts;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use lfm_schema::dashboards::spec::MIN_INVOCATIONS;
use lfm_schema::dashboards::{bundle, implied::{has_results, implied_search, path, ImpliedSearch}};
use lfm_schema::documents::{
    index_templates, inventory_document_id, inventory_index, metric_document_id, metrics_index, InventoryDocument,
    MetricDocument, RecommendationEntry, RecommendationEvidence,
};
use serde_json::{json, Value};

fn opensearch_url() -> String {
    match std::env::var("LFM_OPENSEARCH_URL") {
        Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
        _ => panic!(
            "LFM_OPENSEARCH_URL is not set: this test needs the test bed's OpenSearch node. Run \
             `source scripts/env.sh && $LFM_PY -m lfm_testbed up && eval \"$($LFM_PY -m lfm_testbed env)\"` first."
        ),
    }
}

/// `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

fn rfc3339(epoch: i64) -> String {
    let (y, m, d) = civil_from_days(epoch.div_euclid(86_400));
    let s = epoch.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

struct Function {
    account: &'static str,
    region: &'static str,
    name: &'static str,
    runtime: Option<&'static str>,
    memory_mb: u32,
    timeout_s: u32,
    architecture: &'static str,
}

const FLEET: &[Function] = &[
    Function { account: "111122223333", region: "us-east-1", name: "orders", runtime: Some("python3.12"), memory_mb: 512, timeout_s: 30, architecture: "arm64" },
    Function { account: "111122223333", region: "us-east-1", name: "payments", runtime: Some("nodejs20.x"), memory_mb: 1024, timeout_s: 60, architecture: "x86_64" },
    Function { account: "111122223333", region: "eu-west-1", name: "reports", runtime: None, memory_mb: 2048, timeout_s: 900, architecture: "x86_64" },
    Function { account: "444455556666", region: "us-east-1", name: "thumbnails", runtime: Some("python3.9"), memory_mb: 128, timeout_s: 3, architecture: "x86_64" },
    Function { account: "444455556666", region: "eu-west-1", name: "search", runtime: Some("java21"), memory_mb: 3008, timeout_s: 120, architecture: "arm64" },
    // Called once per period and failing each time, right at its timeout: an error rate and a
    // timeout proximity of 1, which no ranking may show (12 invocations < MIN_INVOCATIONS).
    Function { account: "444455556666", region: "eu-west-1", name: RARE, runtime: Some("python3.12"), memory_mb: 256, timeout_s: 3, architecture: "arm64" },
];

const RARE: &str = "rarely-called";

/// The inventory was collected two days ago (no run since): inventory panels still show it.
const INVENTORY_AGE_S: i64 = 2 * 86_400;

/// `(index, id, document)` for 12 five-minute periods of the last hour plus the inventory.
fn seed_documents(prefix: &str, now: i64) -> Vec<(String, String, Value)> {
    const PERIOD: i64 = 300;
    let last_start = now / PERIOD * PERIOD - PERIOD;
    let collected_at = rfc3339(now);
    let inventory_collected_at = rfc3339(now - INVENTORY_AGE_S);
    let mut docs = Vec::new();
    for (f_index, f) in FLEET.iter().enumerate() {
        let arn = format!("arn:aws:lambda:{}:{}:function:{}", f.region, f.account, f.name);
        for period in 0..12_i64 {
            let start = last_start - period * PERIOD;
            let rare = f.name == RARE;
            let invocations = if rare { 1 } else { 10 + 7 * f_index as u64 + period as u64 };
            let errors = if rare { 1 } else if (period + f_index as i64) % 3 == 0 { 1 + f_index as u64 } else { 0 };
            let throttles = if f_index == 1 && period % 2 == 0 { 2 } else { 0 };
            let avg = if rare { f.timeout_s as f64 * 1000.0 / 3.5 } else { 20.0 + 35.0 * f_index as f64 + period as f64 };
            let cold_starts = if (period + f_index as i64) % 3 == 0 { 1 } else { 0 };
            let init = (cold_starts > 0).then_some(150.0 + 20.0 * f_index as f64);
            let timeouts = if f_index == 3 && period % 4 == 0 { 1 } else { 0 };
            let max_memory_used = f.memory_mb as f64 * (0.2 + 0.15 * f_index as f64);
            let gb_seconds = avg / 1000.0 * invocations as f64 * f.memory_mb as f64 / 1024.0;
            let request_cost = invocations as f64 * 0.000_000_2;
            let compute_cost = gb_seconds * 0.000_016_666_7;
            // Through JSON so that metric fields added later (all optional) start as null.
            let doc: MetricDocument = serde_json::from_value(json!({
                "@timestamp": rfc3339(start), "period_seconds": PERIOD, "account_id": f.account, "region": f.region,
                "function_name": f.name, "function_arn": arn, "invocations": invocations, "errors": errors,
                "throttles": throttles, "error_rate": errors as f64 / invocations as f64, "duration_avg_ms": avg,
                "duration_max_ms": avg * 3.5, "collected_at": collected_at,
                "duration_p50_ms": avg * 0.9, "duration_p90_ms": avg * 2.0, "duration_p99_ms": avg * 3.0,
                // From REPORT records: a cold start every third period, a timeout now and then.
                "cold_starts": cold_starts, "cold_start_rate": cold_starts as f64 / invocations as f64,
                "init_duration_avg_ms": init, "init_duration_max_ms": init.map(|i| i * 1.4),
                "max_memory_used_mb": max_memory_used, "memory_utilization": max_memory_used / f.memory_mb as f64,
                "timeouts": timeouts, "timeout_proximity_max": avg * 3.5 / (f.timeout_s as f64 * 1000.0),
                "timeout_proximity_p99": if rare { 1.0 } else { avg * 3.0 / (f.timeout_s as f64 * 1000.0) },
                "billed_duration_ms_sum": (avg * invocations as f64).ceil() as u64, "gb_seconds": gb_seconds,
                "request_cost_usd": request_cost, "compute_cost_usd": compute_cost, "cost_usd": request_cost + compute_cost,
                "cost_basis": if f_index % 2 == 0 { "billed" } else { "estimated" }, "logs_source": "logs_insights",
            }))
            .expect("seed metric document");
            let (y, m, d) = civil_from_days(start.div_euclid(86_400));
            let id = metric_document_id(f.account, f.region, f.name, start, PERIOD as u32);
            docs.push((metrics_index(prefix, y, m, d), id, serde_json::to_value(doc).unwrap()));
        }
        let (status, deprecation) = match f.runtime {
            None => ("image", None),
            Some("python3.9") => ("deprecated", Some(("2025-12-15", -346_i64))),
            Some("nodejs20.x") => ("deprecating", Some(("2026-04-30", 155))),
            Some(_) => ("supported", Some(("2028-10-31", 705))),
        };
        let recommendation_kinds: &[&str] = match f_index {
            0 => &["memory_decrease"],
            3 => &["runtime_upgrade", "arm64_candidate"],
            _ => &[],
        };
        let inventory = InventoryDocument {
            timestamp: inventory_collected_at.clone(),
            collected_at: inventory_collected_at.clone(),
            account_id: f.account.into(),
            region: f.region.into(),
            function_name: f.name.into(),
            function_arn: arn,
            runtime: f.runtime.map(Into::into),
            memory_mb: Some(f.memory_mb),
            timeout_s: Some(f.timeout_s),
            architecture: Some(f.architecture.into()),
            package_type: Some(if f.runtime.is_some() { "Zip" } else { "Image" }.into()),
            last_modified: Some("2026-11-01T10:00:00Z".into()),
            code_sha256: Some(format!("sha-{f_index}")),
            version: Some("$LATEST".into()),
            code_size_bytes: Some(4096 * (1 + f_index as u64)),
            runtime_status: Some(status.into()),
            runtime_deprecation_date: deprecation.map(|(date, _)| date.into()),
            runtime_days_to_deprecation: deprecation.map(|(_, days)| days),
            recommendations: recommendation_kinds
                .iter()
                .map(|kind| RecommendationEntry {
                    kind: kind.to_string(),
                    message: format!("{kind} for {}", f.name),
                    suggested_memory_mb: (*kind == "memory_decrease").then_some(f.memory_mb / 2),
                    suggested_timeout_s: None,
                    evidence: RecommendationEvidence { window_start: rfc3339(now - 3600), window_end: collected_at.clone(), invocations: 120, ..Default::default() },
                })
                .collect(),
            recommendation_kinds: recommendation_kinds.iter().map(|k| k.to_string()).collect(),
        };
        let id = inventory_document_id(f.account, f.region, f.name);
        docs.push((inventory_index(prefix), id, serde_json::to_value(inventory).unwrap()));
    }
    docs
}

struct Node {
    http: reqwest::Client,
    url: String,
}

impl Node {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<String>, content_type: &str) -> (u16, Value) {
        let mut request = self.http.request(method.clone(), format!("{}/{path}", self.url));
        if let Some(body) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: no answer from {}: {e}", self.url));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        self.send(method, path, Some(body.to_string()), "application/json").await
    }

    async fn cleanup(&self, prefix: &str) {
        self.send(reqwest::Method::DELETE, &format!("{prefix}-*?expand_wildcards=all"), None, "").await;
        for (name, _) in index_templates(prefix) {
            self.send(reqwest::Method::DELETE, &format!("_index_template/{name}"), None, "").await;
        }
    }

    /// `field -> type` over every index the pattern matches (they must agree).
    async fn mapping(&self, pattern: &str) -> BTreeMap<String, String> {
        let (status, body) = self.send(reqwest::Method::GET, &format!("{pattern}/_mapping"), None, "").await;
        assert_eq!(status, 200, "GET {pattern}/_mapping: {body}");
        let mut fields = BTreeMap::new();
        for (index, mapping) in body.as_object().unwrap() {
            for (field, m) in mapping["mappings"]["properties"].as_object().unwrap() {
                let ty = m["type"].as_str().unwrap_or("object").to_owned();
                if let Some(previous) = fields.insert(field.clone(), ty.clone()) {
                    assert_eq!(previous, ty, "{index}: {field} mapped differently across {pattern}");
                }
            }
        }
        fields
    }
}

#[tokio::test]
async fn every_visualization_uses_mapped_fields_and_its_search_has_results() {
    let node = Node { http: reqwest::Client::new(), url: opensearch_url() };
    let prefix = format!("lfmdash{}", std::process::id());
    node.cleanup(&prefix).await;

    for (name, body) in index_templates(&prefix) {
        let (status, answer) = node.json(reqwest::Method::PUT, &format!("_index_template/{name}"), &body).await;
        assert_eq!(status, 200, "PUT _index_template/{name}: {answer}");
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut docs = seed_documents(&prefix, now);
    docs.extend(alerts::seed_documents(&prefix, now));
    let mut bulk = String::new();
    for (index, id, doc) in &docs {
        bulk.push_str(&json!({ "index": { "_index": index, "_id": id } }).to_string());
        bulk.push('\n');
        bulk.push_str(&doc.to_string());
        bulk.push('\n');
    }
    let (status, answer) = node.send(reqwest::Method::POST, "_bulk?refresh=true", Some(bulk), "application/x-ndjson").await;
    let mut result = check_bundle(&node, &prefix, status, &answer, docs.len()).await;
    if result.is_ok() {
        result = check_numbers(&node, &prefix, &docs).await;
        let alert_failures = alerts::check_numbers(&node, &prefix, &docs, now).await;
        if !alert_failures.is_empty() {
            result = Err(result.err().unwrap_or_default().into_iter().chain(alert_failures).collect());
        }
    }
    node.cleanup(&prefix).await;
    if let Err(failures) = result {
        panic!("{} problem(s):\n{}", failures.len(), failures.join("\n"));
    }
}

async fn check_bundle(node: &Node, prefix: &str, bulk_status: u16, bulk: &Value, doc_count: usize) -> Result<(), Vec<String>> {
    if bulk_status != 200 || bulk["errors"] != false || bulk["items"].as_array().map(Vec::len) != Some(doc_count) {
        return Err(vec![format!("_bulk of the seed documents failed (HTTP {bulk_status}): {bulk}")]);
    }
    let bundle = bundle(prefix);
    let mut failures = Vec::new();
    let mut checked = 0;
    for vis in bundle.visualizations() {
        let search = match implied_search(&bundle, vis) {
            Ok(search) => search,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let pattern = bundle.get("index-pattern", &search.index_pattern_id).map(|p| p.title().to_owned());
        let Some(pattern) = pattern else {
            failures.push(format!("{}: index pattern {} not in the bundle", vis.id, search.index_pattern_id));
            continue;
        };
        let mapping = node.mapping(&pattern).await;
        for use_ in &search.fields {
            match mapping.get(&use_.field) {
                None => failures.push(format!("{}: {} uses {}, which {pattern} does not map", vis.id, use_.used_by, use_.field)),
                Some(ty) if !use_.need.accepts(ty) => failures.push(format!(
                    "{}: {} on {} needs {:?}, {pattern} maps it as {ty}",
                    vis.id, use_.used_by, use_.field, use_.need
                )),
                Some(_) => {}
            }
        }
        let (status, answer) = node.json(reqwest::Method::POST, &format!("{pattern}/_search"), &search.body).await;
        if status != 200 {
            failures.push(format!("{}: search on {pattern} failed (HTTP {status}): {answer}\nbody: {}", vis.id, search.body));
        } else if !has_results(&answer, &search) {
            failures.push(format!("{}: search on {pattern} has nothing to draw: {answer}\nbody: {}", vis.id, search.body));
        }
        checked += 1;
    }
    let total = bundle.visualizations().count();
    if checked != total || total < 30 {
        failures.push(format!("{checked} of {total} visualisations checked"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

/// Runs the search a visualisation implies and returns the answer.
async fn run(node: &Node, prefix: &str, slug: &str) -> (ImpliedSearch, Value) {
    let b = bundle(prefix);
    let vis = b.get("visualization", &format!("{prefix}-vis-{slug}")).unwrap_or_else(|| panic!("no visualisation {slug}"));
    let search = implied_search(&b, vis).unwrap();
    let pattern = b.get("index-pattern", &search.index_pattern_id).unwrap().title().to_owned();
    let (status, answer) = node.json(reqwest::Method::POST, &format!("{pattern}/_search"), &search.body).await;
    assert_eq!(status, 200, "{slug}: {answer}");
    (search, answer)
}

fn num(v: &Value, dotted: &str) -> f64 {
    path(v, dotted).as_f64().unwrap_or_else(|| panic!("{dotted} is not a number in {v}"))
}

/// The numbers the misleading panels of issue 9 now show, against the seed documents.
async fn check_numbers(node: &Node, prefix: &str, docs: &[(String, String, Value)]) -> Result<(), Vec<String>> {
    let metrics: Vec<&Value> = docs.iter().filter(|(index, ..)| index.contains("-metrics-")).map(|(.., d)| d).collect();
    let mut failures = Vec::new();

    // Fleet error rate per region and hour = sum(errors) / sum(invocations) of the documents.
    let (search, answer) = run(node, prefix, "error-rate-over-time").await;
    let rows = search.drawn.as_ref().unwrap().rows(&answer);
    let mut expected: BTreeMap<(String, i64), (f64, f64)> = BTreeMap::new();
    for d in &metrics {
        let hour = epoch_of(d["@timestamp"].as_str().unwrap()) / 3600 * 3600;
        let e = expected.entry((d["region"].as_str().unwrap().to_owned(), hour * 1000)).or_default();
        e.0 += d["errors"].as_f64().unwrap();
        e.1 += d["invocations"].as_f64().unwrap();
    }
    if rows.len() != expected.len() {
        failures.push(format!("error-rate-over-time: {} points, expected {}: {answer}", rows.len(), expected.len()));
    }
    for row in &rows {
        let key = (row["key"].as_str().unwrap_or_default().to_owned(), num(row, "t.key") as i64);
        let Some((errors, invocations)) = expected.get(&key) else {
            failures.push(format!("error-rate-over-time: unexpected point {key:?}"));
            continue;
        };
        let rate = num(row, "t.rate.value");
        if (rate - errors / invocations).abs() > 1e-9 || rate >= 1.0 {
            failures.push(format!("error-rate-over-time: {key:?} shows {rate}, fleet rate is {errors}/{invocations}"));
        }
    }

    // Rankings: only functions with at least MIN_INVOCATIONS invocations, highest first.
    let mut per_function: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    for d in &metrics {
        let e = per_function.entry(d["function_name"].as_str().unwrap()).or_insert((0.0, 0.0, f64::MIN));
        e.0 += d["errors"].as_f64().unwrap();
        e.1 += d["invocations"].as_f64().unwrap();
        e.2 = e.2.max(d["timeout_proximity_p99"].as_f64().unwrap());
    }
    for (slug, value_of) in [
        ("error-rate-top-functions", (|e: &(f64, f64, f64)| e.0 / e.1) as fn(&(f64, f64, f64)) -> f64),
        ("timeout-proximity-top-functions", |e: &(f64, f64, f64)| e.2),
    ] {
        let (search, answer) = run(node, prefix, slug).await;
        let rows = search.drawn.as_ref().unwrap().rows(&answer);
        let mut wanted: Vec<(&str, f64)> =
            per_function.iter().filter(|(_, e)| e.1 >= f64::from(MIN_INVOCATIONS)).map(|(name, e)| (*name, value_of(e))).collect();
        wanted.sort_by(|a, b| b.1.total_cmp(&a.1));
        let shown: Vec<(String, f64)> = rows.iter().map(|r| (r["key"].as_str().unwrap_or_default().to_owned(), num(r, "rank.value"))).collect();
        let same = shown.len() == wanted.len()
            && shown.iter().zip(&wanted).all(|((name, value), (w_name, w_value))| name == w_name && (value - w_value).abs() < 1e-9);
        if !same || shown.iter().any(|(name, _)| name == RARE) {
            failures.push(format!("{slug}: shows {shown:?}, expected {wanted:?}"));
        }
    }

    // Memory utilisation: lowest first.
    let (_, answer) = run(node, prefix, "memory-utilization-by-function").await;
    let shown: Vec<f64> = answer["aggregations"]["3"]["buckets"].as_array().unwrap().iter().map(|b| num(b, "1.value")).collect();
    if shown.len() != FLEET.len() || shown.windows(2).any(|w| w[0] > w[1]) {
        failures.push(format!("memory-utilization-by-function: not every function lowest first: {shown:?}"));
    }

    // Inventory collected two days ago, dashboards opened on the last 24 hours: all functions.
    let (_, answer) = run(node, prefix, "fleet-functions-by-region").await;
    if answer["hits"]["total"]["value"].as_u64() != Some(FLEET.len() as u64) {
        failures.push(format!("fleet-functions-by-region: the latest inventory is not shown whole: {answer}"));
    }

    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp as [`rfc3339`] writes it.
fn epoch_of(text: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant), the inverse of civil_from_days.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[test]
fn dates_are_utc_calendar_dates() {
    assert_eq!(epoch_of("2026-11-26T15:05:00Z"), 1_795_705_500);
    assert_eq!(epoch_of(&rfc3339(1_700_000_123)), 1_700_000_123);
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_795_705_500), "2026-11-26T15:05:00Z");
    assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    assert_eq!(civil_from_days(20_512), (2026, 2, 28));
}
