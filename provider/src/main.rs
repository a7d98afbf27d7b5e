//! The `terraform-provider-lfm` binary: Terraform starts it (see `protocol::serve` for the
//! launch contract and `docs/provider-protocol.md`); everything else lives in the library.

use std::process::ExitCode;

use terraform_provider_lfm::{lfm::LfmProvider, protocol};

// `default()` rather than a unit-struct literal: the provider may grow fields.
#[allow(clippy::default_constructed_unit_structs)]
#[tokio::main]
async fn main() -> ExitCode {
    protocol::serve(LfmProvider::default()).await
}
