//! Data source `lfm_organization_accounts`: the organisation's accounts (ListAccounts, every
//! page), filtered by status, name and an exclusion list, as a sorted `ids` list made for
//! `for_each` and as `accounts` objects. The filtering is pure ([`Filter`]) and unit-tested.
//!
//! `accounts` is a computed attribute of type list(object), not a nested block: when the
//! read waits for apply (configuration still unknown), Terraform plans a computed attribute
//! as unknown, whereas a block would be planned as a known empty list.

use crate::lfm::aws::org::{self, OrgAccount};
use crate::lfm::{validators, LfmContext};
use crate::framework::{AttrPath, AttrType, Attribute, Block, DataSource, Diagnostics, ObjectField, Schema, Validator, Value};
use async_trait::async_trait;
use regex::Regex;

pub struct OrganizationAccounts;

/// Account states the `status` filter accepts (ListAccounts' `State`, of which the retiring
/// `Status` values ACTIVE, SUSPENDED and PENDING_CLOSURE are a subset).
pub const STATUSES: &[&str] = &["ACTIVE", "SUSPENDED", "PENDING_ACTIVATION", "PENDING_CLOSURE", "CLOSED"];

/// Default of `status`.
pub const DEFAULT_STATUS: &str = "ACTIVE";

/// Default of `include_management`.
pub const DEFAULT_INCLUDE_MANAGEMENT: bool = false;

fn account_fields() -> Vec<ObjectField> {
    vec![
        ObjectField::new("id", AttrType::String, "12-digit account ID."),
        ObjectField::new("arn", AttrType::String, "ARN of the account within the organisation."),
        ObjectField::new("name", AttrType::String, "Friendly name of the account."),
        ObjectField::new("email", AttrType::String, "Email address of the account's root user."),
        ObjectField::new("status", AttrType::String, "The account's state: ACTIVE, SUSPENDED, PENDING_ACTIVATION, PENDING_CLOSURE or CLOSED."),
        ObjectField::new("joined_method", AttrType::String, "How the account joined the organisation: CREATED or INVITED."),
    ]
}

fn valid_regex(v: &Value) -> Result<(), String> {
    match Regex::new(v.as_str().unwrap_or_default()) {
        Ok(_) => Ok(()),
        // The regex crate's message spans lines (pattern, caret, reason): keep the reason.
        Err(e) => Err(format!(
            "must be a valid regular expression (Rust regex syntax): {}",
            e.to_string().lines().last().unwrap_or_default().trim_start_matches("error: ")
        )),
    }
}

#[async_trait]
impl DataSource<LfmContext> for OrganizationAccounts {
    fn type_name(&self) -> &'static str {
        "lfm_organization_accounts"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("The accounts of the AWS Organization the provider's credentials belong to, e.g. to create an `lfm_monitored_account` in every member account with `for_each = toset(data.lfm_organization_accounts.members.ids)`. Needs organizations:ListAccounts and organizations:DescribeOrganization, which only the management account or a delegated administrator has.")
                .attr(Attribute::string("id").computed().description("The organisation ID (same as `organization_id`)."))
                .attr(Attribute::string("status").default(Value::string(DEFAULT_STATUS)).validate(Validator::OneOf(STATUSES)).description("Only accounts in this state: ACTIVE, SUSPENDED, PENDING_ACTIVATION, PENDING_CLOSURE or CLOSED."))
                .attr(Attribute::set_of("exclude_ids", AttrType::String).optional().validate(Validator::Each(Box::new(validators::ACCOUNT_ID))).description("Account IDs to leave out (e.g. a security or log-archive account)."))
                .attr(Attribute::string("name_regex").optional().validate(Validator::Custom(valid_regex)).description("Only accounts whose name matches this regular expression (Rust regex syntax; matches anywhere in the name unless anchored with ^ and $)."))
                .attr(Attribute::bool("include_management").default(Value::Bool(DEFAULT_INCLUDE_MANAGEMENT)).description("Include the organisation's management account, which is usually not monitored like the member accounts. The other filters still apply to it."))
                .attr(Attribute::string("organization_id").computed().description("ID of the organisation (o-...)."))
                .attr(Attribute::string("management_account_id").computed().description("ID of the organisation's management account."))
                .attr(Attribute::list_of("ids", AttrType::String).computed().description("IDs of the selected accounts, sorted: use `toset(...ids)` in `for_each`."))
                .attr(Attribute::list_of("accounts", AttrType::Object(account_fields())).computed().description("The selected accounts, sorted by ID (the same order as `ids`).")),
        }
    }

    async fn read(&self, ctx: &LfmContext, config: &Value) -> Result<Value, Diagnostics> {
        let aws = ctx.aws()?;
        let filter = Filter::from_config(config)?;
        let organization = ctx.organization("organization_id").await.map_err(without_attribute)?;
        let accounts = filter.select(org::list_accounts(aws, None).await?, &organization.management_account_id);
        let mut out = config.clone();
        out.set("id", Value::string(&organization.id));
        out.set("organization_id", Value::string(&organization.id));
        out.set("management_account_id", Value::string(&organization.management_account_id));
        out.set("ids", Value::string_list(accounts.iter().map(|a| a.id.clone())));
        out.set("accounts", Value::List(accounts.iter().map(account_value).collect()));
        Ok(out)
    }
}

/// `organization_id` is computed here, not something the user could set instead: the lookup
/// error must not point at it.
fn without_attribute(mut d: Diagnostics) -> Diagnostics {
    for diag in &mut d.0 {
        diag.attribute = None;
        diag.detail = diag.detail.replace(", or set `organization_id` (o-...) explicitly", "").replace(", or set `organization_id`", "");
    }
    d
}

fn account_value(a: &OrgAccount) -> Value {
    Value::object([
        ("id", Value::string(&a.id)),
        ("arn", Value::string(&a.arn)),
        ("name", Value::string(&a.name)),
        ("email", Value::string(&a.email)),
        ("status", Value::string(&a.status)),
        ("joined_method", Value::string(&a.joined_method)),
    ])
}

/// Which accounts the data source returns.
#[derive(Debug)]
pub struct Filter {
    pub status: String,
    pub exclude_ids: Vec<String>,
    pub name_regex: Option<Regex>,
    pub include_management: bool,
}

impl Filter {
    /// The configuration decoded once, with the schema's defaults (`status`,
    /// `include_management`) where the configuration is null.
    pub fn from_config(config: &Value) -> Result<Filter, Diagnostics> {
        let name_regex = match config.get("name_regex").as_str() {
            None => None,
            Some(pattern) => Some(Regex::new(pattern).map_err(|e| {
                Diagnostics::attribute_error(AttrPath::attr("name_regex"), "Invalid value for \"name_regex\"", e.to_string())
            })?),
        };
        Ok(Filter {
            status: config.get("status").as_str().unwrap_or(DEFAULT_STATUS).to_owned(),
            exclude_ids: config.get("exclude_ids").strings(),
            name_regex,
            include_management: config.get("include_management").as_bool().unwrap_or(DEFAULT_INCLUDE_MANAGEMENT),
        })
    }

    /// The accounts that pass, sorted by ID.
    pub fn select(&self, accounts: Vec<OrgAccount>, management_account_id: &str) -> Vec<OrgAccount> {
        let mut selected: Vec<OrgAccount> = accounts
            .into_iter()
            .filter(|a| a.status == self.status)
            .filter(|a| self.include_management || a.id != management_account_id)
            .filter(|a| !self.exclude_ids.contains(&a.id))
            .filter(|a| match &self.name_regex {
                Some(re) => re.is_match(&a.name),
                None => true,
            })
            .collect();
        selected.sort_by(|a, b| a.id.cmp(&b.id));
        selected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::validate::validate_config;

    const MANAGEMENT: &str = "123456789012";

    fn account(id: &str, name: &str, status: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            arn: format!("arn:aws:organizations::{MANAGEMENT}:account/o-abc123defg/{id}"),
            name: name.into(),
            email: format!("{name}@example.com"),
            status: status.into(),
            joined_method: "CREATED".into(),
        }
    }

    fn fleet() -> Vec<OrgAccount> {
        vec![
            account("333333333333", "prod-payments", "ACTIVE"),
            account(MANAGEMENT, "management", "ACTIVE"),
            account("111111111111", "dev-payments", "ACTIVE"),
            account("222222222222", "prod-search", "SUSPENDED"),
            account("444444444444", "log-archive", "ACTIVE"),
        ]
    }

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut c = Value::object([
            ("status", Value::string("ACTIVE")),
            ("exclude_ids", Value::Null),
            ("name_regex", Value::Null),
            ("include_management", Value::Bool(false)),
        ]);
        for (k, v) in pairs {
            c.set(k, v.clone());
        }
        c
    }

    fn ids(config: &Value) -> Vec<String> {
        Filter::from_config(config).unwrap().select(fleet(), MANAGEMENT).into_iter().map(|a| a.id).collect()
    }

    #[test]
    fn defaults_select_active_members_sorted() {
        assert_eq!(ids(&config(&[])), ["111111111111", "333333333333", "444444444444"]);
    }

    #[test]
    fn management_account_only_on_request() {
        assert_eq!(
            ids(&config(&[("include_management", Value::Bool(true))])),
            ["111111111111", MANAGEMENT, "333333333333", "444444444444"]
        );
    }

    #[test]
    fn status_exclusions_and_name_regex_combine() {
        assert_eq!(ids(&config(&[("status", Value::string("SUSPENDED"))])), ["222222222222"]);
        assert_eq!(ids(&config(&[("exclude_ids", Value::Set(vec![Value::string("444444444444")]))])), ["111111111111", "333333333333"]);
        assert_eq!(ids(&config(&[("name_regex", Value::string("^prod-"))])), ["333333333333"]);
        assert_eq!(
            ids(&config(&[("name_regex", Value::string("payments")), ("exclude_ids", Value::Set(vec![Value::string("111111111111")]))])),
            ["333333333333"]
        );
    }

    #[test]
    fn invalid_name_regex_is_a_plan_time_error_naming_the_attribute() {
        let block = OrganizationAccounts.schema().block;
        let diags = validate_config(&block, &config(&[("name_regex", Value::string("prod-(")), ("status", Value::string("active"))]));
        let summaries: Vec<_> = diags.0.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(diags.0.len(), 2, "{summaries:?}");
        let regex = diags.0.iter().find(|d| d.attribute == Some(AttrPath::attr("name_regex"))).expect("points at name_regex");
        assert!(regex.summary.starts_with("Invalid value for \"name_regex\": must be a valid regular expression"), "{}", regex.summary);
        assert!(regex.summary.contains("unclosed group"), "{}", regex.summary);
        assert!(!regex.summary.contains('\n'));
        assert!(diags.0.iter().any(|d| d.attribute == Some(AttrPath::attr("status")) && d.summary.contains("\"ACTIVE\"")));
        let bad_id = config(&[("exclude_ids", Value::Set(vec![Value::string("12345")]))]);
        assert_eq!(validate_config(&block, &bad_id).0[0].attribute, Some(AttrPath::attr("exclude_ids")));
        assert!(validate_config(&block, &config(&[("name_regex", Value::string("^(dev|prod)-"))])).is_empty());
    }

    #[tokio::test]
    async fn reading_needs_a_configured_provider() {
        let err = OrganizationAccounts.read(&LfmContext::deferred("region"), &config(&[])).await.unwrap_err();
        assert!(err.0[0].detail.contains("`region`"));
    }
}
