//! terraform-provider-lfm: see `framework` (what a resource is), `protocol` (plugin protocol 6), `lfm` (the LFM provider), `docs` (registry docs from the schema).
pub mod docs;
pub mod framework;
pub mod lfm;
pub mod protocol;
