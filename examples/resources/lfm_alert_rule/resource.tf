# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

variable "opensearch_password" {
  type      = string
  sensitive = true
}

locals {
  opensearch = "https://opensearch.example.com:9200"
}

resource "lfm_alert_destination" "oncall" {
  name           = "oncall"
  sns_topic_arn  = "arn:aws:sns:eu-west-1:111122223333:lfm-alerts"
  opensearch_url = local.opensearch
  username       = "lfm-admin"
  password       = var.opensearch_password
}

# More than 5 % of invocations failing in 3 of the last 5 periods, for production
# functions with at least 20 invocations per period.
resource "lfm_alert_rule" "error_rate" {
  name                  = "high-error-rate"
  description           = "More than 5 % of invocations fail"
  metric                = "error_rate"
  comparison            = "GreaterThanThreshold"
  threshold             = 0.05
  datapoints_to_alarm   = 3
  evaluation_periods    = 5
  min_invocations       = 20
  function_name_pattern = "prod-*"
  severity              = "critical"
  destination_ids       = [lfm_alert_destination.oncall.id]
  opensearch_url        = local.opensearch
  username              = "lfm-admin"
  password              = var.opensearch_password
}

# A deployment or configuration change that made a function significantly worse.
resource "lfm_alert_rule" "regressions" {
  name               = "deploy-regressions"
  kind               = "deploy_regression"
  regression_metrics = ["error_rate", "duration_p99_ms"]
  severity           = "warning"
  destination_ids    = [lfm_alert_destination.oncall.id]
  opensearch_url     = local.opensearch
  username           = "lfm-admin"
  password           = var.opensearch_password
}
