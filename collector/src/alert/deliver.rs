//! The engine's one call into delivery ([`crate::notify::deliver`]): the grouped [`Message`]s go out as notifications to their destinations, within
//! the budget and the Lambda deadline; each comes back with its outcome per destination.
//! Part of [`crate::alert`].

use std::path::PathBuf;
use std::time::Duration;

use lfm_schema::alerts::AlertDestinationDocument;

use super::group::Message;
use crate::notify::{self, DeliveryContext, DeliveryStatus, Notification};
use crate::time_limit::TimeLimit;

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

/// Delivers every message to each of its destinations; one [`Outcome`] per pair, in the order
/// of `messages` and their destination lists.
pub async fn deliver(destinations: &[AlertDestinationDocument], messages: &[Message], settings: &DeliverySettings) -> Vec<Outcome> {
    let items: Vec<(Notification, Vec<String>)> = messages
        .iter()
        .map(|m| {
            let notification = Notification {
                idempotency_key: m.idempotency_key.clone(),
                rule: m.rule.clone(),
                severity: m.severity.clone(),
                kind: m.kind.clone(),
                subject: m.subject.clone(),
                text: m.text.clone(),
                // NotificationBody is plain data: serializing it cannot fail.
                body: serde_json::to_value(&m.body).unwrap_or(serde_json::Value::Null),
            };
            (notification, m.destinations.clone())
        })
        .collect();
    let ctx = DeliveryContext::new(settings.sdk.clone(), settings.budget, &settings.limit, settings.webhook_ca_file.clone());
    notify::deliver(destinations, &items, &ctx)
        .await
        .into_iter()
        .map(|d| Outcome {
            destination: d.destination,
            idempotency_key: d.idempotency_key,
            sent: d.status == DeliveryStatus::Delivered,
            error: d.error,
            ms: d.ms,
        })
        .collect()
}
