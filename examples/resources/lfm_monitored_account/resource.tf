# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

# The monitoring role in one member account, with the defaults:
# role "LambdaMonitoringRole", created through "OrganizationAccountAccessRole",
# trusted only from inside the provider's organisation.
resource "lfm_monitored_account" "prod" {
  account_id                = "111122223333"
  monitoring_principal_arns = ["arn:aws:iam::999988887777:role/lfm-collector"]
}

# Every setting, for an account administered through another role.
resource "lfm_monitored_account" "legacy" {
  account_id                = "444455556666"
  role_name                 = "LfmMonitoring"
  bootstrap_role_name       = "AdminAccess"
  monitoring_principal_arns = ["arn:aws:iam::999988887777:role/lfm-collector"]
  organization_id           = "o-abc123defg"
  external_id               = var.lfm_external_id
}

variable "lfm_external_id" {
  type      = string
  sensitive = true
}

output "monitoring_role_arns" {
  value = [lfm_monitored_account.prod.role_arn, lfm_monitored_account.legacy.role_arn]
}
