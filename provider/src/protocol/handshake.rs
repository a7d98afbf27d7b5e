//! go-plugin's launch contract, as Terraform drives it.
//!
//! Terraform starts the binary with a magic cookie, the protocol versions it speaks, a port
//! range and its client certificate in the environment. The plugin answers with exactly one
//! line on stdout once it listens:
//!
//! ```text
//! 1|6|unix|/tmp/lfm-plugin-XXXX/plugin.sock|grpc|<server cert: base64 std, no padding, DER>
//! ```
//!
//! (core protocol 1, app protocol 6, network, address, "grpc", cert). Anything else on
//! stdout before that line breaks the handshake, hence logs go to stderr.

use std::path::Path;

use base64::Engine;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version (the first field of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks.
pub const PROTOCOL_VERSION: u32 = 6;
/// The source address used in `TF_REATTACH_PROVIDERS` (debug mode).
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/lfm/lfm";

/// What Terraform told us at launch.
#[derive(Debug, Clone)]
pub struct LaunchEnv {
    /// PEM of Terraform's client certificate; `None` means plaintext (no TLS) was asked for.
    pub client_cert_pem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(
        "This binary is a plugin for Terraform (terraform-provider-lfm). It is not meant to be \
         run directly: Terraform starts it. To use it, install it into a plugin directory and run \
         `terraform init`. To debug it, run it with -debug."
    )]
    NotLaunchedByTerraform,
    #[error(
        "Terraform offered plugin protocol versions {offered}, but this provider speaks only \
         protocol 6. Use Terraform 1.0 or newer."
    )]
    UnsupportedProtocol { offered: String },
}

/// Checks the launch environment (`get` reads a variable; `std::env::var(..).ok()` in main).
pub fn check_launch(get: impl Fn(&str) -> Option<String>) -> Result<LaunchEnv, LaunchError> {
    if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(LaunchError::NotLaunchedByTerraform);
    }
    // go-plugin falls back to the plugin's own version when the variable is absent.
    if let Some(offered) = get("PLUGIN_PROTOCOL_VERSIONS") {
        let speaks_6 = offered
            .split(',')
            .any(|v| v.trim() == PROTOCOL_VERSION.to_string());
        if !speaks_6 {
            return Err(LaunchError::UnsupportedProtocol { offered });
        }
    }
    let client_cert_pem = get("PLUGIN_CLIENT_CERT").filter(|pem| !pem.trim().is_empty());
    Ok(LaunchEnv { client_cert_pem })
}

/// The one stdout line; `server_cert_der` is `None` when serving plaintext.
pub fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}",
        socket.display()
    )
}

/// The `TF_REATTACH_PROVIDERS` value for a provider listening on `socket` (debug mode).
pub fn reattach_json(socket: &Path, pid: u32) -> String {
    serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.display().to_string() },
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn refuses_to_run_without_the_cookie() {
        assert!(matches!(
            check_launch(env(&[])),
            Err(LaunchError::NotLaunchedByTerraform)
        ));
        assert!(matches!(
            check_launch(env(&[(MAGIC_COOKIE_KEY, "nope")])),
            Err(LaunchError::NotLaunchedByTerraform)
        ));
    }

    #[test]
    fn needs_protocol_6() {
        let e = check_launch(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ]));
        assert!(matches!(e, Err(LaunchError::UnsupportedProtocol { .. })));
        let ok = check_launch(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_CLIENT_CERT", "PEM"),
        ]));
        assert_eq!(ok.unwrap().client_cert_pem.as_deref(), Some("PEM"));
    }

    #[test]
    fn handshake_line_format() {
        let line = handshake_line(Path::new("/tmp/x/plugin.sock"), Some(&[0xff, 0x00, 0x10]));
        assert_eq!(line, "1|6|unix|/tmp/x/plugin.sock|grpc|/wAQ");
        assert_eq!(handshake_line(Path::new("/s"), None), "1|6|unix|/s|grpc|");
    }

    #[test]
    fn reattach_json_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&reattach_json(Path::new("/tmp/s.sock"), 42)).unwrap();
        let p = &v["registry.terraform.io/lfm/lfm"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/s.sock");
    }
}
