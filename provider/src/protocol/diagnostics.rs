//! Framework diagnostics and attribute paths as protobuf messages.

use super::proto::tfplugin6 as pb;
use crate::framework::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};

pub(crate) fn path_to_proto(path: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub(crate) fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: one_period(&d.summary),
        detail: one_period(&d.detail),
        // An empty path would make Terraform point at nothing; leave it out instead.
        attribute: d
            .attribute
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(path_to_proto),
    }
}

/// Every diagnostic leaves through here: a sentence that ends with a period and is then
/// closed by another (an AWS message "... already exists." inside "failed: {e}.") reads
/// "exists.." on the terminal. Two periods become one; an ellipsis ("...") stays.
pub(crate) fn one_period(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '.' {
            let run = chars[i..].iter().take_while(|c| **c == '.').count();
            out.push_str(&".".repeat(if run == 2 { 1 } else { run }));
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

pub(crate) fn to_proto(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.0.iter().map(diagnostic_to_proto).collect()
}

/// Human form of a path for summaries: `rule[0].name`, `tags["team"]`.
pub(crate) fn display_path(path: &AttrPath) -> String {
    let mut out = String::new();
    for step in &path.0 {
        match step {
            PathStep::Attr(name) if out.is_empty() => out.push_str(name),
            PathStep::Attr(name) => {
                out.push('.');
                out.push_str(name)
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
            PathStep::Key(k) => out.push_str(&format!("[\"{k}\"]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_summary_or_detail_leaves_with_two_periods() {
        let d = Diagnostics::error(
            "Could not create role LFM.",
            format!("IAM answered: {}.\nChoose another name.", "EntityAlreadyExists: Role with name LFM already exists."),
        );
        for p in to_proto(&d) {
            assert!(!p.summary.contains("..") && !p.detail.contains(".."), "{} / {}", p.summary, p.detail);
            assert!(p.detail.contains("already exists.\nChoose"), "{}", p.detail);
        }
        assert_eq!(one_period("wait... then go.."), "wait... then go.");
    }
}
