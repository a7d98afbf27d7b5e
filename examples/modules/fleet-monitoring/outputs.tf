output "monitored_account_ids" {
  description = "The accounts monitored (given, or found in the organisation)."
  value       = local.accounts
}

output "monitoring_role_arns" {
  description = "Monitoring role per member account."
  value       = { for id, acct in lfm_monitored_account.this : id => acct.role_arn }
}

output "collector_function_arn" {
  value = lfm_collector.this.function_arn
}

output "collector_role_arn" {
  description = "The collector's execution role, trusted by every monitoring role."
  value       = lfm_collector.this.role_arn
}

output "collector_schedule_rule_arn" {
  value = lfm_collector.this.rule_arn
}

output "retention_mode" {
  description = "How old indices are deleted: ism, collector or none (null without the dashboards bundle)."
  value       = try(lfm_dashboard_bundle.this[0].retention_mode, null)
}

output "alert_destination_ids" {
  description = "IDs of the alert destinations declared by the module, for lfm_alert_rule's destination_ids."
  value       = local.alert_destination_ids
}

output "alert_rule_names" {
  description = "Names of the alert rules the module declared."
  value = concat(
    lfm_alert_rule.error_rate[*].name,
    lfm_alert_rule.throttles[*].name,
    lfm_alert_rule.timeouts_near_limit[*].name,
    lfm_alert_rule.deploy_regressions[*].name,
  )
}
