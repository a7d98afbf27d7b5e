# The provider as scripts/install-provider installs it (and as the registry serves it): this
# file inits and validates on its own (tests/e2e/test_examples.py).
terraform {
  required_providers {
    lfm = {
      source = "lfm/lfm"
    }
  }
}

# A self-managed cluster with the security plugin: templates, 30-day retention (an ISM
# policy when the plugin is installed, else the collector deletes old indices) and the
# dashboards, imported into OpenSearch Dashboards.
resource "lfm_dashboard_bundle" "main" {
  opensearch_url = "https://opensearch.example.com:9200"
  dashboards_url = "https://dashboards.example.com"
  retention_days = 30
  username       = "lfm-admin"
  password       = var.opensearch_password
}

variable "opensearch_password" {
  type      = string
  sensitive = true
}

# Amazon OpenSearch Service, signed with the provider's AWS credentials; retention left to
# the collector (set its retention_days to the same value).
resource "lfm_dashboard_bundle" "aws" {
  opensearch_url = "https://search-lfm-abc123.eu-west-1.es.amazonaws.com"
  dashboards_url = "https://search-lfm-abc123.eu-west-1.es.amazonaws.com/_dashboards"
  index_prefix   = "lfm"
  retention_days = 90
  ism            = "off"

  sigv4 {
    service = "es" # "aoss" for OpenSearch Serverless
    region  = "eu-west-1"
  }
}

output "retention_mode" {
  value = lfm_dashboard_bundle.main.retention_mode
}
