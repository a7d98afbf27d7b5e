//! The engine's one call into delivery (`crate::notify::deliver`, written by the delivery
//! helper): the grouped [`Message`]s go out as notifications to their destinations, within
//! the budget and the Lambda deadline; each comes back with its outcome per destination.
//! Part of [`crate::alert`].

use std::path::PathBuf;
use std::time::Duration;

use lfm_schema::alerts::AlertDestinationDocument;

use super::group::Message;
use crate::time_limit::TimeLimit;

/// Default of `alert_delivery_timeout_seconds`.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

/// What delivery needs from the run.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub sdk: aws_types::SdkConfig,
    pub budget: Duration,
    pub limit: TimeLimit,
    pub webhook_ca_file: Option<PathBuf>,
}

/// One message to one destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub destination: String,
    pub idempotency_key: String,
    pub sent: bool,
    pub error: Option<String>,
    pub ms: u64,
}

/// Delivers every message to each of its destinations; one [`Outcome`] per pair.
pub async fn deliver(destinations: &[AlertDestinationDocument], messages: &[Message], settings: &DeliverySettings) -> Vec<Outcome> {
    // Until crate::notify is merged: nothing is sent, every pair fails with the reason.
    let _ = (destinations, settings);
    messages
        .iter()
        .flat_map(|m| {
            m.destinations.iter().map(|d| Outcome {
                destination: d.clone(),
                idempotency_key: m.idempotency_key.clone(),
                sent: false,
                error: Some("this build of the collector has no alert delivery".into()),
                ms: 0,
            })
        })
        .collect()
}
