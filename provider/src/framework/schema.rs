//! Schemas for the provider, resources and data sources, with reusable validators.
//!
//! Only nested *blocks* are offered: Terraform 1.0.x mishandles nested attributes.

use super::Value;

#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttrType {
    String,
    Number,
    Bool,
    List(Box<AttrType>),
    Set(Box<AttrType>),
    Map(Box<AttrType>),
    /// An object with fixed fields; as the element of a computed list it carries structured
    /// results (Terraform 1.0.x takes object-typed attributes, unlike nested attributes).
    Object(Vec<ObjectField>),
}

/// One field of an [`AttrType::Object`]; the description is for the docs only (cty object
/// types carry none).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectField {
    pub name: String,
    pub ty: AttrType,
    pub description: String,
}

impl ObjectField {
    pub fn new(name: &str, ty: AttrType, description: &str) -> Self {
        ObjectField { name: name.to_owned(), ty, description: description.to_owned() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    /// A change inside this block forces replacement.
    pub force_new: bool,
}

/// A reusable check on one attribute's configured (known, non-null) value. Only generic
/// checks are variants here; domain checks (AWS account IDs, ARNs ...) are `Custom` values
/// defined by the provider (`crate::lfm::validators`).
#[derive(Clone, Debug)]
pub enum Validator {
    /// Full-match regex on a string, with a message saying what is expected.
    Regex { pattern: &'static str, message: &'static str },
    OneOf(&'static [&'static str]),
    IntRange { min: i64, max: i64 },
    /// Element-wise: applies to every element of a list/set.
    Each(Box<Validator>),
    /// Free-form check returning a message on failure.
    Custom(fn(&Value) -> Result<(), String>),
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub ty: AttrType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Changing it plans a replacement (RequiresReplace).
    pub force_new: bool,
    /// Value planned when the configuration leaves it null (implies optional + computed).
    pub default: Option<Value>,
    /// A computed attribute keeps its prior value in the plan instead of becoming unknown.
    pub use_state_for_unknown: bool,
    pub validators: Vec<Validator>,
}

impl Attribute {
    fn new(name: &str, ty: AttrType) -> Self {
        Attribute {
            name: name.to_owned(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            force_new: false,
            default: None,
            use_state_for_unknown: false,
            validators: Vec::new(),
        }
    }
    pub fn string(name: &str) -> Self {
        Self::new(name, AttrType::String)
    }
    pub fn number(name: &str) -> Self {
        Self::new(name, AttrType::Number)
    }
    pub fn bool(name: &str) -> Self {
        Self::new(name, AttrType::Bool)
    }
    pub fn list_of(name: &str, elem: AttrType) -> Self {
        Self::new(name, AttrType::List(Box::new(elem)))
    }
    pub fn set_of(name: &str, elem: AttrType) -> Self {
        Self::new(name, AttrType::Set(Box::new(elem)))
    }
    pub fn map_of(name: &str, elem: AttrType) -> Self {
        Self::new(name, AttrType::Map(Box::new(elem)))
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn default(mut self, v: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(v);
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }
    pub fn validate(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }
    pub fn description(mut self, d: &str) -> Self {
        self.description = d.to_owned();
        self
    }
}

impl NestedBlock {
    pub fn single(name: &str, block: Block) -> Self {
        NestedBlock { name: name.to_owned(), nesting: Nesting::Single, block, min_items: 0, max_items: 1, force_new: false }
    }
    pub fn list(name: &str, block: Block) -> Self {
        NestedBlock { name: name.to_owned(), nesting: Nesting::List, block, min_items: 0, max_items: 0, force_new: false }
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
}

impl Block {
    pub fn new(description: &str) -> Self {
        Block { description: description.to_owned(), ..Default::default() }
    }
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
}
