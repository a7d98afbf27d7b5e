# Credentials come from the default AWS chain (environment, shared profile, SSO, instance role).
# Run with credentials of the organisation's management account, or of an account that can
# assume OrganizationAccountAccessRole in the member accounts.
provider "lfm" {
  region = "eu-west-1" # or AWS_REGION / AWS_DEFAULT_REGION

  # Optional: assume a role first (e.g. from a CI account into the management account).
  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/TerraformLfm"
    session_name = "terraform-lfm"
  }

  # Optional: per-service endpoints (LocalStack, moto, VPC or FIPS endpoints).
  # endpoints {
  #   sts           = "http://127.0.0.1:5555"
  #   iam           = "http://127.0.0.1:5555"
  #   organizations = "http://127.0.0.1:5555"
  # }
}
