//! The LFM provider: configuration, AWS context, resources and data sources. (stub, replaced by the provider work)

use crate::framework::{Block, DataSource, Diagnostics, Provider, Resource, Schema, Value};
use async_trait::async_trait;

#[derive(Default)]
pub struct LfmProvider;

pub struct LfmContext;

#[async_trait]
impl Provider for LfmProvider {
    type Context = LfmContext;
    fn schema(&self) -> Schema {
        Schema { version: 0, block: Block::new("LFM provider") }
    }
    async fn configure(&self, _config: &Value) -> Result<LfmContext, Diagnostics> {
        Ok(LfmContext)
    }
    fn resources(&self) -> Vec<Box<dyn Resource<LfmContext>>> {
        Vec::new()
    }
    fn data_sources(&self) -> Vec<Box<dyn DataSource<LfmContext>>> {
        Vec::new()
    }
}
