//! One line per finished account on stderr while a run goes, for people watching a terminal
//! (`Config.progress`; the CLI sets it when stderr is one). Silent otherwise.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::summary::{AccountOutcome, AccountStatus};

pub struct Progress {
    enabled: bool,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    pub fn new(enabled: bool, total: usize) -> Self {
        Self { enabled, total, done: AtomicUsize::new(0) }
    }

    pub fn account_done(&self, outcome: &AccountOutcome, documents: usize) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.enabled {
            eprintln!("{}", line(done, self.total, outcome, documents));
        }
    }
}

fn line(done: usize, total: usize, outcome: &AccountOutcome, documents: usize) -> String {
    let status = match outcome.status {
        AccountStatus::Ok => "ok",
        AccountStatus::Partial => "partial",
        AccountStatus::Failed => "FAILED",
        AccountStatus::CutShort => "cut short",
    };
    let width = total.to_string().len();
    let mut text = format!(
        "[{done:>width$}/{total}] account {} {status}: {} functions, {documents} documents",
        outcome.account_id, outcome.functions
    );
    if let Some(first) = outcome.errors.first() {
        text.push_str(&format!(" ({} errors; first: {first})", outcome.errors.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_account() {
        let outcome = AccountOutcome {
            account_id: "111122223333".into(),
            status: AccountStatus::Partial,
            functions: 12,
            errors: vec!["account 111122223333 region eu-west-1: lambda:ListFunctions failed: AccessDenied".into()],
        };
        assert_eq!(
            line(3, 12, &outcome, 40),
            "[ 3/12] account 111122223333 partial: 12 functions, 40 documents (1 errors; first: account 111122223333 region eu-west-1: lambda:ListFunctions failed: AccessDenied)"
        );
    }
}
