# Alerts, when a destination is given (alert_sns_topic_arn and/or alert_webhook_url): the
# destinations and the default rules, stored as documents in OpenSearch that the collector
# reads at every run. See docs/guides/alerts.md.

locals {
  default_alert_rules = var.default_alert_rules && (var.alert_sns_topic_arn != null || var.alert_webhook_url != null)
  alert_destination_ids = concat(lfm_alert_destination.sns[*].id, lfm_alert_destination.webhook[*].id)
  opensearch_username   = var.opensearch_master_user_name != "" ? var.opensearch_master_user_name : null
  opensearch_password   = var.opensearch_master_user_password != "" ? var.opensearch_master_user_password : null
  # The default rules: name => settings (every rule of the set has all of them; null = unset).
  default_rules = {
    "error-rate"          = { metric = "error_rate", comparison = "GreaterThanThreshold", threshold = 0.05, m = 3, n = 3, min_invocations = 20, severity = "critical", kind = "threshold", description = "More than 5% of invocations fail in 3 consecutive periods (periods with at least 20 invocations)." }
    "throttles"           = { metric = "throttles", comparison = "GreaterThanThreshold", threshold = 0, m = 2, n = 3, min_invocations = 0, severity = "warning", kind = "threshold", description = "Invocations are throttled in 2 of the last 3 periods." }
    "timeouts-near-limit" = { metric = "timeout_proximity_max", comparison = "GreaterThanOrEqualToThreshold", threshold = 0.9, m = 2, n = 3, min_invocations = 1, severity = "warning", kind = "threshold", description = "The longest invocation takes 90% or more of the configured timeout in 2 of the last 3 periods." }
    "deploy-regressions"  = { metric = null, comparison = null, threshold = null, m = null, n = null, min_invocations = null, severity = "warning", kind = "deploy_regression", description = "A code or configuration change after which error rate, p99 duration, cold-start rate or cost per invocation got significantly worse." }
  }
}

resource "lfm_alert_destination" "sns" {
  count = var.alert_sns_topic_arn != null ? 1 : 0

  name           = "sns"
  sns_topic_arn  = var.alert_sns_topic_arn
  opensearch_url = var.opensearch_endpoint
  index_prefix   = var.opensearch_index_prefix
  username       = local.opensearch_username
  password       = local.opensearch_password
}

resource "lfm_alert_destination" "webhook" {
  count = var.alert_webhook_url != null ? 1 : 0

  name           = "webhook"
  webhook_url    = var.alert_webhook_url
  webhook_secret = var.alert_webhook_secret
  webhook_format = var.alert_webhook_format
  opensearch_url = var.opensearch_endpoint
  index_prefix   = var.opensearch_index_prefix
  username       = local.opensearch_username
  password       = local.opensearch_password
}

resource "lfm_alert_rule" "default" {
  for_each = local.default_alert_rules ? local.default_rules : {}

  name                = each.key
  kind                = each.value.kind
  description         = each.value.description
  metric              = each.value.metric
  comparison          = each.value.comparison
  threshold           = each.value.threshold
  datapoints_to_alarm = each.value.m
  evaluation_periods  = each.value.n
  min_invocations     = each.value.min_invocations
  severity            = each.value.severity
  destination_ids     = local.alert_destination_ids
  opensearch_url      = var.opensearch_endpoint
  index_prefix        = var.opensearch_index_prefix
  username            = local.opensearch_username
  password            = local.opensearch_password
}
