//! The reference page of every `lfm-collector run` setting, `docs/collector-settings.md`,
//! generated so it never drifts from code: the names (config-file key, flag, `LFM_*` variable,
//! `lfm_collector` attribute) come from [`lfm_schema::contract::SETTINGS`], the description
//! and default from the clap definitions in [`super::cli`] (`[default: ...]` in the help text,
//! or clap's own default value).
//!
//! `collector/tests/settings_docs.rs` renders the page and fails when the committed file differs.

use std::fmt::Write as _;

use clap::CommandFactory;
use lfm_schema::contract::{self, Setting};

use super::cli::Cli;

/// Where the page lives, relative to the repository root.
pub const SETTINGS_PAGE: &str = "docs/collector-settings.md";

/// Descriptions of the settings that are no clap argument (environment only), by variable.
/// A new environment-only setting in the contract fails [`settings_markdown`] until it is
/// described here.
const ENVIRONMENT_ONLY: &[(&str, &str, &str)] = &[(
    contract::ENV_OPENSEARCH_PASSWORD,
    "The basic-auth password for OpenSearch, used with `opensearch_user`. It is read only from the environment, never from a flag or the config file, so it shows neither in `ps` nor in a file written by `terraform output`.",
    "none",
)];

/// One row of the page: description and default of a setting, as a reader sees them.
struct Described {
    description: String,
    default: String,
}

/// The whole page (Markdown), or what is missing to write it.
pub fn settings_markdown() -> Result<String, String> {
    let mut cli = Cli::command();
    cli.build();
    let run = cli.find_subcommand("run").ok_or("`lfm-collector` has no `run` subcommand")?;

    let mut md = String::new();
    md.push_str(
        "# lfm-collector settings\n\n\
         <!-- Generated from lfm_schema::contract::SETTINGS and the collector's clap definitions \
         (collector/src/config/cli.rs); do not edit. Regenerate with: \
         LFM_UPDATE_DOCS=1 cargo test -p lfm-collector --test settings_docs -->\n\n\
         Every setting of `lfm-collector run`, under each of its names. A setting comes from, \
         highest precedence first: the command-line flag, the `LFM_*` environment variable, the \
         key of the JSON or TOML file given with `--config` (the quickstart's `collector_config` \
         output is such a file), then the default.\n\n\
         The `lfm_collector` resource runs the collector as a Lambda function and sets the \
         function's environment from its attributes; a setting without such an attribute can be \
         given to the function through the resource's `extra_environment`.\n\n\
         A list setting (accounts, regions) is an array in the config file and comma-separated \
         values in the flag and the variable. Durations such as `5m`, `3h` or `24h` take a number \
         and a unit (`s`, `m`, `h`, `d`).\n\n\
         | config-file key | flag | environment variable | `lfm_collector` attribute | default | description |\n\
         |---|---|---|---|---|---|\n",
    );
    for setting in contract::SETTINGS {
        let described = describe(run, setting)?;
        let code = |name: Option<String>| name.map(|n| format!("`{n}`")).unwrap_or_else(|| "none".to_owned());
        let _ = writeln!(
            md,
            "| {} | {} | `{}` | {} | {} | {} |",
            code(setting.key.map(str::to_owned)),
            code(setting.flag.map(|f| format!("--{f}"))),
            setting.env,
            setting.provider_attribute.map(|a| format!("`{a}`")).unwrap_or_else(|| "via `extra_environment`".to_owned()),
            cell(&described.default),
            cell(&described.description),
        );
    }
    Ok(md)
}

/// The description and default of `setting`: from its clap argument, or from
/// [`ENVIRONMENT_ONLY`].
fn describe(run: &clap::Command, setting: &Setting) -> Result<Described, String> {
    let Some(flag) = setting.flag else {
        return ENVIRONMENT_ONLY
            .iter()
            .find(|(env, _, _)| *env == setting.env)
            .map(|(_, description, default)| Described { description: (*description).to_owned(), default: (*default).to_owned() })
            .ok_or_else(|| format!("{} has no flag: describe it in ENVIRONMENT_ONLY in collector/src/config/docs.rs", setting.env));
    };
    let arg = run
        .get_arguments()
        .find(|a| a.get_long() == Some(flag))
        .ok_or_else(|| format!("--{flag} ({}) is not an argument of `lfm-collector run` (collector/src/config/cli.rs)", setting.env))?;
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| format!("--{flag} has no help text: add a doc comment in collector/src/config/cli.rs"))?;
    let (mut description, from_help) = split_default(&help);
    let from_clap: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    let default = match (from_help, from_clap.is_empty()) {
        (Some(default), _) => default,
        (None, false) => from_clap.join(", "),
        (None, true) => "none".to_owned(),
    };
    let values: Vec<String> = arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| format!("`{}`", v.get_name())).collect();
    // A flag without a value (`--dry-run`); its variable takes true or false.
    let takes_value = arg.get_num_args().map(|n| n.takes_values()).unwrap_or(true);
    let named = |v: &String| description.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| format!("`{w}`") == *v);
    if !values.is_empty() && !values.iter().all(named) && takes_value && !matches!(arg.get_action(), clap::ArgAction::SetTrue) {
        let _ = write!(description, " One of {}.", values.join(", "));
    }
    if matches!(arg.get_action(), clap::ArgAction::SetTrue) {
        let _ = write!(description, " The flag takes no value; the variable and the config-file key take true or false.");
    }
    Ok(Described { description, default })
}

/// Splits `[default: X]` out of a help text: the text as full sentences, and X.
fn split_default(help: &str) -> (String, Option<String>) {
    let text = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let (text, default) = match text.find("[default: ") {
        Some(start) => {
            let end = text[start..].find(']').map(|e| start + e).unwrap_or(text.len());
            let default = text[start + "[default: ".len()..end].trim().to_owned();
            let before = text[..start].trim_end();
            let after = text.get(end + 1..).unwrap_or("");
            (format!("{before}{after}"), Some(default))
        }
        None => (text, None),
    };
    let mut text = text.trim().to_owned();
    if let Some(first) = text.chars().next() {
        text = first.to_uppercase().collect::<String>() + &text[first.len_utf8()..];
    }
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    (text, default)
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_taken_out_of_the_sentence() {
        assert_eq!(split_default("Prefix of every index [default: lfm]"), ("Prefix of every index.".into(), Some("lfm".into())));
        assert_eq!(
            split_default("Window start, RFC 3339 [default: a\n checkpoint]. An explicit window."),
            ("Window start, RFC 3339. An explicit window.".into(), Some("a checkpoint".into()))
        );
        assert_eq!(split_default("summary format"), ("Summary format.".into(), None));
    }

    #[test]
    fn every_setting_is_described() {
        let page = settings_markdown().unwrap();
        for setting in contract::SETTINGS {
            assert!(page.contains(&format!("`{}`", setting.env)), "{}", setting.env);
        }
    }
}
