//! [`IndexPrefix`]: the prefix of every index, template and ISM policy LFM creates, checked
//! once with the same rules in the collector (flag, variable, config file) and in the provider
//! (`lfm_collector`, `lfm_dashboard_bundle`).
//!
//! OpenSearch's index-name rules ("Index naming restrictions",
//! <https://opensearch.org/docs/latest/api-reference/index-apis/create-index/>, enforced by
//! `MetadataCreateIndexService.validateIndexOrAliasName`): lowercase only; no spaces, commas or
//! `: " * + / \ | ? # > <`; not beginning with `_`, `-` or `+`; not `.` or `..`; at most 255
//! bytes. Names beginning with `.` are hidden or system indices, so a prefix may not begin with
//! `.` either.
//!
//! LFM is stricter in one way: a prefix is ASCII lowercase letters, digits, `.`, `-` and `_`
//! only, because it also goes unescaped into URL paths (`PUT /{prefix}-inventory/_doc/...`) and
//! into Dashboards saved-object IDs. And LFM appends at most [`LONGEST_SUFFIX`] (the daily
//! metrics index `{prefix}-metrics-YYYY.MM.DD`), so a prefix has at most [`MAX_LEN`] bytes.

use std::fmt;

/// Default prefix of every LFM index and template name.
pub const DEFAULT_INDEX_PREFIX: &str = "lfm";

/// The longest text LFM appends to the prefix to name an index (see
/// [`crate::documents::metrics_index`]); a test keeps this in step with the index names.
pub const LONGEST_SUFFIX: &str = "-metrics-YYYY.MM.DD";

/// OpenSearch's limit on an index name, in bytes.
pub const MAX_INDEX_NAME_BYTES: usize = 255;

/// The longest prefix whose every index name stays within [`MAX_INDEX_NAME_BYTES`].
pub const MAX_LEN: usize = MAX_INDEX_NAME_BYTES - LONGEST_SUFFIX.len();

/// Characters OpenSearch refuses anywhere in an index name.
const REFUSED: &[char] = &[' ', ',', ':', '"', '*', '+', '/', '\\', '|', '?', '#', '>', '<'];

/// A valid index prefix (see the module doc for the rules). Build one with [`IndexPrefix::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexPrefix(String);

impl IndexPrefix {
    /// Checks `text` (as given: no trimming, no lowercasing).
    pub fn parse(text: &str) -> Result<Self, InvalidIndexPrefix> {
        match problem(text) {
            None => Ok(Self(text.to_owned())),
            Some(problem) => Err(InvalidIndexPrefix { value: text.to_owned(), problem }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for IndexPrefix {
    fn default() -> Self {
        Self(DEFAULT_INDEX_PREFIX.to_owned())
    }
}

impl fmt::Display for IndexPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for IndexPrefix {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for IndexPrefix {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for IndexPrefix {
    type Err = InvalidIndexPrefix;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Why a text is not an [`IndexPrefix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Empty,
    Uppercase,
    Refused(char),
    NotPortable(char),
    BadStart(char),
    TooLong(usize),
}

/// A refused index prefix: the value, the rule it breaks and how to fix it.
///
/// `Display` reads `index prefix "-lfm" must not begin with '-' ...`; [`Self::rule`] is the
/// same without the value, for callers that show the value elsewhere (Terraform diagnostics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIndexPrefix {
    pub value: String,
    pub problem: Problem,
}

impl InvalidIndexPrefix {
    /// The rule broken and the fix, e.g. `must be lowercase: OpenSearch index names cannot
    /// contain uppercase letters; use "lfm.prod"`.
    pub fn rule(&self) -> String {
        let value = &self.value;
        match &self.problem {
            Problem::Empty => format!("must not be empty: every LFM index name begins with it; use e.g. \"{DEFAULT_INDEX_PREFIX}\""),
            Problem::Uppercase => format!(
                "must be lowercase: OpenSearch index names cannot contain uppercase letters; use \"{}\"",
                value.to_lowercase()
            ),
            Problem::Refused(c) => format!(
                "must not contain {}: OpenSearch index names cannot contain spaces, commas or : \" * + / \\ | ? # > <; use '-' instead",
                shown(*c)
            ),
            Problem::NotPortable(c) => format!(
                "must not contain {}: LFM takes ASCII lowercase letters, digits, '.', '-' and '_' (the prefix goes unescaped into URLs and Dashboards IDs); replace it",
                shown(*c)
            ),
            Problem::BadStart(c) => {
                let rest = value.trim_start_matches(['-', '_', '+', '.']);
                let fix = if rest.is_empty() { DEFAULT_INDEX_PREFIX } else { rest };
                format!(
                    "must not begin with '{c}': OpenSearch index names cannot begin with '-', '_' or '+', and names beginning with '.' are hidden or system indices; begin with a letter or digit, e.g. \"{fix}\""
                )
            }
            Problem::TooLong(len) => format!(
                "must be at most {MAX_LEN} bytes (it has {len}): OpenSearch index names have at most {MAX_INDEX_NAME_BYTES} bytes and LFM appends up to {} (\"{LONGEST_SUFFIX}\"); shorten it",
                LONGEST_SUFFIX.len()
            ),
        }
    }
}

impl fmt::Display for InvalidIndexPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "index prefix \"{}\" {}", self.value, self.rule())
    }
}

impl std::error::Error for InvalidIndexPrefix {}

fn shown(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        ',' => "a comma".to_owned(),
        '\'' => "'\\''".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

fn problem(text: &str) -> Option<Problem> {
    let Some(first) = text.chars().next() else {
        return Some(Problem::Empty);
    };
    if text.chars().any(char::is_uppercase) {
        return Some(Problem::Uppercase);
    }
    if let Some(c) = text.chars().find(|c| REFUSED.contains(c)) {
        return Some(Problem::Refused(c));
    }
    if let Some(c) = text.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))) {
        return Some(Problem::NotPortable(c));
    }
    if matches!(first, '-' | '_' | '+' | '.') {
        return Some(Problem::BadStart(first));
    }
    (text.len() > MAX_LEN).then_some(Problem::TooLong(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents;

    fn rule(text: &str) -> String {
        IndexPrefix::parse(text).unwrap_err().rule()
    }

    #[test]
    fn accepts_what_opensearch_accepts_in_the_portable_subset() {
        for ok in ["lfm", "lfm.prod", "lfm-prod", "lfm_prod", "0lfm", "team1.lfm-x_y"] {
            assert_eq!(IndexPrefix::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(IndexPrefix::default().as_str(), DEFAULT_INDEX_PREFIX);
        assert!(IndexPrefix::parse(&"a".repeat(MAX_LEN)).is_ok());
    }

    #[test]
    fn refuses_each_broken_rule_with_its_fix() {
        assert!(rule("").contains("must not be empty"));
        let e = IndexPrefix::parse("-lfm").unwrap_err().to_string();
        assert_eq!(
            e,
            "index prefix \"-lfm\" must not begin with '-': OpenSearch index names cannot begin with '-', '_' or '+', and names beginning with '.' are hidden or system indices; begin with a letter or digit, e.g. \"lfm\""
        );
        assert!(rule("_lfm").contains("must not begin with '_'"));
        assert!(rule("+lfm").contains("must not contain '+'"), "a + is refused anywhere: {}", rule("+lfm"));
        assert!(rule(".").contains("must not begin with '.'"));
        assert!(rule("..").contains("must not begin with '.'"));
        assert!(rule(".lfm").contains("e.g. \"lfm\""));
        assert!(rule("LFM.Prod").contains("must be lowercase") && rule("LFM.Prod").contains("use \"lfm.prod\""));
        for (bad, shown) in [("lfm prod", "a space"), ("a,b", "a comma"), ("a:b", "':'"), ("a*", "'*'"), ("a/b", "'/'"), ("a\\b", "'\\'"), ("a|b", "'|'"), ("a?", "'?'"), ("a#", "'#'"), ("a>", "'>'"), ("a<", "'<'"), ("a\"", "'\"'")] {
            let r = rule(bad);
            assert!(r.starts_with(&format!("must not contain {shown}:")) && r.contains("OpenSearch"), "{bad}: {r}");
        }
        assert!(rule("lfmé").contains("must not contain 'é'") && rule("lfmé").contains("ASCII"));
        assert!(rule("a%b").contains("must not contain '%'"));
        let long = "a".repeat(MAX_LEN + 1);
        assert!(rule(&long).contains(&format!("must be at most {MAX_LEN} bytes (it has {})", MAX_LEN + 1)), "{}", rule(&long));
    }

    #[test]
    fn the_longest_suffix_is_the_longest_index_lfm_names() {
        let prefix = "p";
        let tail = |name: String| name.len() - prefix.len();
        let longest = tail(documents::metrics_index(prefix, 2026, 12, 31));
        assert_eq!(longest, LONGEST_SUFFIX.len());
        for name in [
            documents::inventory_index(prefix),
            documents::state_index(prefix),
            documents::runs_index(prefix),
            documents::metrics_index_pattern(prefix),
        ]
        .into_iter()
        .chain(documents::index_templates(prefix).into_iter().map(|(name, _)| name))
        {
            assert!(tail(name.clone()) <= longest, "{name} is longer than the metrics index");
        }
        let max = IndexPrefix::parse(&"a".repeat(MAX_LEN)).unwrap();
        assert_eq!(documents::metrics_index(&max, 2026, 12, 31).len(), MAX_INDEX_NAME_BYTES);
    }
}
