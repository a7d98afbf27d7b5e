# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

# The collector as a scheduled Lambda function in the account and region the provider talks
# to. Build the package first: scripts/package-collector --arch arm64
resource "lfm_collector" "this" {
  package_path = "${path.module}/dist/lfm-collector-arm64.zip"
  architecture = "arm64"

  monitored_account_ids = ["111122223333", "444455556666"]
  role_name             = "LambdaMonitoringRole"
  regions               = ["eu-west-1", "us-east-1"]

  # IAM auth: the collector signs its requests (SigV4) with the execution role, which may call
  # es:ESHttp* on this domain only. For basic auth set opensearch_username/opensearch_password.
  opensearch_url        = "https://search-lfm-abc123.eu-west-1.es.amazonaws.com"
  opensearch_domain_arn = "arn:aws:es:eu-west-1:999988887777:domain/lfm"
  opensearch_auth       = "sigv4"

  schedule_expression = "rate(5 minutes)"
  memory_mb           = 256
  timeout_s           = 300

  # Any further collector settings; keys Lambda reserves (AWS_REGION, ...) are rejected at plan time.
  extra_environment = {
    LFM_SETTLE = "5m"
  }
}

# The monitoring roles trust the collector's execution role.
resource "lfm_monitored_account" "member" {
  for_each = toset(lfm_collector.this.monitored_account_ids)

  account_id                = each.value
  monitoring_principal_arns = [lfm_collector.this.role_arn]
}
