# LFM quickstart: one monitoring role per member account, and the collector's configuration.

provider "lfm" {
  region = var.aws_region

  endpoints {
    sts           = lookup(var.aws_endpoints, "sts", null)
    iam           = lookup(var.aws_endpoints, "iam", null)
    organizations = lookup(var.aws_endpoints, "organizations", null)
  }
}

resource "lfm_monitored_account" "this" {
  for_each = toset(var.monitored_accounts)

  account_id                = each.value
  role_name                 = var.monitoring_role_name
  bootstrap_role_name       = var.bootstrap_role_name
  monitoring_principal_arns = var.monitoring_principal_arns
  external_id               = var.external_id
}

# The inline policy every monitoring role gets (the collector's read-only actions), shown as
# an output so reviewers see what the collector may call.
data "lfm_permissions_policy" "collector" {}
