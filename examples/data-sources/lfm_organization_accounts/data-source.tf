# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

# Every active member account except the log archive: one monitoring role each.
# (The management account is left out unless include_management = true.)
data "lfm_organization_accounts" "members" {
  exclude_ids = ["444455556666"]
}

resource "lfm_monitored_account" "member" {
  for_each = toset(data.lfm_organization_accounts.members.ids)

  account_id                = each.value
  monitoring_principal_arns = ["arn:aws:iam::999988887777:role/lfm-collector"]
}

# Only the production accounts, by name; suspended accounts with status = "SUSPENDED".
data "lfm_organization_accounts" "prod" {
  name_regex = "^prod-"
}

output "prod_account_names" {
  value = { for a in data.lfm_organization_accounts.prod.accounts : a.id => a.name }
}
