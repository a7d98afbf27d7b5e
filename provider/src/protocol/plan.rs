//! The generic part of PlanResourceChange, as pure functions of (schema, prior, proposed,
//! config). `service.rs` runs them around the resource's `modify_plan` hook:
//!
//! 1. [`plan_defaults_and_unknowns`]: start from Terraform's ProposedNewState (config merged
//!    with prior state), plan `default`s where the config is null, and decide computed
//!    attributes the config leaves null: unknown on create; on update the prior value when
//!    the attribute is `use_state_for_unknown` or nothing the user sets has changed,
//!    unknown otherwise (the update may change it).
//! 2. the resource's `modify_plan`;
//! 3. [`requires_replace`]: every `force_new` attribute or block whose planned value differs
//!    from the prior one.

use crate::framework::{AttrPath, Block, Nesting, Value};

/// A data source's configuration with `default`s where it leaves them null (Terraform does
/// not plan data sources, so the provider fills defaults in before reading).
pub fn config_with_defaults(block: &Block, config: Value) -> Value {
    let mut config = config;
    if let Value::Object(_) = config {
        for attr in &block.attributes {
            if let (Some(default), true) = (&attr.default, config.get(&attr.name).is_null()) {
                config.set(&attr.name, default.clone());
            }
        }
    }
    config
}

/// Step 1 above. `prior` is null on create. Destroy plans (proposed null) never get here.
pub fn plan_defaults_and_unknowns(
    block: &Block,
    prior: &Value,
    proposed: Value,
    config: &Value,
) -> Value {
    let Value::Object(_) = proposed else {
        return proposed;
    };
    let mut planned = proposed;
    for attr in &block.attributes {
        if let (Some(default), true) = (&attr.default, config.get(&attr.name).is_null()) {
            planned.set(&attr.name, default.clone());
        }
    }
    for nested in &block.blocks {
        let value = planned.get(&nested.name).clone();
        let (prior_v, config_v) = (prior.get(&nested.name), config.get(&nested.name));
        let new_value = match (nested.nesting, value) {
            (Nesting::Single, v @ Value::Object(_)) => {
                plan_defaults_and_unknowns(&nested.block, prior_v, v, config_v)
            }
            (Nesting::List, Value::List(items)) => Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let p = prior_v.elements().get(i).unwrap_or(&Value::Null);
                        let c = config_v.elements().get(i).unwrap_or(&Value::Null);
                        plan_defaults_and_unknowns(&nested.block, p, item, c)
                    })
                    .collect(),
            ),
            (Nesting::Set, Value::Set(items)) => Value::Set(
                items
                    .into_iter()
                    .map(|item| {
                        // Set elements have no identity but their content: an element is
                        // "the same" as a prior one when everything the user sets is equal.
                        let user_part = project(&nested.block, &item);
                        let same =
                            |v: &&Value| semantically_equal(&project(&nested.block, v), &user_part);
                        let p = prior_v.elements().iter().find(same).unwrap_or(&Value::Null);
                        let c = config_v
                            .elements()
                            .iter()
                            .find(same)
                            .unwrap_or(&Value::Null);
                        plan_defaults_and_unknowns(&nested.block, p, item, c)
                    })
                    .collect(),
            ),
            (_, other) => other,
        };
        planned.set(&nested.name, new_value);
    }
    let creating = prior.is_null();
    let user_changed =
        creating || !semantically_equal(&project(block, &planned), &project(block, prior));
    for attr in &block.attributes {
        if !attr.computed || attr.default.is_some() || !config.get(&attr.name).is_null() {
            continue;
        }
        let value = if creating {
            Value::Unknown
        } else if attr.use_state_for_unknown || !user_changed {
            prior.get(&attr.name).clone()
        } else {
            Value::Unknown
        };
        planned.set(&attr.name, value);
    }
    planned
}

/// The part of an object the user controls: required and optional attributes and nested
/// blocks (recursively), without computed-only attributes.
fn project(block: &Block, value: &Value) -> Value {
    let Value::Object(_) = value else {
        return value.clone();
    };
    let mut out = Value::object::<[(&str, Value); 0], &str>([]);
    for attr in block
        .attributes
        .iter()
        .filter(|a| a.required || a.optional || a.default.is_some())
    {
        out.set(&attr.name, value.get(&attr.name).clone());
    }
    for nested in &block.blocks {
        let v = value.get(&nested.name);
        let projected = match v {
            Value::List(items) => {
                Value::List(items.iter().map(|i| project(&nested.block, i)).collect())
            }
            Value::Set(items) => {
                Value::Set(items.iter().map(|i| project(&nested.block, i)).collect())
            }
            other => project(&nested.block, other),
        };
        out.set(&nested.name, projected);
    }
    out
}

/// Step 3 above: paths Terraform must replace the object for. A planned value that is
/// unknown counts as a change only when the *configuration* is unknown there (it depends on
/// something not yet known); an attribute that is unknown merely because it is computed
/// would otherwise force a replacement on every update.
pub fn requires_replace(
    block: &Block,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> Vec<AttrPath> {
    let mut out = Vec::new();
    if prior.is_null() || planned.is_null() {
        return out;
    }
    collect_replace(
        block,
        prior,
        planned,
        config,
        &AttrPath::default(),
        &mut out,
    );
    out
}

fn collect_replace(
    block: &Block,
    prior: &Value,
    planned: &Value,
    config: &Value,
    path: &AttrPath,
    out: &mut Vec<AttrPath>,
) {
    for attr in block.attributes.iter().filter(|a| a.force_new) {
        let (p, q, c) = (
            planned.get(&attr.name),
            prior.get(&attr.name),
            config.get(&attr.name),
        );
        if differs(p, q, c) {
            out.push(path.clone().then_attr(&attr.name));
        }
    }
    for nested in &block.blocks {
        let (p, q, c) = (
            planned.get(&nested.name),
            prior.get(&nested.name),
            config.get(&nested.name),
        );
        let nested_path = path.clone().then_attr(&nested.name);
        if nested.force_new {
            let (pp, qp, cp) = (
                project_nested(nested, p),
                project_nested(nested, q),
                project_nested(nested, c),
            );
            if differs(&pp, &qp, &cp) {
                out.push(nested_path);
            }
            continue;
        }
        // Look inside for force_new attributes where elements can be matched up.
        match nested.nesting {
            Nesting::Single => collect_replace(&nested.block, q, p, c, &nested_path, out),
            Nesting::List => {
                for (i, item) in p.elements().iter().enumerate() {
                    let prior_item = q.elements().get(i).unwrap_or(&Value::Null);
                    let config_item = c.elements().get(i).unwrap_or(&Value::Null);
                    if !prior_item.is_null() {
                        collect_replace(
                            &nested.block,
                            prior_item,
                            item,
                            config_item,
                            &nested_path.clone().then_index(i as i64),
                            out,
                        );
                    }
                }
            }
            Nesting::Set => {} // no element identity; mark the whole block force_new instead
        }
    }
}

fn project_nested(nested: &crate::framework::NestedBlock, v: &Value) -> Value {
    match v {
        Value::List(items) => {
            Value::List(items.iter().map(|i| project(&nested.block, i)).collect())
        }
        Value::Set(items) => Value::Set(items.iter().map(|i| project(&nested.block, i)).collect()),
        other => project(&nested.block, other),
    }
}

fn differs(planned: &Value, prior: &Value, config: &Value) -> bool {
    if planned.contains_unknown() {
        return config.contains_unknown();
    }
    !semantically_equal(planned, prior)
}

/// Equality as Terraform sees it: sets ignore order, a missing object attribute equals null,
/// maps and objects compare by content.
pub fn semantically_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Set(x), Value::Set(y))
        | (Value::Set(x), Value::List(y))
        | (Value::List(x), Value::Set(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|xi| y.iter().any(|yi| semantically_equal(xi, yi)))
                && y.iter()
                    .all(|yi| x.iter().any(|xi| semantically_equal(xi, yi)))
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(xi, yi)| semantically_equal(xi, yi))
        }
        (Value::Map(x) | Value::Object(x), Value::Map(y) | Value::Object(y)) => x
            .keys()
            .chain(y.keys())
            .all(|k| semantically_equal(a.get(k), b.get(k))),
        _ => a == b,
    }
}

/// The first unknown inside `value`, as a path (for "provider left an unknown" errors).
pub fn find_unknown(value: &Value, path: &AttrPath) -> Option<AttrPath> {
    match value {
        Value::Unknown => Some(path.clone()),
        Value::List(items) | Value::Set(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_unknown(v, &path.clone().then_index(i as i64))),
        Value::Object(m) => m
            .iter()
            .find_map(|(k, v)| find_unknown(v, &path.clone().then_attr(k))),
        Value::Map(m) => m
            .iter()
            .find_map(|(k, v)| find_unknown(v, &path.clone().then_key(k))),
        _ => None,
    }
}

/// A copy of `value` with every unknown replaced by null.
pub fn unknowns_to_null(value: Value) -> Value {
    match value {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.into_iter().map(unknowns_to_null).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(unknowns_to_null).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, unknowns_to_null(v)))
                .collect(),
        ),
        Value::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (k, unknowns_to_null(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttrType, Attribute, NestedBlock, PathStep};

    fn block() -> Block {
        Block::new("")
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("account_id").required().force_new())
            .attr(Attribute::string("role_name").optional())
            .attr(Attribute::number("period").default(Value::Number(300.0)))
            .attr(Attribute::string("policy_hash").computed())
            .attr(
                Attribute::list_of("regions", AttrType::String)
                    .optional()
                    .force_new(),
            )
            .block(NestedBlock::list(
                "sink",
                Block::new("")
                    .attr(Attribute::string("url").required().force_new())
                    .attr(Attribute::string("status").computed()),
            ))
            .block(
                NestedBlock::single(
                    "role",
                    Block::new("").attr(Attribute::string("name").optional()),
                )
                .force_new(),
            )
    }

    fn config() -> Value {
        Value::object([
            ("id", Value::Null),
            ("account_id", Value::string("123456789012")),
            ("role_name", Value::string("r")),
            ("period", Value::Null),
            ("policy_hash", Value::Null),
            ("regions", Value::string_list(["us-east-1"])),
            (
                "sink",
                Value::List(vec![Value::object([
                    ("url", Value::string("http://a")),
                    ("status", Value::Null),
                ])]),
            ),
            ("role", Value::Null),
        ])
    }

    fn prior() -> Value {
        Value::object([
            ("id", Value::string("acc-1")),
            ("account_id", Value::string("123456789012")),
            ("role_name", Value::string("r")),
            ("period", Value::Number(300.0)),
            ("policy_hash", Value::string("h1")),
            ("regions", Value::string_list(["us-east-1"])),
            (
                "sink",
                Value::List(vec![Value::object([
                    ("url", Value::string("http://a")),
                    ("status", Value::string("ok")),
                ])]),
            ),
            ("role", Value::Null),
        ])
    }

    /// What Terraform proposes: config, with prior values for computed attributes it leaves null.
    fn proposed(config: &Value, prior: &Value) -> Value {
        let mut p = config.clone();
        for name in ["id", "period", "policy_hash"] {
            if config.get(name).is_null() {
                p.set(name, prior.get(name).clone());
            }
        }
        p
    }

    #[test]
    fn data_source_config_gets_defaults_only_where_null() {
        let cfg = Value::object([
            ("account_id", Value::string("123456789012")),
            ("period", Value::Null),
        ]);
        let filled = config_with_defaults(&block(), cfg);
        assert_eq!(filled.get("period"), &Value::Number(300.0));
        assert_eq!(
            filled.get("policy_hash"),
            &Value::Null,
            "computed attributes stay for the data source to set"
        );
        let set = Value::object([("period", Value::Number(60.0))]);
        assert_eq!(
            config_with_defaults(&block(), set).get("period"),
            &Value::Number(60.0)
        );
    }

    #[test]
    fn create_fills_defaults_and_makes_computed_unknown() {
        let planned = plan_defaults_and_unknowns(
            &block(),
            &Value::Null,
            proposed(&config(), &Value::Null),
            &config(),
        );
        assert_eq!(planned.get("period"), &Value::Number(300.0));
        assert_eq!(planned.get("id"), &Value::Unknown);
        assert_eq!(planned.get("policy_hash"), &Value::Unknown);
        assert_eq!(
            planned.get("sink").elements()[0].get("status"),
            &Value::Unknown
        );
        assert_eq!(planned.get("role_name"), &Value::string("r"));
        assert!(requires_replace(&block(), &Value::Null, &planned, &config()).is_empty());
    }

    #[test]
    fn no_change_keeps_every_prior_value() {
        let planned = plan_defaults_and_unknowns(
            &block(),
            &prior(),
            proposed(&config(), &prior()),
            &config(),
        );
        assert!(semantically_equal(&planned, &prior()), "{planned:?}");
        assert!(requires_replace(&block(), &prior(), &planned, &config()).is_empty());
    }

    #[test]
    fn a_user_change_makes_computed_unknown_except_use_state_for_unknown() {
        let mut cfg = config();
        cfg.set("role_name", Value::string("other"));
        let planned =
            plan_defaults_and_unknowns(&block(), &prior(), proposed(&cfg, &prior()), &cfg);
        assert_eq!(planned.get("id"), &Value::string("acc-1"));
        assert_eq!(planned.get("policy_hash"), &Value::Unknown);
        assert_eq!(planned.get("role_name"), &Value::string("other"));
        assert!(requires_replace(&block(), &prior(), &planned, &cfg).is_empty());
    }

    #[test]
    fn force_new_changes_require_replacement() {
        let mut cfg = config();
        cfg.set("account_id", Value::string("210987654321"));
        cfg.set("regions", Value::string_list(["us-east-1", "eu-west-1"]));
        cfg.set(
            "sink",
            Value::List(vec![Value::object([
                ("url", Value::string("http://b")),
                ("status", Value::Null),
            ])]),
        );
        cfg.set("role", Value::object([("name", Value::string("x"))]));
        let planned =
            plan_defaults_and_unknowns(&block(), &prior(), proposed(&cfg, &prior()), &cfg);
        let paths = requires_replace(&block(), &prior(), &planned, &cfg);
        let expected = vec![
            AttrPath::attr("account_id"),
            AttrPath::attr("regions"),
            AttrPath(vec![
                PathStep::Attr("sink".into()),
                PathStep::Index(0),
                PathStep::Attr("url".into()),
            ]),
            AttrPath::attr("role"),
        ];
        assert_eq!(paths, expected);
    }

    #[test]
    fn unknown_only_replaces_when_the_config_is_unknown() {
        let mut cfg = config();
        cfg.set("account_id", Value::Unknown);
        let planned =
            plan_defaults_and_unknowns(&block(), &prior(), proposed(&cfg, &prior()), &cfg);
        assert_eq!(
            requires_replace(&block(), &prior(), &planned, &cfg),
            vec![AttrPath::attr("account_id")]
        );
        // A computed force_new attribute turned unknown by the generic rule does not replace.
        let b = Block::new("")
            .attr(Attribute::string("x").optional())
            .attr(Attribute::string("derived").computed().force_new());
        let prior = Value::object([("x", Value::string("1")), ("derived", Value::string("d"))]);
        let cfg = Value::object([("x", Value::string("2")), ("derived", Value::Null)]);
        let planned = plan_defaults_and_unknowns(
            &b,
            &prior,
            Value::object([("x", Value::string("2")), ("derived", Value::string("d"))]),
            &cfg,
        );
        assert_eq!(planned.get("derived"), &Value::Unknown);
        assert!(requires_replace(&b, &prior, &planned, &cfg).is_empty());
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::string("a"), Value::string("b")]);
        let b = Value::Set(vec![Value::string("b"), Value::string("a")]);
        assert!(semantically_equal(&a, &b));
        assert!(!semantically_equal(
            &a,
            &Value::Set(vec![Value::string("a")])
        ));
        assert!(semantically_equal(
            &Value::object([("x", Value::Null)]),
            &Value::object::<[(&str, Value); 0], &str>([])
        ));
    }

    #[test]
    fn unknowns_are_found_and_cleared() {
        let v = Value::object([("a", Value::List(vec![Value::Null, Value::Unknown]))]);
        assert_eq!(
            find_unknown(&v, &AttrPath::default()),
            Some(AttrPath(vec![
                PathStep::Attr("a".into()),
                PathStep::Index(1)
            ]))
        );
        assert!(!unknowns_to_null(v).contains_unknown());
    }
}
