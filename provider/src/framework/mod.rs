//! The provider framework: what a resource, a data source and the provider itself are.
//!
//! Everything generic about plugin protocol 6 (msgpack values, unknowns, planning,
//! RequiresReplace, diagnostics, validation) lives in `crate::protocol` and works on the types
//! defined here. A resource is a [`Schema`] plus five small async functions; it never sees
//! protobuf or msgpack.

pub mod diagnostics;
pub mod schema;
pub mod value;

pub use diagnostics::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
pub use schema::{AttrType, Attribute, Block, NestedBlock, Nesting, ObjectField, Schema, Validator};
pub use value::Value;

use async_trait::async_trait;

/// A managed resource type, generic over the provider's configured context `C`
/// (for LFM: AWS clients built from the provider block).
#[async_trait]
pub trait Resource<C: Send + Sync>: Send + Sync + 'static {
    /// The Terraform type name, e.g. `lfm_monitored_account`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Cross-attribute validation at plan time; per-attribute validators run generically first.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Adjust the generic plan (config merged with prior state, computed attributes unknown
    /// where they may change). Used to compute desired derived values and detect drift.
    /// `prior` is `None` on create. Attributes marked `force_new` that differ from prior
    /// are turned into RequiresReplace by the protocol layer after this hook.
    async fn modify_plan(&self, _ctx: &C, _prior: Option<&Value>, planned: Value) -> Result<Value, Diagnostics> {
        Ok(planned)
    }
    /// Create from the planned object; returns the new state (no unknowns left).
    async fn create(&self, ctx: &C, planned: &Value) -> Result<Value, Diagnostics>;
    /// Refresh `current` from the real world; `Ok(None)` when it no longer exists.
    async fn read(&self, ctx: &C, current: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(&self, ctx: &C, prior: &Value, planned: &Value) -> Result<Value, Diagnostics>;
    /// Delete; an already-deleted object is success.
    async fn delete(&self, ctx: &C, prior: &Value) -> Result<(), Diagnostics>;
    /// Build a state object from an import ID (read is called afterwards by Terraform).
    async fn import(&self, ctx: &C, id: &str) -> Result<Value, Diagnostics>;
}

/// A data source type.
#[async_trait]
pub trait DataSource<C: Send + Sync>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Returns the full object (config plus computed attributes).
    async fn read(&self, ctx: &C, config: &Value) -> Result<Value, Diagnostics>;
}

/// The provider: its configuration schema, how configuration becomes a context, and its types.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    type Context: Send + Sync + 'static;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    async fn configure(&self, config: &Value) -> Result<Self::Context, Diagnostics>;
    fn resources(&self) -> Vec<Box<dyn Resource<Self::Context>>>;
    fn data_sources(&self) -> Vec<Box<dyn DataSource<Self::Context>>>;
}
