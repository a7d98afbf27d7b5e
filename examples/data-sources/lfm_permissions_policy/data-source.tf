# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

# The inline policy LFM puts on a monitoring role (exactly the collector's read-only calls),
# for a role created by other means, e.g. with the trust policy from lfm_trust_policy.
data "lfm_permissions_policy" "collector" {}

resource "aws_iam_role_policy" "lfm_monitoring" {
  role   = "LambdaMonitoringRole"
  name   = data.lfm_permissions_policy.collector.policy_name
  policy = data.lfm_permissions_policy.collector.json
}

output "lfm_collector_actions" {
  value = data.lfm_permissions_policy.collector.actions
}
