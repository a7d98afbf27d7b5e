//! Registry documentation generated from the provider's own schema, so docs never drift
//! from code: `docs/index.md`, `docs/resources/<type>.md`, `docs/data-sources/<type>.md` in
//! the layout the Terraform registry reads (front matter, description, Example Usage from
//! `examples/`, Schema with Required / Optional / Read-Only, nested schemas, Import).
//!
//! Generic over any [`Provider`]; `provider/tests/docs.rs` renders the LFM provider and
//! fails when the committed files differ.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::framework::{AttrType, Attribute, Block, NestedBlock, Nesting, ObjectField, Provider, Value};

/// What the schema does not say about the provider.
pub struct ProviderDocs<'a> {
    /// Short name, e.g. `lfm` (types are `lfm_*`, the binary `terraform-provider-lfm`).
    pub name: &'a str,
    /// Markdown appended to `index.md` after the schema (e.g. required permissions).
    pub index_extra: &'a str,
}

/// Every page by its path under `docs/` (`index.md`, `resources/x.md`, `data-sources/y.md`).
/// Example files are read from `examples` (the repository's `examples/`): a missing
/// `resource.tf`, `data-source.tf` or `provider.tf` is an error.
pub fn render<P: Provider>(provider: &P, docs: &ProviderDocs, examples: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut pages = BTreeMap::new();
    let schema = provider.schema();
    let mut index = page(
        &format!("{} Provider", docs.name),
        &schema.block.description,
        &format!("{} Provider", docs.name),
        Some(&read_example(&examples.join("provider/provider.tf"))?),
    );
    index.push_str(&schema_section(&schema.block));
    if !docs.index_extra.is_empty() {
        index.push('\n');
        index.push_str(docs.index_extra.trim_end());
        index.push('\n');
    }
    pages.insert("index.md".to_owned(), index);

    for r in provider.resources() {
        let name = r.type_name();
        let block = r.schema().block;
        let dir = examples.join("resources").join(name);
        let mut md = page(
            &format!("{name} Resource - terraform-provider-{}", docs.name),
            &block.description,
            &format!("{name} (Resource)"),
            Some(&read_example(&dir.join("resource.tf"))?),
        );
        md.push_str(&schema_section(&block));
        let import = dir.join("import.sh");
        if import.exists() {
            let _ = write!(md, "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```\n", read_example(&import)?);
        }
        pages.insert(format!("resources/{name}.md"), md);
    }
    for d in provider.data_sources() {
        let name = d.type_name();
        let block = d.schema().block;
        let example = read_example(&examples.join("data-sources").join(name).join("data-source.tf"))?;
        let mut md = page(
            &format!("{name} Data Source - terraform-provider-{}", docs.name),
            &block.description,
            &format!("{name} (Data Source)"),
            Some(&example),
        );
        md.push_str(&schema_section(&block));
        pages.insert(format!("data-sources/{name}.md"), md);
    }
    Ok(pages)
}

/// Attributes and nested-block attributes without a description, as dotted paths.
pub fn undocumented(block: &Block) -> Vec<String> {
    fn walk(block: &Block, prefix: &str, out: &mut Vec<String>) {
        for a in &block.attributes {
            if a.description.trim().is_empty() {
                out.push(format!("{prefix}{}", a.name));
            }
            for f in object_fields(&a.ty) {
                if f.description.trim().is_empty() {
                    out.push(format!("{prefix}{}.{}", a.name, f.name));
                }
            }
        }
        for b in &block.blocks {
            if b.block.description.trim().is_empty() {
                out.push(format!("{prefix}{}", b.name));
            }
            walk(&b.block, &format!("{prefix}{}.", b.name), out);
        }
    }
    let mut out = Vec::new();
    walk(block, "", &mut out);
    out
}

fn read_example(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end().to_owned())
        .map_err(|e| format!("cannot read the example {}: {e} (every provider, resource and data source needs one)", path.display()))
}

fn page(page_title: &str, description: &str, heading: &str, example: Option<&str>) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "---\npage_title: \"{page_title}\"\nsubcategory: \"\"\ndescription: |-");
    for line in description.lines() {
        let _ = writeln!(md, "  {line}");
    }
    let _ = writeln!(md, "---\n\n# {heading}\n\n{}\n", description.trim_end());
    if let Some(example) = example {
        let _ = writeln!(md, "## Example Usage\n\n```terraform\n{example}\n```\n");
    }
    md
}

fn schema_section(block: &Block) -> String {
    let mut md = String::from("<!-- generated from the provider schema: edit the descriptions in provider/src/, not here -->\n## Schema\n");
    let mut nested = String::new();
    md.push_str(&block_lists(block, "", "###", &mut nested));
    md.push_str(&nested);
    md
}

/// The Required / Optional / Read-Only lists of a block; nested schemas are appended to
/// `nested` (each with its own lists, recursively). `anchor_prefix` keeps anchors unique.
fn block_lists(block: &Block, anchor_prefix: &str, heading: &str, nested: &mut String) -> String {
    let mut groups: [(&str, Vec<String>); 3] = [("Required", vec![]), ("Optional", vec![]), ("Read-Only", vec![])];
    let mut attrs: Vec<&Attribute> = block.attributes.iter().collect();
    attrs.sort_by(|a, b| a.name.cmp(&b.name));
    for a in attrs {
        let anchor = format!("{anchor_prefix}{}", a.name);
        let mut line = format!("- `{}` ({}) {}", a.name, type_label(a), attribute_text(a));
        let fields = object_fields(&a.ty);
        if !fields.is_empty() {
            let _ = write!(line, " (see [below for nested schema](#nestedatt--{anchor}))");
            let _ = write!(nested, "\n<a id=\"nestedatt--{anchor}\"></a>\n### Nested Schema for `{}`\n\nRead-Only:\n\n", display_name(&anchor));
            let mut fields: Vec<&ObjectField> = fields.iter().collect();
            fields.sort_by(|a, b| a.name.cmp(&b.name));
            for f in fields {
                let _ = writeln!(nested, "- `{}` ({}) {}", f.name, type_name(&f.ty), sentence(&f.description));
            }
        }
        groups[group(a)].1.push(line);
    }
    let mut blocks: Vec<&NestedBlock> = block.blocks.iter().collect();
    blocks.sort_by(|a, b| a.name.cmp(&b.name));
    for b in blocks {
        let anchor = format!("{anchor_prefix}{}", b.name);
        let required = b.min_items > 0;
        let line = format!(
            "- `{}` ({}) {}{} (see [below for nested schema](#nestedblock--{anchor}))",
            b.name,
            block_label(b),
            sentence(&b.block.description),
            if b.force_new { " Changing it replaces the resource." } else { "" },
        );
        groups[if required { 0 } else { 1 }].1.push(line);
        let mut inner_nested = String::new();
        let lists = block_lists(&b.block, &format!("{anchor}--"), "", &mut inner_nested);
        let _ = write!(nested, "\n<a id=\"nestedblock--{anchor}\"></a>\n### Nested Schema for `{}`\n\n{lists}", display_name(&anchor));
        nested.push_str(&inner_nested);
    }
    let mut md = String::new();
    for (title, lines) in groups.iter().filter(|(_, lines)| !lines.is_empty()) {
        if heading.is_empty() {
            let _ = writeln!(md, "{title}:\n");
        } else {
            let _ = writeln!(md, "\n{heading} {title}\n");
        }
        for line in lines {
            let _ = writeln!(md, "{line}");
        }
        if heading.is_empty() {
            md.push('\n');
        }
    }
    if heading.is_empty() {
        md.truncate(md.trim_end().len());
        md.push('\n');
    }
    md
}

/// `assume_role--role_arn` -> `assume_role.role_arn`.
fn display_name(anchor: &str) -> String {
    anchor.replace("--", ".")
}

fn group(a: &Attribute) -> usize {
    if a.required && a.default.is_none() {
        0
    } else if a.optional || a.default.is_some() {
        1
    } else {
        2
    }
}

fn attribute_text(a: &Attribute) -> String {
    let mut text = sentence(&a.description);
    if let Some(default) = &a.default {
        let _ = write!(text, " Defaults to `{}`.", value_literal(default));
    }
    if a.force_new {
        text.push_str(" Changing it replaces the resource.");
    }
    text
}

fn sentence(description: &str) -> String {
    let d = description.trim();
    if d.is_empty() || d.ends_with(['.', '!', '?', ')']) {
        d.to_owned()
    } else {
        format!("{d}.")
    }
}

/// A default value as the user would write it (HCL).
fn value_literal(v: &Value) -> String {
    crate::protocol::hcl::render(v)
}

fn type_label(a: &Attribute) -> String {
    let mut label = type_name(&a.ty);
    if a.sensitive {
        label.push_str(", Sensitive");
    }
    label
}

fn type_name(ty: &AttrType) -> String {
    match ty {
        AttrType::String => "String".into(),
        AttrType::Number => "Number".into(),
        AttrType::Bool => "Boolean".into(),
        AttrType::List(e) => format!("List of {}", type_name(e)),
        AttrType::Set(e) => format!("Set of {}", type_name(e)),
        AttrType::Map(e) => format!("Map of {}", type_name(e)),
        AttrType::Object(_) => "Object".into(),
    }
}

fn block_label(b: &NestedBlock) -> String {
    let mut label = match b.nesting {
        Nesting::Single => "Block".to_owned(),
        Nesting::List => "Block List".to_owned(),
        Nesting::Set => "Block Set".to_owned(),
    };
    if b.min_items > 0 {
        let _ = write!(label, ", Min: {}", b.min_items);
    }
    if b.nesting != Nesting::Single && b.max_items > 0 {
        let _ = write!(label, ", Max: {}", b.max_items);
    }
    label
}

/// The fields of an object type, or of the objects in a list/set/map of them.
fn object_fields(ty: &AttrType) -> &[ObjectField] {
    match ty {
        AttrType::Object(fields) => fields,
        AttrType::List(e) | AttrType::Set(e) | AttrType::Map(e) => object_fields(e),
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{AttrType, Attribute, Block, NestedBlock, Validator};

    fn block() -> Block {
        Block::new("A thing.")
            .attr(Attribute::string("name").required().force_new().description("Name of the thing"))
            .attr(Attribute::string("secret").optional().sensitive().description("A secret."))
            .attr(Attribute::string("mode").default(Value::string("fast")).validate(Validator::OneOf(&["fast", "slow"])).description("How fast."))
            .attr(Attribute::string("id").computed().description("ID."))
            .attr(Attribute::list_of("items", AttrType::Object(vec![ObjectField::new("key", AttrType::String, "The key.")])).computed().description("Items."))
            .block(NestedBlock::single("role", Block::new("A role.").attr(Attribute::string("arn").required().description("Role ARN."))))
    }

    #[test]
    fn groups_types_defaults_and_nested_schemas() {
        let md = schema_section(&block());
        let expected = "\
<!-- generated from the provider schema: edit the descriptions in provider/src/, not here -->
## Schema

### Required

- `name` (String) Name of the thing. Changing it replaces the resource.

### Optional

- `mode` (String) How fast. Defaults to `\"fast\"`.
- `secret` (String, Sensitive) A secret.
- `role` (Block) A role. (see [below for nested schema](#nestedblock--role))

### Read-Only

- `id` (String) ID.
- `items` (List of Object) Items. (see [below for nested schema](#nestedatt--items))

<a id=\"nestedatt--items\"></a>
### Nested Schema for `items`

Read-Only:

- `key` (String) The key.

<a id=\"nestedblock--role\"></a>
### Nested Schema for `role`

Required:

- `arn` (String) Role ARN.
";
        assert_eq!(md, expected);
    }

    #[test]
    fn finds_undocumented_attributes_fields_and_blocks() {
        let b = Block::new("x")
            .attr(Attribute::string("a"))
            .attr(Attribute::list_of("l", AttrType::Object(vec![ObjectField::new("f", AttrType::String, "")])).description("L"))
            .block(NestedBlock::single("b", Block::new("").attr(Attribute::string("c").description("C"))));
        assert_eq!(undocumented(&b), ["a", "l.f", "b"]);
        assert!(undocumented(&block()).is_empty());
    }

    #[test]
    fn front_matter_keeps_multi_line_descriptions_indented() {
        let md = page("x Resource - terraform-provider-x", "Line one.\nLine two.", "x (Resource)", None);
        assert!(md.starts_with("---\npage_title: \"x Resource - terraform-provider-x\"\nsubcategory: \"\"\ndescription: |-\n  Line one.\n  Line two.\n---\n\n# x (Resource)\n"));
    }
}
