# Accounts ----------------------------------------------------------------------------------

variable "monitored_accounts" {
  description = "12-digit IDs of the member accounts to monitor. null: every active member account of the organisation (lfm_organization_accounts), minus exclude_account_ids."
  type        = list(string)
  default     = null

  validation {
    condition     = var.monitored_accounts == null || alltrue([for a in coalesce(var.monitored_accounts, []) : can(regex("^[0-9]{12}$", a))])
    error_message = "Each entry of monitored_accounts must be a 12-digit AWS account ID, e.g. \"111122223333\"."
  }

  validation {
    condition     = length(distinct(coalesce(var.monitored_accounts, ["none"]))) == length(coalesce(var.monitored_accounts, ["none"]))
    error_message = "The monitored_accounts value lists an account ID more than once: list each account once (it gets one monitoring role, and the collector would scan it twice)."
  }
}

variable "exclude_account_ids" {
  description = "Accounts left out when monitored_accounts is null (e.g. the log archive)."
  type        = list(string)
  default     = []
}

variable "monitored_regions" {
  description = "Regions the collector scans in every monitored account."
  type        = list(string)
}

variable "monitoring_role_name" {
  description = "Name of the role created in each member account for the collector to assume."
  type        = string
  default     = "LambdaMonitoringRole"
}

variable "bootstrap_role_name" {
  description = "Role Terraform assumes to enter each member account (created by AWS Organizations for new accounts)."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

variable "extra_monitoring_principal_arns" {
  description = "Principals besides the collector's execution role that may assume the monitoring roles (e.g. a collector run elsewhere)."
  type        = list(string)
  default     = []
}

variable "external_id" {
  description = "Optional sts:ExternalId the collector presents to the monitoring roles."
  type        = string
  default     = null
}

# Collector ---------------------------------------------------------------------------------

variable "collector_name" {
  description = "Name of the collector function (also its execution role, rule <name>-schedule and log group)."
  type        = string
  default     = "lfm-collector"
}

variable "collector_package_path" {
  description = "Path of the collector zip built by scripts/package-collector --arch <collector_architecture>."
  type        = string
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

variable "collector_memory_mb" {
  type    = number
  default = 256
}

variable "collector_timeout_s" {
  type    = number
  default = 300
}

variable "collector_extra_environment" {
  description = "More collector settings as environment variables (LFM_SETTLE, LFM_BACKFILL, RUST_LOG ...). Lambda's reserved keys are rejected at plan time."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  type    = number
  default = 30
}

# OpenSearch --------------------------------------------------------------------------------

variable "opensearch_url" {
  description = "OpenSearch URL the collector writes to."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/?#\\s]+", var.opensearch_url))
    error_message = "The opensearch_url value must be the http:// or https:// URL of the OpenSearch endpoint, e.g. \"https://search-lfm-xyz.eu-west-1.es.amazonaws.com\" (other schemes such as ftp:// and text that is not a URL are refused)."
  }
}

variable "opensearch_domain_arn" {
  description = "ARN of the Amazon OpenSearch Service domain (scopes the collector's es:ESHttp* permissions). null for a self-managed cluster."
  type        = string
  default     = null
}

variable "opensearch_username" {
  description = "Basic-auth user for OpenSearch (null for none)."
  type        = string
  default     = null
}

variable "opensearch_password" {
  description = "Basic-auth password; lands in the collector function's environment (LFM_OPENSEARCH_PASSWORD)."
  type        = string
  default     = null
  sensitive   = true
}

variable "opensearch_auth" {
  description = "How the collector (and the dashboards bundle) authenticate to OpenSearch: \"basic\" (opensearch_username/opensearch_password) or \"sigv4\" (IAM: the collector's execution role; set opensearch_domain_arn). null: basic when a user is given, else none."
  type        = string
  default     = null
  validation {
    condition     = var.opensearch_auth == null || contains(["basic", "sigv4"], coalesce(var.opensearch_auth, "basic"))
    error_message = "The opensearch_auth value must be \"basic\" or \"sigv4\"."
  }
}

variable "opensearch_sigv4_service" {
  description = "With opensearch_auth = \"sigv4\": \"es\" (Amazon OpenSearch Service domain) or \"aoss\" (OpenSearch Serverless collection; then opensearch_domain_arn is the collection's ARN)."
  type        = string
  default     = "es"
}

variable "opensearch_region" {
  description = "With opensearch_auth = \"sigv4\": the region of the domain or collection (null: taken from opensearch_domain_arn, else the collector's region)."
  type        = string
  default     = null
}

variable "index_prefix" {
  description = "Prefix of every LFM index."
  type        = string
  default     = "lfm"
}

variable "install_dashboards" {
  description = "Install the index templates, retention and dashboards with lfm_dashboard_bundle (the cluster must be reachable from where Terraform runs)."
  type        = bool
  default     = true
}

variable "dashboards_url" {
  description = "OpenSearch Dashboards URL for the saved objects (null: templates and retention only)."
  type        = string
  default     = null
}

variable "retention_days" {
  description = "Delete metrics indices this many days old (null: keep everything)."
  type        = number
  default     = null
}

# Alerts ------------------------------------------------------------------------------------

variable "alert_sns_topic_arn" {
  description = "SNS topic alerts are published to (the collector's role may sns:Publish to it and nothing else). null: no SNS destination."
  type        = string
  default     = null
}

variable "alert_webhook_url" {
  description = "HTTPS URL alerts are POSTed to (Slack, Mattermost, Teams workflows, PagerDuty Events, your own receiver). null: no webhook."
  type        = string
  default     = null
}

variable "alert_webhook_secret" {
  description = "Secret for the webhook's X-LFM-Signature-256 header (HMAC-SHA256); kept in an SSM SecureString parameter only the collector may read. null: unsigned."
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

variable "alert_error_rate_threshold" {
  description = "Error rate (a fraction: 0.05 = 5%) above which the default error-rate rule fires."
  type        = number
  default     = 0.05
}
