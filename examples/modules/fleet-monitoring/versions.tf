terraform {
  required_version = ">= 1.0.3"
  required_providers {
    lfm = {
      source  = "lfm/lfm"
      version = ">= 0.1.0"
    }
  }
}
