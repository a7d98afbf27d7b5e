//! `lfm_dashboard_bundle` driven in-process (create, read, update, delete, import, as the
//! protocol layer calls them) against the test bed's real OpenSearch node and the recording
//! Dashboards saved-objects server (`lfm_testbed.dashboards_recorder`, which enforces
//! `osd-xsrf`, basic auth and resolvable references like Dashboards).
//!
//! Needs `LFM_OPENSEARCH_URL` and `LFM_PY` (the test bed's venv python, with `PYTHONPATH`
//! reaching `testbed/`): `source scripts/env.sh && $LFM_PY -m lfm_testbed up && eval "$($LFM_PY -m lfm_testbed env)"`.

mod common;

use common::{opensearch_url, Recorder};
use lfm_schema::dashboards::{bundle, SavedObject, SavedObjectReference};
use serde_json::{json, Value as Json};
use terraform_provider_lfm::framework::{Provider, Resource, Value};
use terraform_provider_lfm::lfm::resources::dashboard_bundle::client::Client;
use terraform_provider_lfm::lfm::resources::dashboard_bundle::model::{self, Target};
use terraform_provider_lfm::lfm::resources::dashboard_bundle::DashboardBundle;
use terraform_provider_lfm::lfm::{LfmContext, LfmProvider};

const USER: &str = "lfm-admin";
const PASSWORD: &str = "not-a-real-secret";

struct Http(reqwest::Client);

impl Http {
    async fn send(&self, method: &str, url: &str, body: Option<Json>) -> (u16, Json) {
        let mut r = self
            .0
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .basic_auth(USER, Some(PASSWORD));
        if method != "GET" {
            r = r.header("osd-xsrf", "true");
        }
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = r
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Json::String(text)),
        )
    }
}

/// `POST api/saved_objects/_import?overwrite=true` on the recorder, as a user's import (or an
/// edit in Dashboards) would store objects.
async fn recorder_import(url: &str, boundary: &str, body: Vec<u8>) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/api/saved_objects/_import?overwrite=true"))
        .basic_auth(USER, Some(PASSWORD))
        .header("osd-xsrf", "true")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
}

async fn context() -> LfmContext {
    std::env::set_var("AWS_REGION", "us-east-1");
    let config = Value::object([
        ("region", Value::Null),
        ("assume_role", Value::Null),
        ("endpoints", Value::Null),
    ]);
    LfmProvider
        .configure(&config)
        .await
        .expect("provider configures")
}

fn config(os: &str, dashboards: &str, prefix: &str, retention_days: Option<f64>) -> Value {
    let mut v = Value::object(
        model::ATTRIBUTES
            .iter()
            .chain(model::BLOCKS)
            .map(|a| (*a, Value::Null)),
    );
    v.set("opensearch_url", Value::string(os));
    v.set("dashboards_url", Value::string(dashboards));
    v.set("index_prefix", Value::string(prefix));
    v.set(
        "retention_days",
        retention_days.map(Value::Number).unwrap_or(Value::Null),
    );
    v.set("ism", Value::string("auto"));
    v.set("request_timeout_seconds", Value::Number(30.0));
    v.set("max_retries", Value::Number(2.0));
    v.set("username", Value::string(USER));
    v.set("password", Value::string(PASSWORD));
    v
}

/// The attributes a plan computes, from a state: what Terraform would compare.
fn computed(v: &Value) -> Vec<(&'static str, Value)> {
    [
        "id",
        "template_names",
        "template_hashes",
        "saved_object_ids",
        "saved_objects_hash",
        "saved_objects_fingerprint",
        "bundle_version",
        "ism_policy_id",
        "retention_mode",
    ]
    .into_iter()
    .map(|a| (a, v.get(a).clone()))
    .collect()
}

async fn plan(r: &DashboardBundle, ctx: &LfmContext, prior: &Value, config: &Value) -> Value {
    let mut proposed = prior.clone();
    for a in [
        "opensearch_url",
        "dashboards_url",
        "index_prefix",
        "retention_days",
        "ism",
        "request_timeout_seconds",
        "max_retries",
        "username",
        "password",
        "sigv4",
    ] {
        proposed.set(a, config.get(a).clone());
    }
    r.modify_plan(ctx, Some(prior), proposed).await.unwrap()
}

#[tokio::test]
async fn create_read_drift_update_import_delete_against_opensearch_and_the_recorder() {
    let os = opensearch_url();
    let recorder = Recorder::start(USER, PASSWORD);
    let http = Http(reqwest::Client::new());
    let prefix = format!("lfmbundle{}", std::process::id());
    let ctx = context().await;
    let r = DashboardBundle;

    // An index made by an older collector: the bundle must add the current mapping to it.
    let inventory = format!("{os}/{prefix}-inventory");
    let (s, b) = http
        .send(
            "PUT",
            &inventory,
            Some(json!({ "mappings": { "properties": { "account_id": { "type": "keyword" } } } })),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    // Create.
    let cfg = config(&os, &recorder.url, &prefix, Some(7.0));
    let planned = r.modify_plan(&ctx, None, cfg.clone()).await.unwrap();
    assert!(
        planned.get("retention_mode").is_unknown(),
        "auto: known after probing"
    );
    let state = r
        .create(&ctx, &planned)
        .await
        .unwrap_or_else(|d| panic!("create: {d:?}"));
    assert_eq!(
        state.get("retention_mode").as_str(),
        Some("collector"),
        "the test bed's OpenSearch has no ISM plugin"
    );
    assert!(state.get("ism_policy_id").is_null());
    for (name, value) in computed(&planned)
        .into_iter()
        .filter(|(_, v)| !v.is_unknown())
    {
        assert_eq!(
            state.get(name),
            &value,
            "{name}: apply must give what the plan said"
        );
    }
    for (name, _) in lfm_schema::documents::index_templates(&prefix) {
        let (s, _) = http
            .send("GET", &format!("{os}/_index_template/{name}"), None)
            .await;
        assert_eq!(s, 200, "template {name} installed");
    }
    let (_, mapping) = http
        .send("GET", &format!("{inventory}/_mapping"), None)
        .await;
    assert_eq!(
        mapping[format!("{prefix}-inventory")]["mappings"]["properties"]["memory_mb"]["type"],
        "integer",
        "{mapping}"
    );

    // The import request, as the documented saved-objects API wants it.
    let (_, records) = http
        .send("GET", &format!("{}/_recorder/requests", recorder.url), None)
        .await;
    let imports: Vec<&Json> = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["path"] == "/api/saved_objects/_import")
        .collect();
    assert_eq!(imports.len(), 1, "{records}");
    let import = imports[0];
    assert_eq!(import["method"], "POST");
    assert_eq!(import["query"]["overwrite"], "true");
    assert_eq!(import["headers"]["osd-xsrf"], "true");
    assert!(import["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    assert!(import["headers"]["authorization"]
        .as_str()
        .unwrap()
        .starts_with("Basic "));
    let body = import["body"].as_str().unwrap();
    assert!(body.contains("Content-Disposition: form-data; name=\"file\""));
    let b = bundle(&prefix);
    for object in &b.objects {
        assert!(
            body.contains(&format!("\"id\":\"{}\"", object.id)),
            "{} in the import",
            object.id
        );
        let (s, _) = http
            .send(
                "GET",
                &format!("{}/api/saved_objects/{}", recorder.url, object.key()),
                None,
            )
            .await;
        assert_eq!(s, 200, "{} stored", object.key());
    }
    assert_eq!(
        state.get("saved_object_ids").strings().len(),
        b.objects.len()
    );

    // Read right after apply: nothing to change (an empty second plan).
    let read = r.read(&ctx, &state).await.unwrap().expect("exists");
    assert_eq!(computed(&read), computed(&state));
    assert_eq!(
        computed(&plan(&r, &ctx, &read, &cfg).await),
        computed(&state)
    );

    // A template deleted outside Terraform and a saved object removed in Dashboards: drift.
    let metrics_template = format!("{prefix}-metrics");
    http.send(
        "DELETE",
        &format!("{os}/_index_template/{metrics_template}"),
        None,
    )
    .await;
    let dashboard_key = b.objects.last().unwrap().key();
    http.send(
        "DELETE",
        &format!("{}/api/saved_objects/{dashboard_key}", recorder.url),
        None,
    )
    .await;
    let drifted = r
        .read(&ctx, &read)
        .await
        .unwrap()
        .expect("still partly there");
    assert!(drifted
        .get("template_hashes")
        .get(&metrics_template)
        .is_null());
    assert_eq!(
        drifted.get("saved_objects_hash").as_str(),
        Some("incomplete")
    );
    let replanned = plan(&r, &ctx, &drifted, &cfg).await;
    assert_ne!(
        computed(&replanned),
        computed(&drifted),
        "the plan shows an update"
    );

    // A template changed outside Terraform: its hash is no longer the desired one.
    let (_, current) = http
        .send("GET", &format!("{os}/_index_template/{prefix}-runs"), None)
        .await;
    let mut changed = current["index_templates"][0]["index_template"].clone();
    changed["priority"] = json!(7);
    http.send(
        "PUT",
        &format!("{os}/_index_template/{prefix}-runs"),
        Some(changed),
    )
    .await;
    let drifted = r.read(&ctx, &drifted).await.unwrap().unwrap();
    assert_ne!(
        drifted
            .get("template_hashes")
            .get(&format!("{prefix}-runs")),
        state.get("template_hashes").get(&format!("{prefix}-runs"))
    );

    // Update (retention change): everything restored.
    let cfg2 = config(&os, &recorder.url, &prefix, Some(30.0));
    let planned2 = plan(&r, &ctx, &drifted, &cfg2).await;
    let state2 = r
        .update(&ctx, &drifted, &planned2)
        .await
        .unwrap_or_else(|d| panic!("update: {d:?}"));
    assert_eq!(computed(&state2), computed(&state));
    assert_eq!(state2.get("retention_days"), &Value::Number(30.0));
    let read2 = r.read(&ctx, &state2).await.unwrap().unwrap();
    assert_eq!(computed(&read2), computed(&state));

    // Dashboards adding to an object by itself (an index pattern's cached field list) is not
    // drift; a user editing an object inside Dashboards (a visualisation's title) is: the plan
    // shows an update and applying it puts the bundle's version back.
    let reimport = |objects: Vec<SavedObject>| {
        let ndjson: String = objects
            .iter()
            .map(|o| serde_json::to_string(o).unwrap() + "\n")
            .collect();
        let boundary = "lfm-test-edit";
        recorder_import(&recorder.url, boundary, lfm_opensearch::dashboards::multipart_body(boundary, &ndjson))
    };
    let mut pattern = b
        .objects
        .iter()
        .find(|o| o.object_type == "index-pattern")
        .unwrap()
        .clone();
    pattern.attributes["fields"] = json!("[{\"name\":\"@timestamp\",\"type\":\"date\"}]");
    reimport(vec![pattern]).await;
    let read3 = r.read(&ctx, &read2).await.unwrap().unwrap();
    assert_eq!(computed(&read3), computed(&state), "Dashboards' own additions are no drift");
    let mut vis = b
        .objects
        .iter()
        .find(|o| o.object_type == "visualization")
        .unwrap()
        .clone();
    vis.attributes["title"] = json!("Renamed in Dashboards");
    let vis_key = vis.key();
    reimport(vec![vis]).await;
    let edited = r.read(&ctx, &read3).await.unwrap().unwrap();
    assert_eq!(edited.get("saved_objects_hash").as_str(), Some("edited"));
    let replanned = plan(&r, &ctx, &edited, &cfg2).await;
    assert_eq!(replanned.get("saved_objects_hash").as_str(), Some(b.content_hash.as_str()));
    assert!(replanned.get("saved_objects_fingerprint").is_unknown(), "re-read after apply");
    let restored = r.update(&ctx, &edited, &replanned).await.unwrap();
    assert_eq!(computed(&restored), computed(&state));
    let (_, stored) = http
        .send("GET", &format!("{}/api/saved_objects/{vis_key}", recorder.url), None)
        .await;
    assert_ne!(stored["attributes"]["title"], "Renamed in Dashboards", "{stored}");
    let state2 = restored;

    // A new bundle version (a state written by an older provider): the plan is an update,
    // and applying it imports the saved objects again.
    let mut older = read2.clone();
    older.set("saved_objects_hash", Value::string("0000000000000000"));
    older.set("bundle_version", Value::string("0.0.1"));
    let planned3 = plan(&r, &ctx, &older, &cfg2).await;
    assert_eq!(
        planned3.get("saved_objects_hash"),
        state.get("saved_objects_hash")
    );
    assert_ne!(
        computed(&planned3),
        computed(&older),
        "a new bundle plans an update"
    );
    let imports = |records: &Json| {
        records
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["path"] == "/api/saved_objects/_import")
            .count()
    };
    let before = imports(
        &http
            .send("GET", &format!("{}/_recorder/requests", recorder.url), None)
            .await
            .1,
    );
    let state3 = r.update(&ctx, &older, &planned3).await.unwrap();
    assert_eq!(computed(&state3), computed(&state));
    assert_eq!(
        imports(
            &http
                .send("GET", &format!("{}/_recorder/requests", recorder.url), None)
                .await
                .1
        ),
        before + 1
    );

    // Import by ID, then read: the same computed values.
    let id = state.get("id").as_str().unwrap().to_owned();
    // An imported state has no auth block: the read takes basic auth from the environment.
    std::env::set_var(model::ENV_USERNAME, USER);
    std::env::set_var(model::ENV_PASSWORD, PASSWORD);
    let imported = r
        .import(&ctx, &format!("{id}|{}", recorder.url))
        .await
        .unwrap();
    let imported = r
        .read(&ctx, &imported)
        .await
        .unwrap()
        .expect("import finds the bundle");
    assert_eq!(
        imported.get("template_hashes"),
        state.get("template_hashes")
    );
    assert_eq!(
        imported.get("saved_object_ids"),
        state.get("saved_object_ids")
    );
    assert_eq!(
        imported.get("saved_objects_hash"),
        state.get("saved_objects_hash")
    );
    assert_eq!(
        imported.get("retention_mode").as_str(),
        Some("none"),
        "no ISM policy found: retention_days is not known"
    );

    // A bundle with a dangling reference is refused (no silent partial dashboards).
    let target = Target::from_value(&state2).unwrap();
    let client = Client::new(&target, None, lfm_aws::Timeouts::DEFAULT).unwrap();
    let mut broken = bundle(&prefix);
    broken.objects.retain(|o| o.object_type != "index-pattern");
    broken.objects.push(SavedObject {
        object_type: "visualization".into(),
        id: format!("{prefix}-vis-dangling"),
        attributes: json!({ "title": "dangling" }),
        references: vec![SavedObjectReference {
            name: "x".into(),
            object_type: "index-pattern".into(),
            id: format!("{prefix}-nope"),
        }],
    });
    let err = client.import_saved_objects(&broken).await.unwrap_err();
    assert!(format!("{err:?}").contains("missing_references"), "{err:?}");

    // Destroy: templates and saved objects gone, data indices kept.
    r.delete(&ctx, &state2).await.unwrap();
    for (name, _) in lfm_schema::documents::index_templates(&prefix) {
        let (s, _) = http
            .send("GET", &format!("{os}/_index_template/{name}"), None)
            .await;
        assert_eq!(s, 404, "template {name} removed");
    }
    for object in &b.objects {
        let (s, _) = http
            .send(
                "GET",
                &format!("{}/api/saved_objects/{}", recorder.url, object.key()),
                None,
            )
            .await;
        assert_eq!(s, 404, "{} removed", object.key());
    }
    let (s, _) = http.send("GET", &inventory, None).await;
    assert_eq!(s, 200, "the data index stays");
    assert!(
        r.read(&ctx, &state2).await.unwrap().is_none(),
        "gone outside Terraform -> removed from state, plan creates"
    );
    r.delete(&ctx, &state2)
        .await
        .expect("deleting what is already gone succeeds");
    http.send("DELETE", &inventory, None).await;
}
