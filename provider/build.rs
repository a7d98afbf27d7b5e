//! Compiles the protocol definitions in `proto/` into Rust (prost messages, tonic services).
//!
//! There is no `protoc` on build machines: `protox` parses the .proto files in pure Rust and
//! hands tonic-build a file descriptor set.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/go_plugin.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_build::configure()
        .build_server(true)
        // The client is used by the integration tests (a stand-in for Terraform).
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
