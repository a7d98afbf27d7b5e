# Alerts: where they go (an SNS topic, a webhook) and the default rules. Rules and destinations
# are documents in OpenSearch ({index_prefix}-alert-rules, -alert-destinations) that the
# collector reads at every run: editing a rule changes no function and redeploys nothing.
# Declare more rules with lfm_alert_rule next to this module (destination_ids = the
# alert_destination_ids output).

locals {
  alert_target = {
    url      = var.opensearch_url
    prefix   = var.index_prefix
    username = var.opensearch_username
    password = var.opensearch_password
  }
  default_alert_rules = var.default_alert_rules && (var.alert_sns_topic_arn != null || var.alert_webhook_url != null)
  alert_destination_ids = concat(
    lfm_alert_destination.sns[*].id,
    lfm_alert_destination.webhook[*].id,
  )
}

resource "lfm_alert_destination" "sns" {
  count = var.alert_sns_topic_arn != null ? 1 : 0

  name           = "sns"
  sns_topic_arn  = var.alert_sns_topic_arn
  opensearch_url = local.alert_target.url
  index_prefix   = local.alert_target.prefix
  username       = local.alert_target.username
  password       = local.alert_target.password

  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}

resource "lfm_alert_destination" "webhook" {
  count = var.alert_webhook_url != null ? 1 : 0

  name           = "webhook"
  webhook_url    = var.alert_webhook_url
  webhook_secret = var.alert_webhook_secret
  webhook_format = var.alert_webhook_format
  opensearch_url = local.alert_target.url
  index_prefix   = local.alert_target.prefix
  username       = local.alert_target.username
  password       = local.alert_target.password

  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}

# The default set: failing invocations, throttling, timeouts close to the limit, and changes
# (code or configuration) after which a function got significantly worse.
resource "lfm_alert_rule" "error_rate" {
  count = local.default_alert_rules ? 1 : 0

  name                = "error-rate"
  description         = "More than ${var.alert_error_rate_threshold * 100}% of invocations fail in 3 consecutive periods (periods with at least 20 invocations)."
  metric              = "error_rate"
  comparison          = "GreaterThanThreshold"
  threshold           = var.alert_error_rate_threshold
  datapoints_to_alarm = 3
  evaluation_periods  = 3
  min_invocations     = 20
  severity            = "critical"
  destination_ids     = local.alert_destination_ids
  opensearch_url      = local.alert_target.url
  index_prefix        = local.alert_target.prefix
  username            = local.alert_target.username
  password            = local.alert_target.password

  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}

resource "lfm_alert_rule" "throttles" {
  count = local.default_alert_rules ? 1 : 0

  name                = "throttles"
  description         = "Invocations are throttled in 2 of the last 3 periods (throttled requests are not invocations: no minimum)."
  metric              = "throttles"
  comparison          = "GreaterThanThreshold"
  threshold           = 0
  datapoints_to_alarm = 2
  evaluation_periods  = 3
  min_invocations     = 0
  severity            = "warning"
  destination_ids     = local.alert_destination_ids
  opensearch_url      = local.alert_target.url
  index_prefix        = local.alert_target.prefix
  username            = local.alert_target.username
  password            = local.alert_target.password

  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}

resource "lfm_alert_rule" "timeouts_near_limit" {
  count = local.default_alert_rules ? 1 : 0

  name                = "timeouts-near-limit"
  description         = "The longest invocation takes 90% or more of the configured timeout in 2 of the last 3 periods."
  metric              = "timeout_proximity_max"
  comparison          = "GreaterThanOrEqualToThreshold"
  threshold           = 0.9
  datapoints_to_alarm = 2
  evaluation_periods  = 3
  min_invocations     = 1
  severity            = "warning"
  destination_ids     = local.alert_destination_ids
  opensearch_url      = local.alert_target.url
  index_prefix        = local.alert_target.prefix
  username            = local.alert_target.username
  password            = local.alert_target.password

  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}

resource "lfm_alert_rule" "deploy_regressions" {
  count = local.default_alert_rules ? 1 : 0

  name            = "deploy-regressions"
  description     = "A code or configuration change after which error rate, p99 duration, cold-start rate or cost per invocation got significantly worse."
  kind            = "deploy_regression"
  severity        = "warning"
  destination_ids = local.alert_destination_ids
  opensearch_url  = local.alert_target.url
  index_prefix    = local.alert_target.prefix
  username        = local.alert_target.username
  password        = local.alert_target.password

  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}
