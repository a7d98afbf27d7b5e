variable "aws_region" {
  description = "Region the provider talks to (IAM and Organizations are global; this is where STS and the collector's home region live)."
  type        = string
}

variable "monitored_accounts" {
  description = "12-digit IDs of the member accounts whose Lambda functions LFM monitors."
  type        = list(string)

  validation {
    condition     = alltrue([for a in var.monitored_accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "Each entry of monitored_accounts must be a 12-digit AWS account ID, e.g. \"111122223333\"."
  }

  validation {
    condition     = length(distinct(var.monitored_accounts)) == length(var.monitored_accounts)
    error_message = "The monitored_accounts value lists an account ID more than once: list each account once (it gets one monitoring role, and the collector would scan it twice)."
  }
}

variable "monitored_regions" {
  description = "Regions the collector scans in every monitored account."
  type        = list(string)
  default     = []
}

variable "monitoring_role_name" {
  description = "Name of the role LFM creates in each member account for the collector to assume."
  type        = string
  default     = "LambdaMonitoringRole"
}

variable "bootstrap_role_name" {
  description = "Role Terraform assumes to enter each member account (created by AWS Organizations for new accounts)."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

variable "monitoring_principal_arns" {
  description = "Principals allowed to assume the monitoring role besides the collector deployed here (its execution role is added): e.g. the monitoring account's root for a collector run elsewhere."
  type        = list(string)
  default     = []
}

variable "external_id" {
  # Not marked sensitive: an external ID is not a secret (AWS IAM user guide), and the provider
  # already hides it in plans. A sensitive variable here would make Terraform 1.0.x plan a
  # no-op update after every `terraform import`.
  description = "Optional sts:ExternalId the collector must present."
  type        = string
  default     = null
}

variable "opensearch_endpoint" {
  description = "OpenSearch URL the collector writes to, e.g. https://search-lfm-xyz.eu-west-1.es.amazonaws.com"
  type        = string

  validation {
    condition     = can(regex("^https?://[^/?#\\s]+", var.opensearch_endpoint))
    error_message = "The opensearch_endpoint value must be the http:// or https:// URL of the OpenSearch endpoint, e.g. \"https://search-lfm-xyz.eu-west-1.es.amazonaws.com\" (other schemes such as ftp:// and text that is not a URL are refused)."
  }
}

variable "opensearch_master_user_name" {
  description = "OpenSearch basic-auth user (empty for none)."
  type        = string
  default     = ""
}

variable "opensearch_master_user_password" {
  description = "OpenSearch basic-auth password; give it to the collector as LFM_OPENSEARCH_PASSWORD."
  type        = string
  default     = ""
  sensitive   = true
}

variable "opensearch_index_prefix" {
  description = "Prefix of the indices the collector writes (<prefix>-metrics-YYYY.MM.DD, <prefix>-inventory)."
  type        = string
  default     = "lfm"
}

variable "aws_endpoints" {
  description = "Per-service endpoint overrides (sts, iam, organizations, ...): for LocalStack, moto or private endpoints. Empty for real AWS."
  type        = map(string)
  default     = {}
}

variable "opensearch_domain_arn" {
  description = "ARN of the Amazon OpenSearch Service domain: the collector's role may then call es:ESHttp* on it only. null for a self-managed cluster."
  type        = string
  default     = null
}

variable "collector_package_path" {
  description = "Path of the collector zip (scripts/package-collector prints it). null: deploy no collector, only the monitoring roles and collector_config."
  type        = string
  default     = null
}

variable "collector_architecture" {
  description = "arm64 or x86_64; must match the package."
  type        = string
  default     = "arm64"
}

variable "collector_schedule" {
  description = "EventBridge schedule of the collector."
  type        = string
  default     = "rate(5 minutes)"
  # EventBridge: rate(value unit) or cron(minutes hours day-of-month month day-of-week year) with
  # `?` in day-of-month or day-of-week (one of the two must be `?`):
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
  validation {
    condition     = can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.collector_schedule)) || can(regex("^cron\\([^ ?]+ [^ ?]+ (\\? [^ ?]+ [^ ?]+|[^ ?]+ [^ ?]+ \\?) [^ ?]+\\)$", var.collector_schedule))
    error_message = "The collector_schedule value must be an EventBridge schedule: rate(5 minutes), or cron(minutes hours day-of-month month day-of-week year) with ? in day-of-month or day-of-week, e.g. cron(0/5 * * * ? *) (see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html)."
  }
}

variable "alert_sns_topic_arn" {
  description = "SNS topic alerts are published to (the collector's role may sns:Publish to it and nothing else). null: no SNS destination."
  type        = string
  default     = null
}

variable "alert_webhook_url" {
  description = "HTTPS URL alerts are POSTed to (Slack, Mattermost, your own receiver). null: no webhook."
  type        = string
  default     = null
}

variable "alert_webhook_secret" {
  description = "Secret for the webhook's X-LFM-Signature-256 header (HMAC-SHA256), kept in an SSM SecureString parameter only the collector may read. null: unsigned."
  type        = string
  default     = null
  sensitive   = true
}

variable "alert_webhook_format" {
  description = "\"json\" (LFM's notification body) or \"slack\" (a Slack incoming-webhook body)."
  type        = string
  default     = "json"
}

variable "default_alert_rules" {
  description = "Declare the default rules (error-rate, throttles, timeouts-near-limit, deploy-regressions) when a destination is given."
  type        = bool
  default     = true
}
