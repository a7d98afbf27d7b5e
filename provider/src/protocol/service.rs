//! The 12 RPCs of `tfplugin6.Provider`, implemented once on top of the framework traits.
//!
//! Every RPC answers with diagnostics rather than gRPC errors (Terraform shows diagnostics
//! with the attribute they point at; a gRPC error only as "rpc error: ..."). Resource calls
//! are raced against StopProvider and shielded from panics, so a cancelled or buggy call
//! becomes an error diagnostic instead of a dead plugin.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

use futures::FutureExt;
use tokio::sync::watch;

use super::codec::{self, CtyType};
use super::diagnostics::display_path;
use super::plan::{
    config_with_defaults, find_unknown, plan_defaults_and_unknowns, requires_replace,
    unknowns_to_null,
};
use super::proto::tfplugin6 as pb;
use super::schema::{normalize, object_type};
use super::validate::validate_config;
use crate::framework::{AttrPath, DataSource, Diagnostics, Provider, Resource, Schema, Value};

/// The provider service: a [`Provider`] wrapped for gRPC. Cheap to clone (shared state).
pub struct ProviderService<P: Provider> {
    pub(super) inner: Arc<Inner<P>>,
}

impl<P: Provider> Clone for ProviderService<P> {
    fn clone(&self) -> Self {
        ProviderService {
            inner: self.inner.clone(),
        }
    }
}

type ResourceEntry<C> = Typed<Box<dyn Resource<C>>>;
type DataSourceEntry<C> = Typed<Box<dyn DataSource<C>>>;

/// A resource or data source with its schema and cty type, computed once at startup.
pub(super) struct Typed<T> {
    imp: T,
    pub(super) schema: Schema,
    ty: CtyType,
}

impl<T> Typed<T> {
    fn new(imp: T, schema: Schema) -> Self {
        let ty = object_type(&schema.block);
        Typed { imp, schema, ty }
    }
}

pub(super) struct Inner<P: Provider> {
    provider: P,
    pub(super) provider_schema: Schema,
    provider_ty: CtyType,
    pub(super) resources: BTreeMap<String, ResourceEntry<P::Context>>,
    pub(super) data_sources: BTreeMap<String, DataSourceEntry<P::Context>>,
    /// Set by ConfigureProvider; shared by all later calls.
    context: RwLock<Option<Arc<P::Context>>>,
    /// Bumped by StopProvider; calls in flight watch it and give up when it changes.
    stop_generation: watch::Sender<u64>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: P) -> Self {
        let provider_schema = provider.schema();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                (r.type_name().to_owned(), Typed::new(r, schema))
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                (d.type_name().to_owned(), Typed::new(d, schema))
            })
            .collect();
        ProviderService {
            inner: Arc::new(Inner {
                provider_ty: object_type(&provider_schema.block),
                provider_schema,
                provider,
                resources,
                data_sources,
                context: RwLock::new(None),
                stop_generation: watch::channel(0).0,
            }),
        }
    }

    /// Cancels every call in flight (what StopProvider does). Later calls run normally.
    pub fn stop_in_flight(&self) {
        self.inner.stop_generation.send_modify(|g| *g += 1);
    }
}

impl<P: Provider> Inner<P> {
    fn resource(&self, type_name: &str) -> Result<&ResourceEntry<P::Context>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name, self.resources.keys()))
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry<P::Context>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name, self.data_sources.keys()))
    }

    fn context(&self, operation: &str) -> Result<Arc<P::Context>, Diagnostics> {
        self.context.read().unwrap_or_else(|p| p.into_inner()).clone().ok_or_else(|| {
            Diagnostics::error(
                "Provider not configured",
                format!(
                    "{operation} needs the configured provider, but ConfigureProvider has not succeeded yet. \
                     Check the provider block for errors reported earlier."
                ),
            )
        })
    }

    /// Runs a resource/provider call: cancelled by StopProvider, panics turned into diagnostics.
    async fn guarded<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, Diagnostics>> + Send,
    ) -> Result<T, Diagnostics> {
        let mut stop = self.stop_generation.subscribe();
        tokio::select! {
            result = AssertUnwindSafe(fut).catch_unwind() => result.unwrap_or_else(|panic| Err(panic_diagnostic(what, panic))),
            Ok(()) = stop.changed() => Err(Diagnostics::error(
                format!("{what} was cancelled"),
                "Terraform asked the provider to stop (usually after Ctrl-C). The operation may have been \
                 partly carried out; run `terraform plan` to see where things stand.",
            )),
        }
    }

    // -- the RPCs, as Result<_, Diagnostics> ---------------------------------------------

    pub(super) fn validate_provider(
        &self,
        config: &Option<pb::DynamicValue>,
    ) -> Result<Diagnostics, Diagnostics> {
        let config = decode(config, &self.provider_ty, "provider configuration")?;
        let mut diags = validate_config(&self.provider_schema.block, &config);
        diags.extend(self.provider.validate(&config));
        Ok(diags)
    }

    pub(super) fn validate_resource(
        &self,
        type_name: &str,
        config: &Option<pb::DynamicValue>,
    ) -> Result<Diagnostics, Diagnostics> {
        let r = self.resource(type_name)?;
        let config = decode(config, &r.ty, "resource configuration")?;
        let mut diags = validate_config(&r.schema.block, &config);
        diags.extend(r.imp.validate(&config));
        Ok(diags)
    }

    pub(super) fn validate_data_source(
        &self,
        type_name: &str,
        config: &Option<pb::DynamicValue>,
    ) -> Result<Diagnostics, Diagnostics> {
        let d = self.data_source(type_name)?;
        let config = decode(config, &d.ty, "data source configuration")?;
        let mut diags = validate_config(&d.schema.block, &config);
        diags.extend(d.imp.validate(&config));
        Ok(diags)
    }

    pub(super) fn upgrade(
        &self,
        req: &pb::upgrade_resource_state::Request,
    ) -> Result<pb::DynamicValue, Diagnostics> {
        let r = self.resource(&req.type_name)?;
        if req.version > r.schema.version {
            return Err(Diagnostics::error(
                format!("State of {} is from a newer provider", req.type_name),
                format!(
                    "The state was written with schema version {}, this provider knows up to {}. Use the provider version that wrote it, or newer.",
                    req.version, r.schema.version
                ),
            ));
        }
        let raw = req.raw_state.as_ref();
        let state = match raw {
            Some(raw) if !raw.json.is_empty() => codec::decode_json(&raw.json, &r.ty)
                .map_err(|e| Diagnostics::error(format!("Cannot read the stored state of {}", req.type_name), e.to_string()))?,
            Some(raw) if !raw.flatmap.is_empty() => {
                return Err(Diagnostics::error(
                    format!("Cannot read the stored state of {}", req.type_name),
                    "The state is in the flatmap format of Terraform 0.11 and older, which this provider never wrote.",
                ))
            }
            _ => Value::Null,
        };
        // Schema versions so far: only 0 (or the current one); state JSON maps onto it by name.
        encode(&normalize(state, &r.schema.block), &r.ty, "upgraded state")
    }

    pub(super) async fn configure(
        &self,
        config: &Option<pb::DynamicValue>,
    ) -> Result<(), Diagnostics> {
        let config = decode(config, &self.provider_ty, "provider configuration")?;
        // Values may be unknown here during plan (the provider block depends on a resource
        // not yet created): Provider::configure decides what that means.
        let context = self
            .guarded("Configuring the provider", self.provider.configure(&config))
            .await?;
        *self.context.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(context));
        Ok(())
    }

    pub(super) async fn read_resource(
        &self,
        req: &pb::read_resource::Request,
    ) -> (Option<pb::DynamicValue>, Diagnostics) {
        let r = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(d) => return (req.current_state.clone(), d),
        };
        let result = async {
            let current = decode(&req.current_state, &r.ty, "current state")?;
            if current.is_null() {
                return encode(&Value::Null, &r.ty, "state");
            }
            let ctx = self.context("Reading a resource")?;
            let what = format!("Reading {}", req.type_name);
            match self.guarded(&what, r.imp.read(&ctx, &current)).await? {
                // Gone outside Terraform: a null state makes Terraform plan to create it again.
                None => encode(&Value::Null, &r.ty, "state"),
                Some(state) => {
                    let state = normalize(state, &r.schema.block);
                    no_unknowns(&state, &what)?;
                    encode(&state, &r.ty, "refreshed state")
                }
            }
        }
        .await;
        match result {
            Ok(state) => (Some(state), Diagnostics::default()),
            // Keep the current state on failure: returning null would drop it.
            Err(d) => (req.current_state.clone(), d),
        }
    }

    pub(super) async fn plan_resource(
        &self,
        req: &pb::plan_resource_change::Request,
    ) -> Result<(pb::DynamicValue, Vec<AttrPath>), Diagnostics> {
        let r = self.resource(&req.type_name)?;
        let prior = decode(&req.prior_state, &r.ty, "prior state")?;
        let proposed = decode(&req.proposed_new_state, &r.ty, "proposed new state")?;
        let config = decode(&req.config, &r.ty, "configuration")?;
        if proposed.is_null() {
            // Destroy: nothing to plan (Terraform 1.0 does not even ask).
            return Ok((encode(&Value::Null, &r.ty, "planned state")?, Vec::new()));
        }
        let planned = plan_defaults_and_unknowns(&r.schema.block, &prior, proposed, &config);
        let ctx = self.context("Planning a resource")?;
        let prior_opt = (!prior.is_null()).then_some(&prior);
        let what = format!("Planning {}", req.type_name);
        let planned = self
            .guarded(&what, r.imp.modify_plan(&ctx, prior_opt, planned))
            .await?;
        let planned = normalize(planned, &r.schema.block);
        let replace = requires_replace(&r.schema.block, &prior, &planned, &config);
        Ok((encode(&planned, &r.ty, "planned state")?, replace))
    }

    pub(super) async fn apply_resource(
        &self,
        req: &pb::apply_resource_change::Request,
    ) -> (Option<pb::DynamicValue>, Diagnostics) {
        let r = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(d) => return (req.prior_state.clone(), d),
        };
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                decode(&req.prior_state, &r.ty, "prior state")?,
                decode(&req.planned_state, &r.ty, "planned state")?,
                self.context("Applying a change")?,
            ))
        })();
        let (prior, planned, ctx) = match decoded {
            Ok(v) => v,
            Err(d) => return (req.prior_state.clone(), d),
        };
        let null_state = || encode(&Value::Null, &r.ty, "state").ok();
        let (result, on_error) = if planned.is_null() {
            let what = format!("Deleting {}", req.type_name);
            let result = self
                .guarded(&what, r.imp.delete(&ctx, &prior))
                .await
                .map(|()| Value::Null);
            (result, req.prior_state.clone())
        } else if prior.is_null() {
            let what = format!("Creating {}", req.type_name);
            // A failed create leaves nothing Terraform should track.
            (
                self.guarded(&what, r.imp.create(&ctx, &planned)).await,
                null_state(),
            )
        } else {
            let what = format!("Updating {}", req.type_name);
            (
                self.guarded(&what, r.imp.update(&ctx, &prior, &planned))
                    .await,
                req.prior_state.clone(),
            )
        };
        let state = match result {
            Ok(state) => normalize(state, &r.schema.block),
            Err(d) => return (on_error, d),
        };
        let mut diags = Diagnostics::default();
        if let Some(path) = find_unknown(&state, &AttrPath::default()) {
            // Save what exists (unknowns as null) so the object is not lost, and say why.
            diags = Diagnostics::attribute_error(
                path.clone(),
                format!("Provider bug: {} left \"{}\" unknown after apply", req.type_name, display_path(&path)),
                "Every attribute must be known once a change is applied. It was saved as null; please report this.",
            );
        }
        match encode(&unknowns_to_null(state), &r.ty, "new state") {
            Ok(state) => (Some(state), diags),
            Err(mut d) => {
                d.extend(diags);
                (on_error, d)
            }
        }
    }

    pub(super) async fn import(
        &self,
        req: &pb::import_resource_state::Request,
    ) -> Result<pb::DynamicValue, Diagnostics> {
        let r = self.resource(&req.type_name)?;
        let ctx = self.context("Importing a resource")?;
        let what = format!("Importing {} \"{}\"", req.type_name, req.id);
        let state = normalize(
            self.guarded(&what, r.imp.import(&ctx, &req.id)).await?,
            &r.schema.block,
        );
        no_unknowns(&state, &what)?;
        encode(&state, &r.ty, "imported state")
    }

    pub(super) async fn read_data_source(
        &self,
        req: &pb::read_data_source::Request,
    ) -> Result<pb::DynamicValue, Diagnostics> {
        let d = self.data_source(&req.type_name)?;
        let config = config_with_defaults(
            &d.schema.block,
            decode(&req.config, &d.ty, "configuration")?,
        );
        let ctx = self.context("Reading a data source")?;
        let what = format!("Reading data source {}", req.type_name);
        let state = normalize(
            self.guarded(&what, d.imp.read(&ctx, &config)).await?,
            &d.schema.block,
        );
        no_unknowns(&state, &what)?;
        encode(&state, &d.ty, "data source state")
    }
}

fn unknown_type<'a>(
    kind: &str,
    name: &str,
    known: impl Iterator<Item = &'a String>,
) -> Diagnostics {
    let known: Vec<_> = known.map(String::as_str).collect();
    Diagnostics::error(
        format!("Unknown {kind} type \"{name}\""),
        format!(
            "This provider offers: {}.",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ),
    )
}

fn no_unknowns(state: &Value, what: &str) -> Result<(), Diagnostics> {
    match find_unknown(state, &AttrPath::default()) {
        None => Ok(()),
        Some(path) => Err(Diagnostics::attribute_error(
            path.clone(),
            format!(
                "Provider bug: {what} returned \"{}\" as unknown",
                display_path(&path)
            ),
            "Values read from the real world must be known; please report this.",
        )),
    }
}

fn panic_diagnostic(what: &str, panic: Box<dyn Any + Send>) -> Diagnostics {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    tracing::error!(%what, %message, "provider code panicked");
    // The message only: backtraces belong in the log (stderr), never in diagnostics.
    Diagnostics::error(
        format!("Provider bug: {what} failed unexpectedly"),
        format!("{message}\nPlease report this together with the Terraform log (TF_LOG=DEBUG)."),
    )
}

fn decode(dv: &Option<pb::DynamicValue>, ty: &CtyType, what: &str) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let result = if !dv.msgpack.is_empty() {
        codec::decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        codec::decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    result.map_err(|e| {
        Diagnostics::error(format!("Provider could not read the {what}"), e.to_string())
    })
}

fn encode(value: &Value, ty: &CtyType, what: &str) -> Result<pb::DynamicValue, Diagnostics> {
    codec::encode_msgpack(value, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostics::error(
                format!("Provider bug: the {what} does not match the schema"),
                e.to_string(),
            )
        })
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
