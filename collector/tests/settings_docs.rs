//! The committed `docs/collector-settings.md` must be what the settings contract
//! (`lfm_schema::contract::SETTINGS`) and the collector's clap definitions
//! (`collector/src/config/cli.rs`) generate. To regenerate after a setting or help-text change:
//!
//! ```sh
//! LFM_UPDATE_DOCS=1 cargo test -p lfm-collector --test settings_docs
//! ```

use std::path::{Path, PathBuf};

use lfm_collector::config::docs::{settings_markdown, SETTINGS_PAGE};

const FIX: &str = "LFM_UPDATE_DOCS=1 cargo test -p lfm-collector --test settings_docs";

fn page() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join(SETTINGS_PAGE)
}

#[test]
fn committed_settings_page_matches_the_code() {
    let want = settings_markdown().unwrap_or_else(|e| panic!("cannot generate {SETTINGS_PAGE}: {e}"));
    if std::env::var_os("LFM_UPDATE_DOCS").is_some() {
        std::fs::write(page(), &want).unwrap();
        return;
    }
    let problem = match std::fs::read_to_string(page()) {
        Err(e) => format!("{SETTINGS_PAGE} cannot be read: {e}"),
        Ok(have) if have != want => {
            let line = have.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(have.lines().count().min(want.lines().count()));
            format!("{SETTINGS_PAGE} differs from the settings contract and the collector's help texts (first at line {})", line + 1)
        }
        Ok(_) => return,
    };
    panic!("{problem}\nRegenerate the page with:\n  {FIX}");
}
