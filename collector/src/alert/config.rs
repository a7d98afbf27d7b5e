//! What the alert stage reads first, in ONE `_msearch` request: enabled rules, destinations,
//! open states (pending or firing, or with a notification still pending) and deployments
//! with verdict pending. Missing indices read as empty (`ignore_unavailable`): a fresh
//! installation has no rules, and the stage stops after this request. Part of [`crate::alert`].

use lfm_schema::alerts::{
    alert_destinations_index, alert_rules_index, alert_state_index, deployments_index, notification_status, status,
    verdict, AlertDestinationDocument, AlertRuleDocument, AlertStateDocument, DeploymentDocument,
};
use reqwest::Method;
use serde_json::{json, Value};

use crate::store::opensearch::OpenSearchStore;

/// Documents per section (the largest page OpenSearch serves by default).
pub const SECTION_SIZE: usize = 10_000;

/// What the `_msearch` found.
#[derive(Debug, Default)]
pub struct AlertConfig {
    pub rules: Vec<AlertRuleDocument>,
    pub destinations: Vec<AlertDestinationDocument>,
    pub states: Vec<AlertStateDocument>,
    /// (`_id`, document).
    pub deployments: Vec<(String, DeploymentDocument)>,
    /// A section that failed or a document that could not be read: reported, not fatal.
    pub errors: Vec<String>,
}

/// The ndjson body: four (header, search) pairs.
pub fn msearch_body(prefix: &str) -> String {
    let sections = [
        (alert_rules_index(prefix), json!({"term": {"enabled": true}})),
        (alert_destinations_index(prefix), json!({"match_all": {}})),
        (
            alert_state_index(prefix),
            json!({"bool": {"should": [
                {"terms": {"status": [status::PENDING, status::FIRING]}},
                {"term": {"notification_status": notification_status::PENDING}},
                // Failed deliveries are retried for a day (state::RETRY_FAILED_FOR_SECONDS).
                {"bool": {"filter": [
                    {"term": {"notification_status": notification_status::FAILED}},
                    {"range": {"since": {"gte": "now-1d"}}}
                ]}}
            ], "minimum_should_match": 1}}),
        ),
        (deployments_index(prefix), json!({"term": {"verdict": verdict::PENDING}})),
    ];
    let mut body = String::new();
    for (index, query) in sections {
        body.push_str(&json!({"index": index, "ignore_unavailable": true, "allow_no_indices": true}).to_string());
        body.push('\n');
        body.push_str(&json!({"size": SECTION_SIZE, "query": query, "track_total_hits": true}).to_string());
        body.push('\n');
    }
    body
}

/// Reads the `_msearch` answer.
pub fn parse(answer: &Value, prefix: &str) -> Result<AlertConfig, String> {
    let responses = answer["responses"].as_array().ok_or("the _msearch answer has no responses")?;
    if responses.len() != 4 {
        return Err(format!("the _msearch answer has {} responses for 4 searches", responses.len()));
    }
    let mut config = AlertConfig::default();
    let names = [alert_rules_index(prefix), alert_destinations_index(prefix), alert_state_index(prefix), deployments_index(prefix)];
    let mut sections: Vec<Vec<(String, Value)>> = Vec::new();
    for (response, index) in responses.iter().zip(&names) {
        let mut hits = Vec::new();
        if let Some(error) = response.get("error") {
            if error["type"] != "index_not_found_exception" {
                let reason = error["reason"].as_str().unwrap_or("(no reason)");
                config.errors.push(format!("reading {index}: {}: {reason}", error["type"].as_str().unwrap_or("error")));
            }
        } else {
            let list = response["hits"]["hits"].as_array().cloned().unwrap_or_default();
            let total = response["hits"]["total"]["value"].as_u64().unwrap_or(list.len() as u64);
            if total > list.len() as u64 {
                config.errors.push(format!(
                    "{index}: {total} documents match, only the first {} were read (more than the alert stage reads in one request)",
                    list.len()
                ));
            }
            for hit in list {
                hits.push((hit["_id"].as_str().unwrap_or_default().to_string(), hit["_source"].clone()));
            }
        }
        sections.push(hits);
    }
    for (which, (hits, index)) in sections.into_iter().zip(&names).enumerate() {
        for (id, source) in hits {
            let fail = |e: serde_json::Error| format!("{index} document {id:?} could not be read ({e}); it was skipped");
            match which {
                0 => match serde_json::from_value(source) {
                    Ok(doc) => config.rules.push(doc),
                    Err(e) => config.errors.push(format!("alert rule {id:?} skipped: unreadable document ({e})")),
                },
                1 => match serde_json::from_value(source) {
                    Ok(doc) => config.destinations.push(doc),
                    Err(e) => config.errors.push(fail(e)),
                },
                2 => match serde_json::from_value(source) {
                    Ok(doc) => config.states.push(doc),
                    Err(e) => config.errors.push(fail(e)),
                },
                _ => match serde_json::from_value(source) {
                    Ok(doc) => config.deployments.push((id, doc)),
                    Err(e) => config.errors.push(fail(e)),
                },
            }
        }
    }
    Ok(config)
}

/// Sends the one `_msearch`.
pub async fn load(store: &OpenSearchStore, prefix: &str) -> Result<AlertConfig, String> {
    let response = store
        .client()
        .request(Method::POST, "_msearch")
        .action(format!("reading the alert rules, destinations, states and pending deployments of {prefix}"))
        .body("application/x-ndjson", msearch_body(prefix).into_bytes())
        .send()
        .await
        .map_err(|e| e.to_string())?
        .success()
        .map_err(|e| e.to_string())?;
    parse(&response.json(), prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_searches_in_one_body() {
        let body = msearch_body("t");
        let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 8);
        assert_eq!(lines[0]["index"], "t-alert-rules");
        assert_eq!(lines[0]["ignore_unavailable"], true);
        assert_eq!(lines[1]["query"], json!({"term": {"enabled": true}}));
        assert_eq!(lines[4]["index"], "t-alert-state");
        assert_eq!(lines[7]["query"], json!({"term": {"verdict": "pending"}}));
    }

    #[test]
    fn missing_indices_are_empty_and_bad_documents_are_reported() {
        let rule = serde_json::to_value(crate::alert::rules::tests::threshold_rule("r", "errors", "GreaterThanThreshold", 1.0, 1, 1)).unwrap();
        let answer = json!({"responses": [
            {"hits": {"total": {"value": 2}, "hits": [{"_id": "r", "_source": rule}, {"_id": "broken", "_source": {"name": 3}}]}},
            {"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404},
            {"hits": {"total": {"value": 0}, "hits": []}},
            {"error": {"type": "security_exception", "reason": "no permissions"}, "status": 403}
        ]});
        let config = parse(&answer, "t").unwrap();
        assert_eq!(config.rules.len(), 1);
        assert!(config.destinations.is_empty() && config.states.is_empty() && config.deployments.is_empty());
        assert_eq!(config.errors.len(), 2, "{:?}", config.errors);
        assert!(config.errors[0].contains("security_exception"), "{:?}", config.errors);
        assert!(config.errors[1].contains("\"broken\""), "{:?}", config.errors);
        assert!(parse(&json!({"responses": []}), "t").is_err());
    }
}
