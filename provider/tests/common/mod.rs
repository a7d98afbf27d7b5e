//! Shared by the provider's integration tests: the test bed's moto (`moto_url`), a package zip
//! (`stored_zip`), and for the acceptance tests that drive the built provider with a real
//! client, Terraform 1.0.3 or OpenTofu (`terraform_*.rs`): where the client is, and a working
//! directory whose filesystem mirror holds the provider binary under test. Each test adds its
//! own helpers in an `impl Workdir` block. For `lfm_dashboard_bundle`: the test bed's OpenSearch
//! (`opensearch_url`) and the recording Dashboards server ([`Recorder`]).
#![allow(dead_code)] // each test crate uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The test bed's moto server (`LFM_MOTO_URL`).
pub fn moto_url() -> String {
    std::env::var("LFM_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "LFM_MOTO_URL is not set. This test needs the test bed's moto server: run it through the project's test command, \
             or start it (`python -m lfm_testbed up`, then `eval \"$(python -m lfm_testbed env)\"`)."
        )
    })
}

/// A zip with one stored entry `name` (mode 0755; what `zip -0` writes).
pub fn stored_zip(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(content);
    let (n, len) = (name.len() as u16, content.len() as u32);
    let mut local = b"PK\x03\x04".to_vec();
    for v in [20u16, 0, 0, 0, 0] {
        local.extend(v.to_le_bytes());
    }
    local.extend(crc.to_le_bytes());
    local.extend(len.to_le_bytes());
    local.extend(len.to_le_bytes());
    local.extend(n.to_le_bytes());
    local.extend(0u16.to_le_bytes());
    local.extend(name.as_bytes());
    local.extend(content);
    let mut central = b"PK\x01\x02".to_vec();
    for v in [20u16, 20, 0, 0, 0, 0] {
        central.extend(v.to_le_bytes());
    }
    central.extend(crc.to_le_bytes());
    central.extend(len.to_le_bytes());
    central.extend(len.to_le_bytes());
    central.extend(n.to_le_bytes());
    for v in [0u16, 0, 0, 0] {
        central.extend(v.to_le_bytes());
    }
    central.extend((0o100755u32 << 16).to_le_bytes());
    central.extend(0u32.to_le_bytes());
    central.extend(name.as_bytes());
    let mut end = b"PK\x05\x06".to_vec();
    for v in [0u16, 0, 1, 1] {
        end.extend(v.to_le_bytes());
    }
    end.extend((central.len() as u32).to_le_bytes());
    end.extend((local.len() as u32).to_le_bytes());
    end.extend(0u16.to_le_bytes());
    [local, central, end].concat()
}

/// Terraform 1.0.3: `LFM_TERRAFORM`, else the test bed's `$LFM_CACHE/terraform/1.0.3/terraform`.
pub fn terraform() -> PathBuf {
    test_bed_binary("LFM_TERRAFORM", "terraform/1.0.3/terraform", "Terraform 1.0.3")
}

/// OpenTofu as the test bed builds it: `LFM_TOFU`, else `$LFM_CACHE/opentofu/<VERSION>/bin/tofu`
/// (VERSION as in testbed/lfm_testbed/opentofu.py).
pub fn tofu() -> PathBuf {
    test_bed_binary("LFM_TOFU", "opentofu/1.12.6/bin/tofu", "OpenTofu")
}

/// A client the test bed installs: `$var`, else `relative` under `$LFM_CACHE` (default
/// `~/.cache/lfm`); it must exist.
fn test_bed_binary(var: &str, relative: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("LFM_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/lfm"));
        cache.join(relative)
    });
    assert!(
        path.exists(),
        "{what} not found at {} (set {var}, or `python -m lfm_testbed up`)",
        path.display()
    );
    path
}

/// The two clients every acceptance test of a resource runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Terraform,
    OpenTofu,
}

impl Client {
    pub fn binary(self) -> PathBuf {
        match self {
            Client::Terraform => terraform(),
            Client::OpenTofu => tofu(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Client::Terraform => "terraform",
            Client::OpenTofu => "tofu",
        }
    }
}

/// `source = "lfm/lfm"` means registry.terraform.io/lfm/lfm to Terraform and
/// registry.opentofu.org/lfm/lfm to OpenTofu: the mirror holds the provider under both.
const REGISTRY_HOSTS: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

/// A Terraform working directory (`cfg/`) with the provider binary in a filesystem mirror;
/// removed on drop unless the test failed (then kept for a look).
pub struct Workdir {
    pub dir: PathBuf,
    /// The client binary: Terraform 1.0.3 or OpenTofu.
    pub terraform: PathBuf,
}

impl Workdir {
    /// A working directory driven by Terraform 1.0.3.
    pub fn new(name: &str) -> Workdir {
        Workdir::with_client(name, Client::Terraform)
    }

    pub fn with_client(name: &str, client: Client) -> Workdir {
        let dir = std::env::temp_dir().join(format!(
            "lfm-{}-{name}-{}",
            client.name(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for host in REGISTRY_HOSTS {
            let plugin = dir.join(format!(
                "mirror/{host}/lfm/lfm/0.1.0/linux_amd64/terraform-provider-lfm_v0.1.0"
            ));
            std::fs::create_dir_all(plugin.parent().unwrap()).unwrap();
            std::fs::copy(env!("CARGO_BIN_EXE_terraform-provider-lfm"), &plugin).unwrap();
        }
        std::fs::create_dir_all(dir.join("cfg")).unwrap();
        std::fs::write(dir.join("terraformrc"), "disable_checkpoint = true\n").unwrap();
        Workdir {
            dir,
            terraform: client.binary(),
        }
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.join("cfg").join(file), text).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.join("cfg").join(file)).unwrap();
    }

    /// Runs terraform with test AWS keys (moto) and `env` on top.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(self.dir.join("cfg"))
            .env("TF_CLI_CONFIG_FILE", self.dir.join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("NO_PROXY", "127.0.0.1,localhost");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Output of a command that must succeed (stdout + stderr).
    pub fn ok_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run_env(args, env);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{} {} failed:\n{text}",
            self.terraform.display(),
            args.join(" ")
        );
        text
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_env(args, &[])
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The test bed's OpenSearch node (`LFM_OPENSEARCH_URL`), without a trailing `/`.
pub fn opensearch_url() -> String {
    std::env::var("LFM_OPENSEARCH_URL").ok().filter(|u| !u.is_empty()).map(|u| u.trim_end_matches('/').to_owned()).unwrap_or_else(|| {
        panic!("LFM_OPENSEARCH_URL is not set: `source scripts/env.sh && $LFM_PY -m lfm_testbed up && eval \"$($LFM_PY -m lfm_testbed env)\"`.")
    })
}

/// The recording Dashboards server (`lfm_testbed.dashboards_recorder`, basic auth `username` /
/// `password`), started for a test and killed when dropped.
pub struct Recorder {
    child: std::process::Child,
    pub url: String,
}

impl Recorder {
    pub fn start(username: &str, password: &str) -> Recorder {
        use std::io::{BufRead, BufReader};
        let python = std::env::var("LFM_PY").unwrap_or_else(|_| {
            panic!("LFM_PY is not set: `source scripts/env.sh` (the test bed's venv python).")
        });
        let testbed = concat!(env!("CARGO_MANIFEST_DIR"), "/../testbed");
        let mut child = Command::new(python)
            .args(["-m", "lfm_testbed.dashboards_recorder", "--port", "0", "--username", username, "--password", password])
            .env("PYTHONPATH", testbed)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the Dashboards recorder");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let info: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("recorder said {line:?}: {e}"));
        Recorder { child, url: info["url"].as_str().unwrap().to_owned() }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
