//! The RPCs end to end in-process: a small test provider, values msgpack-encoded as
//! Terraform would send them, responses decoded back.

use std::time::Duration;

use async_trait::async_trait;
use tonic::Request;

use super::*;
use crate::framework::{Attribute, Block, Validator};
use pb::provider_server::Provider as _;

struct TestProvider;
struct TestContext;
struct Thing;

#[async_trait]
impl Provider for TestProvider {
    type Context = TestContext;
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("test").attr(Attribute::string("region").optional()),
        }
    }
    async fn configure(&self, config: &Value) -> Result<TestContext, Diagnostics> {
        if config.get("region").is_unknown() {
            // A real provider would defer work that needs the region; here: just accept.
            return Ok(TestContext);
        }
        if config.get("region").as_str() == Some("bad") {
            return Err(Diagnostics::attribute_error(
                AttrPath::attr("region"),
                "Bad region",
                "no such region",
            ));
        }
        Ok(TestContext)
    }
    fn resources(&self) -> Vec<Box<dyn Resource<TestContext>>> {
        vec![Box::new(Thing)]
    }
    fn data_sources(&self) -> Vec<Box<dyn DataSource<TestContext>>> {
        Vec::new()
    }
}

#[async_trait]
impl Resource<TestContext> for Thing {
    fn type_name(&self) -> &'static str {
        "test_thing"
    }
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("a thing")
                .attr(Attribute::string("id").computed().use_state_for_unknown())
                .attr(
                    Attribute::string("name")
                        .required()
                        .force_new()
                        .validate(Validator::Regex {
                            pattern: "[a-z-]+",
                            message: "lowercase letters and dashes",
                        }),
                )
                .attr(Attribute::number("size").default(Value::Number(1.0)))
                .attr(Attribute::string("arn").computed()),
        }
    }
    async fn create(&self, _ctx: &TestContext, planned: &Value) -> Result<Value, Diagnostics> {
        let name = planned.get("name").as_str().unwrap_or_default().to_owned();
        match name.as_str() {
            "hang" => futures::future::pending().await,
            "boom" => panic!("thing exploded"),
            "leave-unknown" => Ok(planned.clone()),
            _ => {
                let mut state = planned.clone();
                state.set("id", Value::string(format!("id-{name}")));
                state.set("arn", Value::string(format!("arn:{name}")));
                Ok(state)
            }
        }
    }
    async fn read(
        &self,
        _ctx: &TestContext,
        current: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        Ok((current.get("id").as_str() != Some("gone")).then(|| current.clone()))
    }
    async fn update(
        &self,
        _ctx: &TestContext,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let mut state = planned.clone();
        state.set("arn", Value::string("arn:updated"));
        Ok(state)
    }
    async fn delete(&self, _ctx: &TestContext, _prior: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }
    async fn import(&self, _ctx: &TestContext, id: &str) -> Result<Value, Diagnostics> {
        Ok(Value::object([
            ("id", Value::string(id)),
            ("name", Value::string("imported")),
            ("size", Value::Number(1.0)),
            ("arn", Value::string("arn:imported")),
        ]))
    }
}

fn thing_ty() -> CtyType {
    object_type(&Thing.schema().block)
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: codec::encode_msgpack(v, &thing_ty()).unwrap(),
        json: Vec::new(),
    })
}

fn undv(d: &Option<pb::DynamicValue>) -> Value {
    codec::decode_msgpack(&d.as_ref().unwrap().msgpack, &thing_ty()).unwrap()
}

fn thing(name: &str) -> Value {
    Value::object([
        ("id", Value::Null),
        ("name", Value::string(name)),
        ("size", Value::Null),
        ("arn", Value::Null),
    ])
}

async fn configured() -> ProviderService<TestProvider> {
    let svc = ProviderService::new(TestProvider);
    let config = codec::encode_msgpack(
        &Value::object([("region", Value::Null)]),
        &object_type(&TestProvider.schema().block),
    )
    .unwrap();
    let resp = svc
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(pb::DynamicValue {
                msgpack: config,
                json: vec![],
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    svc
}

async fn plan(
    svc: &ProviderService<TestProvider>,
    prior: &Value,
    config: &Value,
) -> pb::plan_resource_change::Response {
    // Terraform's proposal: config, with prior values where the config leaves computed ones null.
    let mut proposed = config.clone();
    for name in ["id", "size", "arn"] {
        if config.get(name).is_null() {
            proposed.set(name, prior.get(name).clone());
        }
    }
    let req = pb::plan_resource_change::Request {
        type_name: "test_thing".into(),
        prior_state: dv(prior),
        proposed_new_state: dv(&proposed),
        config: dv(config),
        ..Default::default()
    };
    svc.plan_resource_change(Request::new(req))
        .await
        .unwrap()
        .into_inner()
}

async fn apply(
    svc: &ProviderService<TestProvider>,
    prior: &Value,
    planned: &Value,
) -> pb::apply_resource_change::Response {
    let req = pb::apply_resource_change::Request {
        type_name: "test_thing".into(),
        prior_state: dv(prior),
        planned_state: dv(planned),
        config: dv(planned),
        ..Default::default()
    };
    svc.apply_resource_change(Request::new(req))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn schema_lists_the_resource() {
    let svc = ProviderService::new(TestProvider);
    let resp = svc
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.resource_schemas.contains_key("test_thing"));
    assert!(resp.provider.is_some());
}

#[tokio::test]
async fn validation_points_at_the_attribute() {
    let svc = ProviderService::new(TestProvider);
    let req = pb::validate_resource_config::Request {
        type_name: "test_thing".into(),
        config: dv(&thing("Not Valid")),
    };
    let resp = svc
        .validate_resource_config(Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.diagnostics.len(), 1);
    let d = &resp.diagnostics[0];
    assert_eq!(
        d.summary,
        "Invalid value for \"name\": expected lowercase letters and dashes"
    );
    let step = &d.attribute.as_ref().unwrap().steps[0];
    assert_eq!(
        step.selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );
}

#[tokio::test]
async fn calls_before_configure_say_so() {
    let svc = ProviderService::new(TestProvider);
    let resp = plan(&svc, &Value::Null, &thing("a")).await;
    assert_eq!(resp.diagnostics[0].summary, "Provider not configured");
}

#[tokio::test]
async fn configure_errors_become_diagnostics() {
    let svc = ProviderService::new(TestProvider);
    let config = codec::encode_msgpack(
        &Value::object([("region", Value::string("bad"))]),
        &object_type(&TestProvider.schema().block),
    )
    .unwrap();
    let resp = svc
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: String::new(),
            config: Some(pb::DynamicValue {
                msgpack: config,
                json: vec![],
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.diagnostics[0].summary, "Bad region");
}

#[tokio::test]
async fn create_update_replace_read_delete() {
    let svc = configured().await;
    // create
    let resp = plan(&svc, &Value::Null, &thing("a")).await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let planned = undv(&resp.planned_state);
    assert_eq!(planned.get("size"), &Value::Number(1.0));
    assert_eq!(planned.get("id"), &Value::Unknown);
    let created = apply(&svc, &Value::Null, &planned).await;
    assert!(created.diagnostics.is_empty());
    let state = undv(&created.new_state);
    assert_eq!(state.get("id"), &Value::string("id-a"));

    // no change: the plan is the state
    let resp = plan(&svc, &state, &thing("a")).await;
    assert_eq!(undv(&resp.planned_state), state);
    assert!(resp.requires_replace.is_empty());

    // in-place update: id kept (use_state_for_unknown), arn unknown
    let mut cfg = thing("a");
    cfg.set("size", Value::Number(2.0));
    let resp = plan(&svc, &state, &cfg).await;
    let planned = undv(&resp.planned_state);
    assert_eq!(planned.get("id"), &Value::string("id-a"));
    assert_eq!(planned.get("arn"), &Value::Unknown);
    assert!(resp.requires_replace.is_empty());
    let updated = undv(&apply(&svc, &state, &planned).await.new_state);
    assert_eq!(updated.get("arn"), &Value::string("arn:updated"));

    // force_new
    let resp = plan(&svc, &state, &thing("b")).await;
    assert_eq!(resp.requires_replace.len(), 1);
    assert_eq!(
        resp.requires_replace[0].steps[0].selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );

    // read of a deleted object: null state
    let mut gone = state.clone();
    gone.set("id", Value::string("gone"));
    let req = pb::read_resource::Request {
        type_name: "test_thing".into(),
        current_state: dv(&gone),
        ..Default::default()
    };
    let read = svc
        .read_resource(Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undv(&read.new_state), Value::Null);

    // destroy: plan passes null through, apply deletes
    let req = pb::plan_resource_change::Request {
        type_name: "test_thing".into(),
        prior_state: dv(&state),
        proposed_new_state: dv(&Value::Null),
        config: dv(&Value::Null),
        ..Default::default()
    };
    let resp = svc
        .plan_resource_change(Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undv(&resp.planned_state), Value::Null);
    let deleted = apply(&svc, &state, &Value::Null).await;
    assert!(deleted.diagnostics.is_empty());
    assert_eq!(undv(&deleted.new_state), Value::Null);
}

#[tokio::test]
async fn unknown_left_after_apply_is_an_error_and_saved_as_null() {
    let svc = configured().await;
    let planned = undv(
        &plan(&svc, &Value::Null, &thing("leave-unknown"))
            .await
            .planned_state,
    );
    let resp = apply(&svc, &Value::Null, &planned).await;
    assert!(
        resp.diagnostics[0].summary.contains("left \"arn\" unknown"),
        "{:?}",
        resp.diagnostics
    );
    assert!(!undv(&resp.new_state).contains_unknown());
}

#[tokio::test]
async fn panics_become_diagnostics_without_backtraces() {
    let svc = configured().await;
    let planned = undv(&plan(&svc, &Value::Null, &thing("boom")).await.planned_state);
    let resp = apply(&svc, &Value::Null, &planned).await;
    let d = &resp.diagnostics[0];
    assert!(d.summary.starts_with("Provider bug: Creating test_thing"));
    assert!(d.detail.contains("thing exploded"));
    assert!(!d.detail.contains("stack backtrace"));
}

#[tokio::test]
async fn stop_provider_cancels_calls_in_flight() {
    let svc = configured().await;
    let planned = undv(&plan(&svc, &Value::Null, &thing("hang")).await.planned_state);
    let svc2 = svc.clone();
    let call = tokio::spawn(async move { apply(&svc2, &Value::Null, &planned).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    svc.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("not cancelled")
        .unwrap();
    assert!(resp.diagnostics[0].summary.contains("cancelled"));
    // and the provider keeps serving
    assert!(plan(&svc, &Value::Null, &thing("a"))
        .await
        .diagnostics
        .is_empty());
}

#[tokio::test]
async fn import_and_upgrade() {
    let svc = configured().await;
    let req = pb::import_resource_state::Request {
        type_name: "test_thing".into(),
        id: "x-1".into(),
    };
    let resp = svc
        .import_resource_state(Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.imported_resources.len(), 1);
    assert_eq!(resp.imported_resources[0].type_name, "test_thing");
    assert_eq!(
        undv(&resp.imported_resources[0].state).get("id"),
        &Value::string("x-1")
    );

    let raw = br#"{"id":"id-a","name":"a","size":3,"arn":"arn:a","dropped":true}"#;
    let req = pb::upgrade_resource_state::Request {
        type_name: "test_thing".into(),
        version: 0,
        raw_state: Some(pb::RawState {
            json: raw.to_vec(),
            flatmap: Default::default(),
        }),
    };
    let resp = svc
        .upgrade_resource_state(Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    assert_eq!(undv(&resp.upgraded_state).get("size"), &Value::Number(3.0));
}

#[tokio::test]
async fn unknown_types_are_named() {
    let svc = configured().await;
    let req = pb::validate_resource_config::Request {
        type_name: "test_nope".into(),
        config: None,
    };
    let resp = svc
        .validate_resource_config(Request::new(req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resp.diagnostics[0].summary,
        "Unknown resource type \"test_nope\""
    );
    assert!(resp.diagnostics[0].detail.contains("test_thing"));
}

#[tokio::test]
async fn unknown_provider_config_reaches_configure() {
    let svc = ProviderService::new(TestProvider);
    let ty = object_type(&TestProvider.schema().block);
    let config = codec::encode_msgpack(&Value::object([("region", Value::Unknown)]), &ty).unwrap();
    let dv = Some(pb::DynamicValue {
        msgpack: config,
        json: vec![],
    });
    let validate = pb::validate_provider_config::Request { config: dv.clone() };
    let resp = svc
        .validate_provider_config(Request::new(validate))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    let configure = pb::configure_provider::Request {
        terraform_version: "1.0.3".into(),
        config: dv,
    };
    let resp = svc
        .configure_provider(Request::new(configure))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    // configured: planning works
    assert!(plan(&svc, &Value::Null, &thing("a"))
        .await
        .diagnostics
        .is_empty());
}
