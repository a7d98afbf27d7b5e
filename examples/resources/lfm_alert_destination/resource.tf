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

variable "webhook_secret" {
  type      = string
  sensitive = true
}

# An SNS topic (e.g. subscribed by an on-call tool or an e-mail list).
resource "lfm_alert_destination" "oncall" {
  name           = "oncall"
  sns_topic_arn  = "arn:aws:sns:eu-west-1:111122223333:lfm-alerts"
  opensearch_url = "https://opensearch.example.com:9200"
  username       = "lfm-admin"
  password       = var.opensearch_password
}

# A Slack-compatible webhook, each message signed with HMAC-SHA256 (header
# X-LFM-Signature-256); the secret is kept in an SSM SecureString parameter.
resource "lfm_alert_destination" "chat" {
  name           = "team-chat"
  webhook_url    = "https://hooks.example.com/services/T000/B000/XXXX"
  webhook_secret = var.webhook_secret
  webhook_format = "slack"
  opensearch_url = "https://opensearch.example.com:9200"
  username       = "lfm-admin"
  password       = var.opensearch_password
}

# The collector may publish to the topic and read the secret, and nothing else:
#   alert_sns_topic_arns        = [lfm_alert_destination.oncall.topic_arn]
#   alert_secret_parameter_arns = [lfm_alert_destination.chat.secret_parameter_arn]
output "secret_parameter_arn" {
  value = lfm_alert_destination.chat.secret_parameter_arn
}
