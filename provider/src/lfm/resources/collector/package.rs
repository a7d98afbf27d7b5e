//! The collector package (`package_path`): reading it at plan time ([`read_package`]), its
//! hash as Lambda reports it ([`package_sha256`]), and what is inside it: the `bootstrap` entry must be
//! something the `provided.al2023` runtime can start on the chosen architecture: a script
//! (`#!`), or an ELF executable for that machine that is static or needs no glibc newer than
//! the image's (Amazon Linux 2023 ships glibc 2.34). A mismatch would otherwise surface only
//! when the schedule first fires ("exec format error", "GLIBC_2.xx not found").
//!
//! Source of 2.34: AWS, Amazon Linux 2023 User Guide, "Core toolchain packages glibc, gcc,
//! binutils" (<https://docs.aws.amazon.com/linux/al2023/ug/core-glibc.html>: "glibc 2.34",
//! kept for the release's life); provided.al2023 is that OS ("When to use Lambda's OS-only
//! runtimes", <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-provided.html>).
//! `scripts/package-collector` builds a package that passes: linked by zig against glibc 2.34.

use crate::framework::{AttrPath, Diagnostics};
use flate2::read::DeflateDecoder;
use std::io::Read;

/// Newest glibc symbol version the provided.al2023 image provides.
pub const AL2023_GLIBC: (u32, u32) = (2, 34);

/// The `bootstrap` entry as far as the checks need it.
#[derive(Clone, Debug, PartialEq)]
pub enum Bootstrap {
    /// A script; the runtime starts it with its interpreter.
    Script,
    /// An ELF executable: its architecture (`arm64`/`x86_64`/other name), whether it is
    /// dynamically linked, and the newest `GLIBC_x.y` version it needs.
    Elf {
        architecture: String,
        dynamic: bool,
        glibc: Option<(u32, u32)>,
    },
    /// Anything else (the runtime cannot start it).
    Other,
}

/// Why the package cannot run on the chosen architecture; `None` when it can.
pub fn problem(b: &Bootstrap, architecture: &str) -> Option<String> {
    match b {
        Bootstrap::Script => None,
        Bootstrap::Other => Some("`bootstrap` is neither an ELF executable nor a script (#!); provided.al2023 cannot start it. Build the package with scripts/package-collector.".into()),
        Bootstrap::Elf { architecture: built, .. } if built != architecture => Some(format!(
            "`bootstrap` is built for {built} but architecture = \"{architecture}\": Lambda would fail with an exec format error. Build with `scripts/package-collector --arch {architecture}`, or set architecture = \"{built}\"."
        )),
        Bootstrap::Elf { dynamic: true, glibc: Some((major, minor)), .. } if (*major, *minor) > AL2023_GLIBC => Some(format!(
            "`bootstrap` needs glibc {major}.{minor}, newer than provided.al2023's {}.{}: it would fail with \"GLIBC_{major}.{minor} not found\". Build it statically (musl) or against an older glibc: scripts/package-collector does that.",
            AL2023_GLIBC.0, AL2023_GLIBC.1
        )),
        Bootstrap::Elf { .. } => None,
    }
}

/// Find and classify the top-level entry `name` of a zip; `None` when there is no such entry.
pub fn inspect(zip: &[u8], name: &str) -> Option<Bootstrap> {
    let content = entry(zip, name)?;
    Some(classify(&content))
}

/// The content of entry `name` (stored or deflated), from the central directory.
fn entry(zip: &[u8], name: &str) -> Option<Vec<u8>> {
    const CENTRAL: &[u8] = b"PK\x01\x02";
    let le16 = |b: &[u8], at: usize| {
        b.get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let le32 = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    let mut i = 0;
    while let Some(pos) = zip.get(i..)?.windows(4).position(|w| w == CENTRAL) {
        let at = i + pos;
        let h = &zip[at..];
        i = at + 4;
        let (Some(method), Some(size), Some(len), Some(offset)) =
            (le16(h, 10), le32(h, 20), le16(h, 28), le32(h, 42))
        else {
            continue;
        };
        if h.get(46..46 + len) != Some(name.as_bytes()) {
            continue;
        }
        let local = zip.get(offset..)?;
        let data_at = 30 + le16(local, 26)? + le16(local, 28)?;
        let data = local.get(data_at..data_at + size)?;
        return match method {
            0 => Some(data.to_vec()),
            8 => {
                let mut out = Vec::new();
                DeflateDecoder::new(data).read_to_end(&mut out).ok()?;
                Some(out)
            }
            _ => None,
        };
    }
    None
}

/// Classify an executable from its bytes (64-bit little-endian ELF, as Lambda runs).
pub fn classify(bin: &[u8]) -> Bootstrap {
    if bin.starts_with(b"#!") {
        return Bootstrap::Script;
    }
    if !bin.starts_with(b"\x7fELF") || bin.len() < 64 {
        return Bootstrap::Other;
    }
    let u16_at = |at: usize| u16::from_le_bytes([bin[at], bin[at + 1]]);
    let u64_at = |at: usize| {
        bin.get(at..at + 8)
            .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")) as usize)
    };
    let architecture = match u16_at(18) {
        0xB7 => "arm64".to_owned(),
        0x3E => "x86_64".to_owned(),
        other => format!("machine 0x{other:x}"),
    };
    // PT_INTERP (type 3) among the program headers: a dynamically linked executable.
    let (phoff, phentsize, phnum) = (
        u64_at(32).unwrap_or(0),
        u16_at(54) as usize,
        u16_at(56) as usize,
    );
    let dynamic = (0..phnum).any(|k| {
        let at = phoff + k * phentsize;
        bin.get(at..at + 4)
            .map(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
            == Some(3)
    });
    let glibc = if dynamic { newest_glibc(bin) } else { None };
    Bootstrap::Elf {
        architecture,
        dynamic,
        glibc,
    }
}

/// The newest `GLIBC_x.y[.z]` version string in the binary (its version needs live in
/// `.dynstr`).
fn newest_glibc(bin: &[u8]) -> Option<(u32, u32)> {
    const TAG: &[u8] = b"GLIBC_";
    let mut newest = None;
    let mut i = 0;
    while let Some(pos) = bin[i..].windows(TAG.len()).position(|w| w == TAG) {
        let start = i + pos + TAG.len();
        let digits: String = bin[start..]
            .iter()
            .take(12)
            .take_while(|c| c.is_ascii_digit() || **c == b'.')
            .map(|c| *c as char)
            .collect();
        let mut parts = digits.split('.').map(|p| p.parse::<u32>().ok());
        if let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) {
            newest = newest.max(Some((major, minor)));
        }
        i = start;
    }
    newest
}

/// Lambda takes at most 50 MB of zipped code in the request itself (larger goes through S3).
pub const MAX_DIRECT_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;

/// The package as Lambda will report it: base64 (standard, padded) of its SHA-256
/// (`CodeSha256`). `path` names the attribute in errors.
pub fn package_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Read and check the package: a zip with a `bootstrap` entry the provided.al2023 runtime can
/// start on `architecture` (when known; see [`problem`]), small enough for a direct upload.
pub fn read_package(path: &str, architecture: Option<&str>) -> Result<Vec<u8>, Diagnostics> {
    let bad = |summary: String, detail: String| {
        Diagnostics::attribute_error(AttrPath::attr("package_path"), summary, detail)
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        bad(
            format!("Cannot read the collector package {path}"),
            format!("{e}. Build it first (scripts/package-collector prints its path), or fix package_path."),
        )
    })?;
    if meta.len() > MAX_DIRECT_UPLOAD_BYTES {
        return Err(bad(
            format!("The collector package {path} is too large"),
            format!("{} bytes; Lambda takes at most {MAX_DIRECT_UPLOAD_BYTES} bytes of zipped code in the request. Build a release package (stripped) with scripts/package-collector.", meta.len()),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        bad(
            format!("Cannot read the collector package {path}"),
            e.to_string(),
        )
    })?;
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(bad(format!("{path} is not a zip file"), "package_path must be the zip built by scripts/package-collector (a `bootstrap` executable at the top level).".into()));
    }
    let Some(bootstrap) = inspect(&bytes, "bootstrap") else {
        return Err(bad(
            format!("{path} has no `bootstrap` entry"),
            "The provided.al2023 runtime starts the executable named `bootstrap` at the top of the zip; build the package with scripts/package-collector.".into(),
        ));
    };
    if let Some(problem) = architecture.and_then(|a| problem(&bootstrap, a)) {
        return Err(bad(
            format!("The collector package {path} cannot run on provided.al2023"),
            problem,
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit ELF header for `machine`, with a PT_INTERP program header when `dynamic`.
    pub fn elf(machine: u16, dynamic: bool, extra: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // 64-bit
        b[5] = 1; // little-endian
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        let p_type: u32 = if dynamic { 3 } else { 1 };
        b[64..68].copy_from_slice(&p_type.to_le_bytes());
        b.extend_from_slice(extra);
        b
    }

    #[test]
    fn classifies_scripts_and_elf_machines() {
        assert_eq!(classify(b"#!/bin/sh\nexec ./lfm"), Bootstrap::Script);
        assert_eq!(classify(b"MZ\x90\x00"), Bootstrap::Other);
        assert_eq!(
            classify(&elf(0xB7, false, b"")),
            Bootstrap::Elf {
                architecture: "arm64".into(),
                dynamic: false,
                glibc: None
            }
        );
        let dynamic = classify(&elf(0x3E, true, b"\0GLIBC_2.17\0GLIBC_2.34\0GLIBC_2.2.5\0"));
        assert_eq!(
            dynamic,
            Bootstrap::Elf {
                architecture: "x86_64".into(),
                dynamic: true,
                glibc: Some((2, 34))
            }
        );
    }

    /// A real payload: this test binary, as the Rust toolchain built it for the host.
    #[test]
    fn classifies_a_real_executable() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let Bootstrap::Elf {
            architecture,
            dynamic,
            glibc,
        } = classify(&me)
        else {
            panic!("the test binary is an ELF")
        };
        let host = if cfg!(target_arch = "aarch64") {
            "arm64"
        } else {
            "x86_64"
        };
        assert_eq!(architecture, host);
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(dynamic, "a -gnu test binary is dynamically linked");
            assert!(glibc.is_some_and(|v| v >= (2, 2)), "{glibc:?}");
        }
    }

    #[test]
    fn problems_name_the_fix() {
        let arm = classify(&elf(0xB7, false, b""));
        assert_eq!(problem(&arm, "arm64"), None);
        let wrong = problem(&arm, "x86_64").unwrap();
        assert!(
            wrong.contains("built for arm64") && wrong.contains("--arch x86_64"),
            "{wrong}"
        );
        let too_new = classify(&elf(0xB7, true, b"\0GLIBC_2.39\0GLIBC_2.17\0"));
        let msg = problem(&too_new, "arm64").unwrap();
        assert!(msg.contains("glibc 2.39") && msg.contains("2.34"), "{msg}");
        // The same strings in a static binary are not version needs.
        assert_eq!(
            problem(&classify(&elf(0xB7, false, b"\0GLIBC_2.39\0")), "arm64"),
            None
        );
        assert_eq!(
            problem(&classify(&elf(0xB7, true, b"\0GLIBC_2.34\0")), "arm64"),
            None
        );
        assert!(problem(&Bootstrap::Other, "arm64")
            .unwrap()
            .contains("neither"));
    }

    #[test]
    fn reads_stored_and_deflated_entries() {
        use flate2::write::DeflateEncoder;
        use std::io::Write;
        let content = elf(0x3E, false, b"padding padding padding");
        let stored = super::super::tests::stored_zip("bootstrap", &content);
        assert_eq!(inspect(&stored, "bootstrap"), Some(classify(&content)));
        assert_eq!(inspect(&stored, "main"), None);
        // The same entry deflated (method 8), as zip tools write it by default.
        let mut enc = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&content).unwrap();
        let deflated = enc.finish().unwrap();
        let mut zip = super::super::tests::stored_zip("bootstrap", &content);
        // Rewrite as deflated: method 8 and the compressed data/size in both headers.
        let local_len = 30 + "bootstrap".len();
        let central = local_len + content.len();
        let mut rebuilt = zip[..local_len].to_vec();
        rebuilt[8..10].copy_from_slice(&8u16.to_le_bytes());
        rebuilt[18..22].copy_from_slice(&(deflated.len() as u32).to_le_bytes());
        rebuilt.extend_from_slice(&deflated);
        let mut cd = zip.split_off(central);
        cd[10..12].copy_from_slice(&8u16.to_le_bytes());
        cd[20..24].copy_from_slice(&(deflated.len() as u32).to_le_bytes());
        rebuilt.extend_from_slice(&cd);
        assert_eq!(inspect(&rebuilt, "bootstrap"), Some(classify(&content)));
    }
}
