//! The committed registry docs (`docs/index.md`, `docs/resources/`, `docs/data-sources/`)
//! must be what the provider's schema generates. To regenerate after a schema or example
//! change:
//!
//! ```sh
//! LFM_UPDATE_DOCS=1 cargo test -p terraform-provider-lfm --test docs
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use terraform_provider_lfm::docs::{render, undocumented, ProviderDocs};
use terraform_provider_lfm::framework::Provider;
use terraform_provider_lfm::lfm::aws::caller;
use terraform_provider_lfm::lfm::LfmProvider;

const FIX: &str = "LFM_UPDATE_DOCS=1 cargo test -p terraform-provider-lfm --test docs";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn generated() -> BTreeMap<String, String> {
    let extra = caller::permissions_markdown();
    render(&LfmProvider, &ProviderDocs { name: "lfm", index_extra: &extra }, &repo().join("examples")).unwrap()
}

/// The generated pages that exist on disk, plus stray `.md` files in the generated folders.
fn committed() -> BTreeMap<String, String> {
    let docs = repo().join("docs");
    let mut files = BTreeMap::new();
    if let Ok(index) = std::fs::read_to_string(docs.join("index.md")) {
        files.insert("index.md".to_owned(), index);
    }
    for dir in ["resources", "data-sources"] {
        let Ok(entries) = std::fs::read_dir(docs.join(dir)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                files.insert(format!("{dir}/{name}"), std::fs::read_to_string(entry.path()).unwrap());
            }
        }
    }
    files
}

#[test]
fn committed_docs_match_the_schema() {
    let want = generated();
    let docs = repo().join("docs");
    if std::env::var_os("LFM_UPDATE_DOCS").is_some() {
        for stale in committed().keys().filter(|k| !want.contains_key(*k)) {
            std::fs::remove_file(docs.join(stale)).unwrap();
        }
        for (path, text) in &want {
            let file = docs.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        return;
    }
    let have = committed();
    let mut problems = Vec::new();
    for (path, text) in &want {
        match have.get(path) {
            None => problems.push(format!("docs/{path} is missing")),
            Some(old) if old != text => {
                let line = old.lines().zip(text.lines()).position(|(a, b)| a != b).unwrap_or(old.lines().count().min(text.lines().count()));
                problems.push(format!("docs/{path} differs from the schema (first at line {})", line + 1));
            }
            Some(_) => {}
        }
    }
    for path in have.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("docs/{path} documents a type the provider does not have"));
    }
    assert!(problems.is_empty(), "{}\nRegenerate the docs with:\n  {FIX}", problems.join("\n"));
}

#[test]
fn every_attribute_has_a_description() {
    let p = LfmProvider;
    let mut missing = Vec::new();
    let mut check = |kind: &str, name: &str, block: &terraform_provider_lfm::framework::Block| {
        if block.description.trim().is_empty() {
            missing.push(format!("{kind} {name}"));
        }
        missing.extend(undocumented(block).into_iter().map(|a| format!("{kind} {name}: {a}")));
    };
    check("provider", "lfm", &p.schema().block);
    for r in p.resources() {
        check("resource", r.type_name(), &r.schema().block);
    }
    for d in p.data_sources() {
        check("data source", d.type_name(), &d.schema().block);
    }
    assert!(missing.is_empty(), "add a description (provider/src/lfm/) to:\n{}", missing.join("\n"));
}
