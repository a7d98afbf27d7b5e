//! Unit tests of the pure part of `lfm_dashboard_bundle`: validation, IDs, plan, template
//! comparison and the ISM policy (the multipart body and SigV4 are tested in `lfm-opensearch`).

use super::model::{self, *};
use super::DashboardBundle;
use crate::framework::{PathStep, Resource, Value};
use crate::protocol::validate::validate_config;
use lfm_schema::dashboards::{bundle, BUNDLE_VERSION};
use serde_json::json;


fn config(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object(ATTRIBUTES.iter().chain(BLOCKS).map(|a| (*a, Value::Null)));
    v.set("opensearch_url", Value::string("http://127.0.0.1:9200"));
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

fn errors_on(config: &Value) -> Vec<(String, String)> {
    let r = DashboardBundle;
    let mut diags = validate_config(&r.schema().block, config);
    diags.extend(r.validate(config));
    diags
        .0
        .iter()
        .map(|d| {
            let path = d.attribute.as_ref().map(|p| {
                p.0.iter()
                    .map(|s| {
                        if let PathStep::Attr(a) = s {
                            a.clone()
                        } else {
                            String::new()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(".")
            });
            (
                path.unwrap_or_default(),
                format!("{} {}", d.summary, d.detail),
            )
        })
        .collect()
}

#[test]
fn plan_time_errors_name_the_attribute() {
    let cases = [
        (
            config(&[("opensearch_url", Value::string("search.example.com"))]),
            "opensearch_url",
        ),
        (
            config(&[("dashboards_url", Value::string("ftp://x"))]),
            "dashboards_url",
        ),
        (
            config(&[("retention_days", Value::Number(0.0))]),
            "retention_days",
        ),
        (config(&[("ism", Value::string("sometimes"))]), "ism"),
        (
            config(&[("index_prefix", Value::string("LFM"))]),
            "index_prefix",
        ),
        (config(&[("username", Value::string("u"))]), "password"),
        (config(&[("ism", Value::string("on"))]), "retention_days"),
        (
            config(&[
                ("username", Value::string("u")),
                ("password", Value::string("p")),
                (
                    "sigv4",
                    Value::object([
                        ("service", Value::string("es")),
                        ("region", Value::string("eu-west-1")),
                    ]),
                ),
            ]),
            "sigv4",
        ),
        (
            config(&[(
                "sigv4",
                Value::object([("service", Value::string("es")), ("region", Value::Null)]),
            )]),
            "sigv4.region",
        ),
        (
            config(&[(
                "sigv4",
                Value::object([
                    ("service", Value::string("s3")),
                    ("region", Value::string("eu-west-1")),
                ]),
            )]),
            "sigv4.service",
        ),
    ];
    for (cfg, attr) in cases {
        let errors = errors_on(&cfg);
        assert!(
            errors.iter().any(|(path, _)| path == attr),
            "expected an error on {attr}, got {errors:?}"
        );
    }
    assert!(errors_on(&config(&[
        ("retention_days", Value::Number(30.0)),
        (
            "dashboards_url",
            Value::string("https://d.example.com/_dashboards")
        )
    ]))
    .is_empty());
}

#[test]
fn unknown_values_are_neither_set_nor_missing_until_the_plan_knows_them() {
    let sigv4 = Value::object([
        ("service", Value::string("es")),
        ("region", Value::string("eu-west-1")),
    ]);
    // Inside a module: `username = var.username` and a `dynamic "sigv4"` block, both unknown
    // at validation.
    for cfg in [
        config(&[("username", Value::Unknown), ("password", Value::Unknown), ("sigv4", Value::Unknown)]),
        config(&[("username", Value::Unknown), ("password", Value::Null), ("sigv4", sigv4.clone())]),
        config(&[("username", Value::string("u")), ("password", Value::Unknown)]),
    ] {
        assert!(errors_on(&cfg).is_empty(), "{:?}", errors_on(&cfg));
    }
    // Once known, the conflict is an error of the plan.
    let known = config(&[
        ("username", Value::string("u")),
        ("password", Value::string("p")),
        ("sigv4", sigv4),
    ]);
    let errors = model::validate(&known);
    assert!(errors.has_errors());
    assert!(format!("{errors:?}").contains("Conflicting authentication"), "{errors:?}");
}

#[test]
fn import_ids_round_trip_and_bad_ones_say_the_format() {
    assert_eq!(
        parse_import_id("https://s.example.com/|lfm").unwrap(),
        ("https://s.example.com".to_owned(), "lfm".to_owned(), None)
    );
    assert_eq!(
        parse_import_id("http://127.0.0.1:9200|t1|http://127.0.0.1:5601").unwrap(),
        (
            "http://127.0.0.1:9200".to_owned(),
            "t1".to_owned(),
            Some("http://127.0.0.1:5601".to_owned())
        )
    );
    for bad in [
        "lfm",
        "https://s.example.com",
        "https://s|LFM",
        "s.example.com|lfm",
        "https://s|lfm|nope",
    ] {
        let err = parse_import_id(bad).unwrap_err();
        assert!(
            err.0[0].detail.contains("OPENSEARCH_URL|INDEX_PREFIX"),
            "{bad}: {err:?}"
        );
    }
    let state = import_state("http://127.0.0.1:9200", "t1", None);
    assert_eq!(state.get("id").as_str(), Some("http://127.0.0.1:9200|t1"));
}

#[test]
fn plan_fills_hashes_ids_and_retention() {
    let planned = plan(
        config(&[
            ("index_prefix", Value::string("p1")),
            ("dashboards_url", Value::string("http://d")),
            ("ism", Value::string("auto")),
        ]),
        None,
    );
    assert_eq!(planned.get("id").as_str(), Some("http://127.0.0.1:9200|p1"));
    assert_eq!(planned.get("bundle_version").as_str(), Some(BUNDLE_VERSION));
    let b = bundle("p1");
    assert_eq!(
        planned.get("saved_objects_hash").as_str(),
        Some(b.content_hash.as_str())
    );
    assert_eq!(
        planned.get("saved_object_ids").strings(),
        b.objects.iter().map(|o| o.key()).collect::<Vec<_>>()
    );
    assert!(planned
        .get("saved_object_ids")
        .strings()
        .contains(&"index-pattern/p1-metrics".to_owned()));
    let names = planned.get("template_names").strings();
    assert_eq!(
        names,
        [
            "p1-alert-destinations",
            "p1-alert-rules",
            "p1-alert-state",
            "p1-alerts",
            "p1-checkpoints",
            "p1-deployments",
            "p1-inventory",
            "p1-metrics",
            "p1-runs"
        ]
    );
    assert_eq!(
        planned
            .get("template_hashes")
            .get("p1-metrics")
            .as_str()
            .map(str::len),
        Some(64)
    );
    assert_eq!(planned.get("retention_mode").as_str(), Some(RETENTION_NONE));
    assert!(planned.get("ism_policy_id").is_null());

    // auto with retention: unknown until the first apply probes for ISM, then kept.
    let auto = plan(
        config(&[
            ("index_prefix", Value::string("p1")),
            ("retention_days", Value::Number(7.0)),
            ("ism", Value::string("auto")),
        ]),
        None,
    );
    assert!(auto.get("retention_mode").is_unknown() && auto.get("ism_policy_id").is_unknown());
    let mut prior = auto.clone();
    prior.set("retention_mode", Value::string(RETENTION_COLLECTOR));
    let again = plan(
        config(&[
            ("index_prefix", Value::string("p1")),
            ("retention_days", Value::Number(9.0)),
            ("ism", Value::string("auto")),
        ]),
        Some(&prior),
    );
    assert_eq!(
        again.get("retention_mode").as_str(),
        Some(RETENTION_COLLECTOR)
    );
    assert!(again.get("ism_policy_id").is_null());
    let on = plan(
        config(&[
            ("index_prefix", Value::string("p1")),
            ("retention_days", Value::Number(7.0)),
            ("ism", Value::string("on")),
        ]),
        None,
    );
    assert_eq!(on.get("ism_policy_id").as_str(), Some("p1-retention"));
    // Without Dashboards: no saved objects.
    let plain = plan(config(&[("index_prefix", Value::string("p1"))]), None);
    assert_eq!(plain.get("saved_object_ids"), &Value::List(Vec::new()));
    assert!(plain.get("saved_objects_hash").is_null());
}

#[test]
fn templates_compare_as_opensearch_returns_them() {
    let (_, desired) = desired_templates("t")
        .into_iter()
        .find(|(n, _)| n == "t-inventory")
        .unwrap();
    // What GET _index_template answers for it: settings nested under index, as strings.
    let mut installed = desired.clone();
    installed["template"]["settings"] =
        json!({ "index": { "number_of_shards": "1", "number_of_replicas": "0" } });
    installed["composed_of"] = json!([]);
    assert!(templates_equivalent(&desired, &installed));
    installed["template"]["mappings"]["properties"]["runtime"]["type"] = json!("text");
    assert!(!templates_equivalent(&desired, &installed));
    assert_ne!(template_hash(&desired), template_hash(&installed));
    assert_eq!(
        canonical_json(&json!({"b": 1, "a": {"d": [2, {"f": 1, "e": 0}], "c": null}})),
        r#"{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}"#
    );
}

#[test]
fn ism_policy_deletes_metrics_indices_after_the_retention() {
    let p = ism_policy("lfm", 30);
    assert_eq!(
        p["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"],
        "30d"
    );
    assert_eq!(
        p["policy"]["states"][1]["actions"][0],
        json!({ "delete": {} })
    );
    assert_eq!(
        p["policy"]["ism_template"][0]["index_patterns"],
        json!(["lfm-metrics-*"])
    );
    assert_eq!(ism_policy_id("lfm"), "lfm-retention");
}

#[test]
fn url_and_prefix_validators() {
    for ok in [
        "http://127.0.0.1:9200",
        "https://search-x.eu-west-1.es.amazonaws.com",
        "https://h/_dashboards",
    ] {
        assert!(model::http_url(&Value::string(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "127.0.0.1:9200",
        "http://",
        "https:///x",
        "http://h?x=1",
        "http://a b",
    ] {
        assert!(model::http_url(&Value::string(bad)).is_err(), "{bad}");
    }
    for bad in ["", "-x", "_x", "Upper", "a*b"] {
        assert!(model::index_prefix(&Value::string(bad)).is_err(), "{bad}");
    }
}

#[test]
fn basic_auth_falls_back_to_the_environment_only_without_an_auth_block() {
    let env = |name: &str| match name {
        ENV_USERNAME => Some("env-user".to_owned()),
        ENV_PASSWORD => Some("env-pass".to_owned()),
        _ => None,
    };
    let imported = import_state("http://127.0.0.1:9200", "lfm", None);
    let t = Target::from_value_with_env(&imported, env).unwrap();
    assert_eq!(
        t.auth,
        Auth::Basic {
            username: "env-user".into(),
            password: "env-pass".into()
        }
    );
    let configured = config(&[
        ("username", Value::string("u")),
        ("password", Value::string("p")),
    ]);
    assert_eq!(
        Target::from_value_with_env(&configured, env).unwrap().auth,
        Auth::Basic {
            username: "u".into(),
            password: "p".into()
        }
    );
    assert_eq!(
        Target::from_value_with_env(&imported, |_| None)
            .unwrap()
            .auth,
        Auth::None
    );
}

#[test]
fn saved_objects_fingerprint_sees_edits_not_what_dashboards_adds() {
    let b = bundle("lfm");
    // As `_bulk_get` answers after an import: the objects plus Dashboards' own fields.
    let stored: Vec<serde_json::Value> = b
        .objects
        .iter()
        .map(|o| {
            json!({ "type": o.object_type, "id": o.id, "attributes": o.attributes,
                    "references": o.references, "version": "WzEsMV0=",
                    "updated_at": "2026-11-26T00:00:00.000Z" })
        })
        .collect();
    let base = saved_objects_fingerprint(&b, &stored);
    assert_eq!(base.len(), 64);

    let mut added = stored.clone();
    added[0]["attributes"]["fields"] = json!("[]");
    added[1]["updated_at"] = json!("2026-11-27T00:00:00.000Z");
    assert_eq!(saved_objects_fingerprint(&b, &added), base, "Dashboards' additions");

    let vis = b.objects.iter().position(|o| o.object_type == "visualization").unwrap();
    let mut edited = stored.clone();
    edited[vis]["attributes"]["title"] = json!("Renamed");
    assert_ne!(saved_objects_fingerprint(&b, &edited), base, "an edited title");

    let mut missing = stored.clone();
    missing[vis] = json!({ "type": "visualization", "id": b.objects[vis].id,
                           "error": { "statusCode": 404 } });
    assert_ne!(saved_objects_fingerprint(&b, &missing), base, "a missing object");
}
