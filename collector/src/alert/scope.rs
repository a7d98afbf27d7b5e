//! Which functions a rule watches (pure): accounts, regions, a glob on the function name
//! (`*` any run of characters, `?` one character) and runtimes. An empty list or pattern is no
//! restriction. Part of the alert stage ([`crate::alert`]).

/// The scope of a rule, as declared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub account_ids: Vec<String>,
    pub regions: Vec<String>,
    /// Empty: every name.
    pub function_name_pattern: String,
    pub runtimes: Vec<String>,
}

/// What scope matching needs to know about a function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionKey<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub function_name: &'a str,
    /// `None`: not known in this run (the function's inventory was not seen); `Some(None)`: a
    /// container image, which has no runtime.
    pub runtime: Option<Option<&'a str>>,
}

impl Scope {
    /// Whether the rule watches `function`. An unknown runtime matches (a rule restricted to
    /// runtimes neither adds nor drops a function it cannot place).
    pub fn matches(&self, function: &FunctionKey<'_>) -> bool {
        let listed = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        listed(&self.account_ids, function.account_id)
            && listed(&self.regions, function.region)
            && (self.function_name_pattern.is_empty() || glob_match(&self.function_name_pattern, function.function_name))
            && match function.runtime {
                None => true,
                Some(runtime) => self.runtimes.is_empty() || runtime.is_some_and(|r| self.runtimes.iter().any(|v| v == r)),
            }
    }
}

/// `*` matches any run of characters (also none), `?` exactly one; everything else itself
/// (the schema's definition, shared with the provider's plan checks).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    lfm_schema::alerts::glob_matches(pattern, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("", ""));
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "orders-api"));
        assert!(glob_match("orders-*", "orders-api"));
        assert!(!glob_match("orders-*", "order-api"));
        assert!(glob_match("*-api", "orders-api"));
        assert!(glob_match("o?ders-*-prod", "orders-eu-prod"));
        assert!(!glob_match("o?ders", "oders"));
        assert!(glob_match("*a*b*c", "xxaxxbxxc"));
        assert!(!glob_match("*a*b*c", "xxaxxcxxb"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(glob_match("a**", "a"));
        // Pathological input stays fast.
        let long = "a".repeat(5000);
        assert!(!glob_match("*a*a*a*a*a*b", &long));
    }

    #[test]
    fn scope_lists_and_runtime() {
        let scope = Scope {
            account_ids: vec!["111122223333".into()],
            regions: vec![],
            function_name_pattern: "orders-*".into(),
            runtimes: vec!["python3.12".into()],
        };
        let f = |account: &'static str, name: &'static str, runtime: Option<Option<&'static str>>| FunctionKey {
            account_id: account,
            region: "eu-west-1",
            function_name: name,
            runtime,
        };
        assert!(scope.matches(&f("111122223333", "orders-api", Some(Some("python3.12")))));
        assert!(!scope.matches(&f("999999999999", "orders-api", Some(Some("python3.12")))));
        assert!(!scope.matches(&f("111122223333", "billing", Some(Some("python3.12")))));
        assert!(!scope.matches(&f("111122223333", "orders-api", Some(Some("nodejs20.x")))));
        assert!(!scope.matches(&f("111122223333", "orders-api", Some(None))), "an image has no runtime");
        assert!(scope.matches(&f("111122223333", "orders-api", None)), "unknown runtime matches");
        assert!(Scope::default().matches(&f("1", "anything", Some(None))));
    }
}
