//! `lfm-schema`: the one source of truth that both halves of LFM read.
//!
//! - [`documents`]: the OpenSearch documents the collector writes (field names, index names,
//!   document IDs) and the index templates installed for them.
//! - [`dashboards`]: the OpenSearch Dashboards saved objects (index patterns, visualisations,
//!   dashboards) built from the field constants, and the searches they imply.
//! - [`iam`]: the IAM actions the collector calls in a member account, and the trust and
//!   permissions policy documents the provider puts on the monitoring role.
//! - [`contract`]: what the provider hands the collector: every setting's flag, `LFM_*`
//!   variable and config key, the validated [`contract::IndexPrefix`], the region -> partition
//!   table and role ARNs, the accepted OpenSearch auth values.
//! - [`alerts`]: alert rules and destinations (written by the provider), alert state,
//!   transitions and deployments (written by the collector), and what a valid rule is.
//! - [`reference`]: dated tables AWS has no API for (runtime deprecations, Lambda prices).
//!
//! The provider never hard-codes a field or an action; the collector never writes one that is
//! not declared here.

pub mod alerts;
pub mod contract;
pub mod dashboards;
pub mod documents;
pub mod iam;
pub mod reference;
