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
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        // An empty path would make Terraform point at nothing; leave it out instead.
        attribute: d
            .attribute
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(path_to_proto),
    }
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
