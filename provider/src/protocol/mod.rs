//! Terraform plugin protocol 6.0, written once for every resource.
//!
//! You are in the layer between Terraform and the provider framework
//! ([`crate::framework`]): resources and data sources never see gRPC, protobuf or msgpack.
//! The pieces, in the order a Terraform run meets them:
//!
//! - [`handshake`]: go-plugin launch contract (magic cookie, protocol versions, the one
//!   stdout line, the `TF_REATTACH_PROVIDERS` JSON of debug mode);
//! - [`tls`]: the server certificate and the strict client-certificate pinning (mTLS);
//! - [`server`]: the unix socket, TLS handshakes, the tonic server with the provider, health,
//!   controller and stdio services, shutdown;
//! - [`service`]: the 12 RPCs of `tfplugin6.Provider`, mapped onto the framework traits
//!   (`rpc.rs` holds the generated-trait adapters);
//! - [`validate`], [`plan`]: the generic behaviour resources never repeat (validators,
//!   required-ness, defaults, unknowns, RequiresReplace);
//! - [`codec`], [`schema`]: cty values (msgpack / JSON) and schema conversion; [`hcl`]: values
//!   as the user wrote them, for diagnostics.
//!
//! The entry point is [`serve`]; see `docs/provider-protocol.md` for why this layer exists
//! instead of the `tf-provider` crate.

pub mod codec;
pub mod handshake;
pub mod hcl;
pub mod plan;
pub mod proto;
mod rpc;
pub mod schema;
pub mod server;
pub mod service;
pub mod tls;
pub mod validate;

mod diagnostics;

pub use server::{serve, serve_with, ServeOptions};
pub use service::ProviderService;
