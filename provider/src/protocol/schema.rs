//! Framework schemas in protocol terms: the protobuf `Schema` Terraform asks for, the cty
//! type the codec reads and writes values by, and the shape fix-ups resources' values get
//! before they go back to Terraform.

use std::collections::BTreeMap;

use super::codec::CtyType;
use super::proto::tfplugin6 as pb;
use crate::framework::{AttrType, Attribute, Block, NestedBlock, Nesting, Schema, Value};

/// The cty object type of a block: attributes by name plus nested blocks
/// (SINGLE -> object, LIST -> list of objects, SET -> set of objects).
pub fn object_type(block: &Block) -> CtyType {
    let mut attrs: BTreeMap<String, CtyType> = block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), attr_type(&a.ty)))
        .collect();
    for nested in &block.blocks {
        let inner = object_type(&nested.block);
        let ty = match nested.nesting {
            Nesting::Single => inner,
            Nesting::List => CtyType::List(Box::new(inner)),
            Nesting::Set => CtyType::Set(Box::new(inner)),
        };
        attrs.insert(nested.name.clone(), ty);
    }
    CtyType::Object(attrs)
}

pub fn attr_type(ty: &AttrType) -> CtyType {
    match ty {
        AttrType::String => CtyType::String,
        AttrType::Number => CtyType::Number,
        AttrType::Bool => CtyType::Bool,
        AttrType::List(e) => CtyType::List(Box::new(attr_type(e))),
        AttrType::Set(e) => CtyType::Set(Box::new(attr_type(e))),
        AttrType::Map(e) => CtyType::Map(Box::new(attr_type(e))),
        AttrType::Object(fields) => CtyType::Object(
            fields
                .iter()
                .map(|f| (f.name.clone(), attr_type(&f.ty)))
                .collect(),
        ),
    }
}

/// The cty type JSON of `Schema.Attribute.type`: `"string"`, `["list","string"]`, ...
pub fn type_json(ty: &AttrType) -> serde_json::Value {
    use serde_json::json;
    match ty {
        AttrType::String => json!("string"),
        AttrType::Number => json!("number"),
        AttrType::Bool => json!("bool"),
        AttrType::List(e) => json!(["list", type_json(e)]),
        AttrType::Set(e) => json!(["set", type_json(e)]),
        AttrType::Map(e) => json!(["map", type_json(e)]),
        AttrType::Object(fields) => {
            let fields: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|f| (f.name.clone(), type_json(&f.ty)))
                .collect();
            json!(["object", fields])
        }
    }
}

/// The protobuf schema Terraform receives from GetProviderSchema.
pub fn to_proto(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_to_proto(&schema.block, schema.version)),
    }
}

fn block_to_proto(block: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block.blocks.iter().map(nested_to_proto).collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Plain as i32,
        deprecated: false,
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    // A default is planned by the provider, so Terraform must see the attribute as
    // optional + computed, whatever the builder calls said.
    let has_default = a.default.is_some();
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: type_json(&a.ty).to_string().into_bytes(),
        nested_type: None,
        description: a.description.clone(),
        required: a.required && !has_default,
        optional: (a.optional || has_default) && !a.required,
        computed: a.computed || has_default,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Plain as i32,
        deprecated: false,
    }
}

fn nested_to_proto(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match b.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
    };
    // A SINGLE block must have min_items == max_items, both 0 (optional) or both 1 (required):
    // OpenTofu (and newer Terraform) reject the provider's whole schema otherwise ("MinItems
    // and MaxItems must match in NestingSingle mode"); terraform-plugin-framework sends 0/0.
    let (min_items, max_items) = match b.nesting {
        Nesting::Single if b.min_items >= 1 => (1, 1),
        Nesting::Single => (0, 0),
        _ => (b.min_items, b.max_items),
    };
    pb::schema::NestedBlock {
        type_name: b.name.clone(),
        block: Some(block_to_proto(&b.block, 0)),
        nesting: nesting as i32,
        min_items,
        max_items,
    }
}

/// Brings a value a resource produced into the shape Terraform expects for `block`:
/// every attribute present (missing ones null), and LIST/SET nested blocks as collections
/// (Terraform represents "no blocks" as an empty list, never null).
pub fn normalize(value: Value, block: &Block) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    for a in &block.attributes {
        map.entry(a.name.clone()).or_insert(Value::Null);
    }
    for nested in &block.blocks {
        let current = map.remove(&nested.name).unwrap_or(Value::Null);
        let fixed = match (nested.nesting, current) {
            (Nesting::Single, v) => normalize(v, &nested.block),
            (Nesting::List, Value::Null) => Value::List(Vec::new()),
            (Nesting::Set, Value::Null) => Value::Set(Vec::new()),
            (Nesting::List, Value::List(items) | Value::Set(items)) => Value::List(
                items
                    .into_iter()
                    .map(|v| normalize(v, &nested.block))
                    .collect(),
            ),
            (Nesting::Set, Value::List(items) | Value::Set(items)) => Value::Set(
                items
                    .into_iter()
                    .map(|v| normalize(v, &nested.block))
                    .collect(),
            ),
            (_, other) => other,
        };
        map.insert(nested.name.clone(), fixed);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttrType, Attribute, Block, NestedBlock};

    fn schema() -> Schema {
        Schema {
            version: 1,
            block: Block::new("An account LFM monitors.")
                .attr(
                    Attribute::string("account_id")
                        .required()
                        .force_new()
                        .description("12-digit account"),
                )
                .attr(Attribute::string("arn").computed())
                .attr(Attribute::string("password").optional().sensitive())
                .attr(Attribute::number("period").default(Value::Number(300.0)))
                .attr(Attribute::list_of("regions", AttrType::String).optional())
                .attr(
                    Attribute::map_of("tags", AttrType::Set(Box::new(AttrType::Number))).optional(),
                )
                .block(NestedBlock::list(
                    "rule",
                    Block::new("a rule").attr(Attribute::bool("on").required()),
                ))
                .block(NestedBlock::single(
                    "role",
                    Block::new("").attr(Attribute::string("name").optional()),
                )),
        }
    }

    #[test]
    fn proto_schema_carries_types_flags_and_nesting() {
        let pb = to_proto(&schema());
        assert_eq!(pb.version, 1);
        let block = pb.block.unwrap();
        assert_eq!(block.description, "An account LFM monitors.");
        let attr = |n: &str| {
            block
                .attributes
                .iter()
                .find(|a| a.name == n)
                .unwrap()
                .clone()
        };
        assert_eq!(attr("account_id").r#type, b"\"string\"");
        assert!(attr("account_id").required && !attr("account_id").optional);
        assert_eq!(attr("account_id").description, "12-digit account");
        assert_eq!(
            attr("account_id").description_kind,
            pb::StringKind::Plain as i32
        );
        assert!(attr("arn").computed && !attr("arn").optional);
        assert!(attr("password").sensitive);
        let period = attr("period");
        assert!(period.optional && period.computed && !period.required);
        assert_eq!(attr("regions").r#type, br#"["list","string"]"#);
        assert_eq!(attr("tags").r#type, br#"["map",["set","number"]]"#);
        let rule = &block.block_types[0];
        assert_eq!(rule.type_name, "rule");
        assert_eq!(
            rule.nesting,
            pb::schema::nested_block::NestingMode::List as i32
        );
        assert_eq!(
            rule.block.as_ref().unwrap().attributes[0].r#type,
            b"\"bool\""
        );
        let role = &block.block_types[1];
        assert_eq!(
            role.nesting,
            pb::schema::nested_block::NestingMode::Single as i32
        );
        assert_eq!((role.min_items, role.max_items), (0, 0));
    }

    #[test]
    fn object_attributes_have_cty_object_types() {
        use crate::framework::ObjectField;
        let ty = AttrType::List(Box::new(AttrType::Object(vec![
            ObjectField::new("id", AttrType::String, "the id"),
            ObjectField::new("tags", AttrType::List(Box::new(AttrType::String)), "tags"),
        ])));
        assert_eq!(
            type_json(&ty).to_string(),
            r#"["list",["object",{"id":"string","tags":["list","string"]}]]"#
        );
        let CtyType::List(elem) = attr_type(&ty) else {
            panic!()
        };
        let CtyType::Object(fields) = *elem else {
            panic!()
        };
        assert_eq!(fields["tags"], CtyType::List(Box::new(CtyType::String)));
    }

    #[test]
    fn object_type_includes_blocks() {
        let CtyType::Object(attrs) = object_type(&schema().block) else {
            panic!()
        };
        assert!(matches!(attrs["rule"], CtyType::List(_)));
        assert!(matches!(attrs["role"], CtyType::Object(_)));
        assert_eq!(attrs["regions"], CtyType::List(Box::new(CtyType::String)));
    }

    #[test]
    fn normalize_fills_attributes_and_empty_blocks() {
        let v = normalize(
            Value::object([("account_id", Value::string("123456789012"))]),
            &schema().block,
        );
        assert_eq!(v.get("arn"), &Value::Null);
        assert_eq!(v.get("rule"), &Value::List(vec![]));
        assert_eq!(v.get("role"), &Value::Null);
    }
}
