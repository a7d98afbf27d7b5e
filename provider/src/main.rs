//! The `terraform-provider-lfm` binary: Terraform starts it (see `protocol::serve` for the
//! launch contract and `docs/provider-protocol.md`); everything else lives in the library.

use std::process::ExitCode;

use terraform_provider_lfm::{lfm::LfmProvider, protocol};

#[tokio::main]
async fn main() -> ExitCode {
    protocol::serve(LfmProvider::default()).await
}
