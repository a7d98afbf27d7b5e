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
