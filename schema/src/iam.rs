//! Owned by the provider work: IAM actions and policy documents.
