//! The examples speak the contract ([`lfm_schema::contract::settings`]): the quickstart's
//! `collector_config` output (a `--config` file for `lfm-collector run`) uses only the
//! collector's config keys, and carries every setting its `lfm_collector` gives the function;
//! every `LFM_*` name in `examples/` is a variable the collector reads. A renamed key or
//! variable fails here, before any end-to-end run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lfm_schema::contract::{by_env, by_key, SETTINGS};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text between the `{` that follows `opening` in `text` and its matching `}`.
fn block<'a>(text: &'a str, opening: &str) -> &'a str {
    let start = text.find(opening).unwrap_or_else(|| panic!("no {opening:?}")) + opening.len();
    let open = start + text[start..].find('{').expect("an opening brace");
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces after {opening:?}")
}

/// The attribute names assigned at the top level of an HCL block body (`name = ...`).
fn top_level_keys(body: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut depth = 0i32;
    for line in body.lines() {
        let trimmed = line.trim();
        if depth == 0 {
            if let Some((name, _)) = trimmed.split_once('=') {
                let name = name.trim();
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    keys.insert(name.to_owned());
                }
            }
        }
        depth += trimmed.matches(['{', '[', '(']).count() as i32 - trimmed.matches(['}', ']', ')']).count() as i32;
    }
    keys
}

#[test]
fn quickstart_collector_config_keys_are_the_collectors_config_keys() {
    let quickstart = examples().join("quickstart");
    let outputs = read(&quickstart.join("outputs.tf"));
    let output = block(&outputs, "output \"collector_config\"");
    let config = top_level_keys(block(output, "value"));
    assert!(config.contains("accounts") && config.contains("index_prefix"), "parsed {config:?}");
    for key in &config {
        assert!(by_key(key).is_some(), "collector_config key {key} is not a key of the collector's config file (lfm_schema::contract::SETTINGS)");
    }

    // Vice versa: whatever the quickstart's lfm_collector hands the function, a collector run
    // from collector_config gets too (except the password, which only LFM_OPENSEARCH_PASSWORD carries).
    let main = read(&quickstart.join("main.tf"));
    let collector = top_level_keys(block(&main, "resource \"lfm_collector\" \"this\""));
    for setting in SETTINGS.iter().filter(|s| s.provider_attribute.is_some_and(|a| collector.contains(a))) {
        if let Some(key) = setting.key {
            assert!(
                config.contains(key),
                "the quickstart's lfm_collector sets {} ({}) but collector_config has no {key}",
                setting.provider_attribute.unwrap(),
                setting.env
            );
        }
    }
}

fn tf_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                tf_files(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "tf") {
            found.push(path);
        }
    }
}

#[test]
fn every_lfm_variable_in_the_examples_is_one_the_collector_reads() {
    let mut files = Vec::new();
    tf_files(&examples(), &mut files);
    let mut seen = BTreeSet::new();
    for file in &files {
        let text = read(file);
        for (at, _) in text.match_indices("LFM_") {
            let name: String = text[at..].chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
            assert!(by_env(&name).is_some(), "{}: {name} is not a variable of the collector (lfm_schema::contract::SETTINGS)", file.display());
            seen.insert(name);
        }
    }
    // The module passes the SigV4 region through extra_environment.
    assert!(seen.contains("LFM_OPENSEARCH_REGION"), "found {seen:?} in {} files", files.len());
}
