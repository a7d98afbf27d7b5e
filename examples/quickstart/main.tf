# LFM quickstart: one monitoring role per member account, the collector's configuration and,
# when collector_package_path is given, the collector itself as a scheduled Lambda function.
#
# For several organisations, or the dashboards too, use the reusable module
# ../modules/fleet-monitoring (once per organisation). This root module keeps its resources at
# the top level so that existing quickstart states keep their addresses (Terraform 1.0.x has
# no `moved` blocks).

provider "lfm" {
  region = var.aws_region

  endpoints {
    sts           = lookup(var.aws_endpoints, "sts", null)
    iam           = lookup(var.aws_endpoints, "iam", null)
    organizations = lookup(var.aws_endpoints, "organizations", null)
    lambda        = lookup(var.aws_endpoints, "lambda", null)
    logs          = lookup(var.aws_endpoints, "logs", null)
    events        = lookup(var.aws_endpoints, "events", null)
    ssm           = lookup(var.aws_endpoints, "ssm", null)
    sns           = lookup(var.aws_endpoints, "sns", null)
  }
}

resource "lfm_monitored_account" "this" {
  for_each = toset(var.monitored_accounts)

  account_id                = each.value
  role_name                 = var.monitoring_role_name
  bootstrap_role_name       = var.bootstrap_role_name
  monitoring_principal_arns = concat(var.monitoring_principal_arns, lfm_collector.this[*].role_arn)
  external_id               = var.external_id
}

# The inline policy every monitoring role gets (the collector's read-only actions), shown as
# an output so reviewers see what the collector may call.
data "lfm_permissions_policy" "collector" {}

# The collector in the provider's account and region, when a package is given (build it with
# scripts/package-collector --arch arm64). Its execution role is added to the principals the
# monitoring roles trust.
resource "lfm_collector" "this" {
  count = var.collector_package_path == null ? 0 : 1

  package_path          = var.collector_package_path
  architecture          = var.collector_architecture
  schedule_expression   = var.collector_schedule
  monitored_account_ids = var.monitored_accounts
  role_name             = var.monitoring_role_name
  external_id           = var.external_id
  regions               = length(var.monitored_regions) > 0 ? var.monitored_regions : [var.aws_region]
  opensearch_url        = var.opensearch_endpoint
  opensearch_domain_arn = var.opensearch_domain_arn
  opensearch_username   = var.opensearch_master_user_name != "" ? var.opensearch_master_user_name : null
  opensearch_password   = var.opensearch_master_user_password != "" ? var.opensearch_master_user_password : null
  index_prefix          = var.opensearch_index_prefix

  # Alert delivery: sns:Publish on the declared topic, ssm:GetParameter on the webhook's secret.
  alert_sns_topic_arns        = var.alert_sns_topic_arn != null ? [var.alert_sns_topic_arn] : []
  alert_secret_parameter_arns = compact(lfm_alert_destination.webhook[*].secret_parameter_arn)
}
