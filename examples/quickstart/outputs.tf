output "monitoring_role_arns" {
  description = "Monitoring role per member account."
  value       = { for id, acct in lfm_monitored_account.this : id => acct.role_arn }
}

output "organization_id" {
  description = "Organisation the trust policies are bound to (aws:PrincipalOrgID)."
  value       = try(values(lfm_monitored_account.this)[0].organization_id, null)
}

output "monitoring_role_actions" {
  description = "IAM actions the monitoring role allows the collector (its inline policy, the same in every account)."
  value       = data.lfm_permissions_policy.collector.actions
}

output "collector_config" {
  description = "Configuration for `lfm-collector run --config FILE` (write it with `terraform output -json collector_config > lfm.json`). The OpenSearch password is not in it: pass LFM_OPENSEARCH_PASSWORD."
  value = {
    accounts        = var.monitored_accounts
    role_name       = var.monitoring_role_name
    external_id     = var.external_id
    regions         = length(var.monitored_regions) > 0 ? var.monitored_regions : [var.aws_region]
    opensearch_url  = var.opensearch_endpoint
    opensearch_user = var.opensearch_master_user_name != "" ? var.opensearch_master_user_name : null
    index_prefix    = var.opensearch_index_prefix
  }
}

output "collector_function_arn" {
  description = "The collector function (null when collector_package_path is not given)."
  value       = try(lfm_collector.this[0].function_arn, null)
}

output "collector_role_arn" {
  description = "The collector's execution role, trusted by every monitoring role (null without a collector)."
  value       = try(lfm_collector.this[0].role_arn, null)
}

output "alert_rule_names" {
  description = "The alert rules declared (the default set when a destination is given)."
  value       = sort(keys(lfm_alert_rule.default))
}
