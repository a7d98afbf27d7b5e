# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

# The trust policy LFM would put on a monitoring role, for roles created by other means
# (here: a plain aws_iam_role, e.g. in a StackSet-managed account).
data "lfm_trust_policy" "collector" {
  monitoring_principal_arns = ["arn:aws:iam::999988887777:role/lfm-collector"]
  # organization_id defaults to the organisation of the provider's credentials.
  external_id = var.lfm_external_id
}

resource "aws_iam_role" "lfm_monitoring" {
  name               = "LambdaMonitoringRole"
  assume_role_policy = data.lfm_trust_policy.collector.json
}

variable "lfm_external_id" {
  type      = string
  sensitive = true
}
