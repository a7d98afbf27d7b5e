# LFM for one AWS organisation: a monitoring role in every member account, the collector as a
# scheduled Lambda function in the account and region of the `lfm` provider it is given, and
# (optionally) the OpenSearch templates, retention and dashboards.
#
# Instantiate it once per organisation, with a provider configured for that organisation's
# management (or delegated monitoring) account.

data "lfm_organization_accounts" "members" {
  count       = var.monitored_accounts == null ? 1 : 0
  exclude_ids = var.exclude_account_ids
}

locals {
  accounts = var.monitored_accounts != null ? var.monitored_accounts : data.lfm_organization_accounts.members[0].ids
  sigv4    = var.opensearch_auth == "sigv4"
  # SigV4 signs for a region: the one given, else the domain's (from its ARN), else the
  # collector's own (the lfm provider's region).
  opensearch_region = var.opensearch_region != null ? var.opensearch_region : (
    var.opensearch_domain_arn != null ? split(":", var.opensearch_domain_arn)[3] : null
  )
  collector_environment = merge(
    var.collector_extra_environment,
    local.sigv4 && local.opensearch_region != null ? { LFM_OPENSEARCH_REGION = local.opensearch_region } : {},
  )
}

resource "lfm_collector" "this" {
  name                     = var.collector_name
  package_path             = var.collector_package_path
  architecture             = var.collector_architecture
  schedule_expression      = var.collector_schedule
  memory_mb                = var.collector_memory_mb
  timeout_s                = var.collector_timeout_s
  monitored_account_ids    = local.accounts
  role_name                = var.monitoring_role_name
  external_id              = var.external_id
  regions                  = var.monitored_regions
  opensearch_url           = var.opensearch_url
  opensearch_domain_arn    = var.opensearch_domain_arn
  opensearch_username      = var.opensearch_username
  opensearch_password      = var.opensearch_password
  opensearch_auth          = var.opensearch_auth
  opensearch_sigv4_service = local.sigv4 ? var.opensearch_sigv4_service : null
  index_prefix             = var.index_prefix
  extra_environment        = length(local.collector_environment) > 0 ? local.collector_environment : null
  log_retention_days       = var.log_retention_days

  # Alert delivery: sns:Publish on the declared topic, ssm:GetParameter on the webhook's secret.
  alert_sns_topic_arns        = var.alert_sns_topic_arn != null ? [var.alert_sns_topic_arn] : []
  alert_secret_parameter_arns = compact(lfm_alert_destination.webhook[*].secret_parameter_arn)
}

# The monitoring roles trust exactly the collector's execution role (plus any extras).
resource "lfm_monitored_account" "this" {
  for_each = toset(local.accounts)

  account_id                = each.value
  role_name                 = var.monitoring_role_name
  bootstrap_role_name       = var.bootstrap_role_name
  monitoring_principal_arns = concat([lfm_collector.this.role_arn], var.extra_monitoring_principal_arns)
  external_id               = var.external_id
}

resource "lfm_dashboard_bundle" "this" {
  count = var.install_dashboards ? 1 : 0

  opensearch_url = var.opensearch_url
  dashboards_url = var.dashboards_url
  index_prefix   = var.index_prefix
  retention_days = var.retention_days
  username       = var.opensearch_username
  password       = var.opensearch_password

  # With opensearch_auth = "sigv4" the bundle signs too (with the provider's AWS credentials).
  dynamic "sigv4" {
    for_each = local.sigv4 ? [1] : []
    content {
      service = var.opensearch_sigv4_service
      region  = local.opensearch_region
    }
  }
}
