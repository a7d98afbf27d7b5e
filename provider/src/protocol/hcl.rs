//! Values as a Terraform user writes them (HCL), for diagnostics: `[]`, `"eu-west-1"`,
//! `{ AWS_REGION = "eu-west-1" }`, `null`. One renderer so no message prints Rust's `Debug`
//! form of a [`Value`].

use crate::framework::Value;

/// `value` in HCL syntax, on one line.
pub fn render(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Unknown => "(known after apply)".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(*n),
        Value::String(s) => string(s),
        Value::List(items) | Value::Set(items) => {
            format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", "))
        }
        Value::Map(entries) | Value::Object(entries) if entries.is_empty() => "{}".to_owned(),
        Value::Map(entries) | Value::Object(entries) => {
            let fields: Vec<String> = entries.iter().map(|(k, v)| format!("{} = {}", key(k), render(v))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A quoted HCL string: `"`, `\`, newlines and tabs escaped, and `${`/`%{` doubled so the
/// text reads as a literal, not a template.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Map keys and attribute names: bare when they are HCL identifiers, else quoted.
fn key(k: &str) -> String {
    let identifier = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if identifier {
        k.to_owned()
    } else {
        string(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(render(&Value::Null), "null");
        assert_eq!(render(&Value::Bool(true)), "true");
        assert_eq!(render(&Value::Number(5.0)), "5");
        assert_eq!(render(&Value::Number(-0.25)), "-0.25");
        assert_eq!(render(&Value::string("eu-west-1")), "\"eu-west-1\"");
        assert_eq!(render(&Value::string("say \"hi\"\\\n${x}")), "\"say \\\"hi\\\"\\\\\\n$${x}\"");
    }

    #[test]
    fn collections() {
        assert_eq!(render(&Value::List(vec![])), "[]");
        assert_eq!(render(&Value::Set(vec![Value::string("a"), Value::Number(1.0)])), "[\"a\", 1]");
        let map = Value::Map([("AWS_REGION".to_owned(), Value::string("eu-west-1"))].into());
        assert_eq!(render(&map), "{ AWS_REGION = \"eu-west-1\" }");
        assert_eq!(render(&Value::Map(Default::default())), "{}");
        let nested = Value::object([
            ("tags", Value::Map([("my key".to_owned(), Value::Null)].into())),
            ("ids", Value::List(vec![Value::List(vec![]), Value::Bool(false)])),
        ]);
        assert_eq!(render(&nested), "{ ids = [[], false], tags = { \"my key\" = null } }");
    }
}
