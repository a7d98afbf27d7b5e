//! The client against real servers: a TCP listener that accepts and never answers (the call
//! fails within the overall timeout, naming the endpoint and the setting to change), a closed
//! port, and the test bed's OpenSearch node (`LFM_OPENSEARCH_URL`): template install with the
//! mapping upgrade of an existing index, read back, delete.

use std::time::{Duration, Instant};

use lfm_opensearch::{templates, Auth, Client, ClientConfig, Problem, SettingNames, TimeoutKind, Timeouts};

fn config(url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(url, Auth::None);
    config.settings = SettingNames { overall_timeout: "overall_timeout_seconds".into(), url: "opensearch_url".into(), ..SettingNames::default() };
    config
}

#[tokio::test]
async fn a_silent_endpoint_fails_within_the_overall_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts (the kernel completes the handshake) and never reads or answers.
    let held = std::thread::spawn(move || {
        let _connections: Vec<_> = listener.incoming().take(10).collect();
    });
    let mut config = config(&url);
    config.timeouts = Timeouts { connect: Duration::from_secs(1), attempt: Duration::from_secs(2), overall: Duration::from_secs(5) };
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let error = templates::install(&client, "silent").await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert!(matches!(error.problem, Problem::TimedOut { which: TimeoutKind::Overall, .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains(&url), "names the endpoint: {text}");
    assert!(text.contains("overall_timeout_seconds"), "names the setting: {text}");
    assert!(text.contains("no answer within the overall timeout of 5 s"), "{text}");
    println!("{text}");
    drop(held);
}

#[tokio::test]
async fn a_closed_port_says_no_connection() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = config(&format!("http://127.0.0.1:{port}"));
    config.retry.max_attempts = 2;
    let client = Client::new(config).unwrap();
    let error = templates::install(&client, "closed").await.unwrap_err();
    let text = error.to_string();
    println!("{text}");
    assert!(text.starts_with("installing index template closed-metrics failed: PUT http://127.0.0.1:"), "{text}");
    assert!(text.contains("no connection (") && text.contains(", after 2 attempts. Check opensearch_url"), "{text}");
}

#[tokio::test]
async fn templates_install_upgrade_read_and_delete_on_the_real_node() {
    let url = std::env::var("LFM_OPENSEARCH_URL").expect("LFM_OPENSEARCH_URL: eval \"$(scripts/testbed env)\"");
    let client = Client::new(config(&url)).unwrap();
    let prefix = format!("lfmosclient{}", std::process::id());
    let http = reqwest::Client::new();
    // An index made under an older, smaller strict mapping, closed: the upgrade reaches it.
    let index = format!("{prefix}-metrics-2026.01.01");
    let made = http
        .put(format!("{url}/{index}"))
        .json(&serde_json::json!({"mappings": {"dynamic": "strict", "properties": {"@timestamp": {"type": "date"}}}}))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.text().await.unwrap());
    http.post(format!("{url}/{index}/_close")).send().await.unwrap();
    let installed = templates::install(&client, &prefix).await.unwrap();
    assert!(installed.mapping_upgrades_failed.is_empty(), "{:?}", installed.mapping_upgrades_failed.iter().map(|e| e.to_string()).collect::<Vec<_>>());
    assert_eq!(installed.names.len(), templates::desired(&prefix).len());
    http.post(format!("{url}/{index}/_open")).send().await.unwrap();
    let mapping: serde_json::Value = http.get(format!("{url}/{index}/_mapping")).send().await.unwrap().json().await.unwrap();
    let properties = mapping[&index]["mappings"]["properties"].as_object().unwrap();
    assert!(properties.len() > 1, "the closed index took the template's fields: {mapping}");
    for (name, _) in templates::desired(&prefix) {
        assert!(templates::get(&client, &name).await.unwrap().is_some(), "{name}");
        templates::delete(&client, &name).await.unwrap();
        assert!(templates::get(&client, &name).await.unwrap().is_none(), "{name}");
        templates::delete(&client, &name).await.expect("deleting an absent template succeeds");
    }
    // An error from OpenSearch carries its type and reason.
    let error = client.request(reqwest::Method::GET, &format!("{prefix}-none/_doc/x")).action("reading a document").send().await.unwrap().success().unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert!(error.to_string().contains("index_not_found_exception"), "{error}");
    http.delete(format!("{url}/{index}")).send().await.unwrap();
}
