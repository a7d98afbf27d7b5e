//! Delivery of alert notifications: the last step of a run, after documents, checkpoints and
//! the alert stage's transitions are written (`crate::alert` builds the [`Notification`]s and
//! writes each [`Delivery`] back). Never fails or delays the collection: every delivery runs
//! within [`DeliveryContext`]'s budget (`alert_delivery_timeout_seconds`) and the Lambda
//! deadline, and whatever goes wrong comes back as a [`Delivery`] with a readable error.
//!
//! - [`deliver`]: every (notification, destination) pair at once (at most [`CONCURRENCY`]),
//!   in the order given;
//! - [`retry`]: the retry decision (pure), [`format`]: the bytes each destination gets (pure);
//! - [`webhook`]: signed HTTPS POST; [`sns`]: SNS Publish; [`secret`]: the webhook secret from
//!   SSM, read once per destination and run.
//!
//! Delivery is at-least-once: a message may arrive twice (a rerun after a crash between
//! delivery and the write of its result); its idempotency key lets receivers drop the copy
//! (webhook header `X-LFM-Idempotency-Key`, SNS attribute `lfm.idempotency_key` and, on FIFO
//! topics, `MessageDeduplicationId`).

pub mod format;
pub mod retry;
pub mod secret;
pub mod sns;
pub mod webhook;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{FutureExt, StreamExt};
use lfm_schema::alerts::{destination_type, format as formats, AlertDestinationDocument};
use tokio::sync::OnceCell;

use crate::time_limit::TimeLimit;

/// Deliveries in flight at once.
pub const CONCURRENCY: usize = 8;
/// Time kept before the Lambda deadline after delivery: the alert stage writes the results and
/// the run record in it.
pub const DEADLINE_RESERVE: Duration = Duration::from_secs(5);

/// One message of the alert engine, for one or more destinations (see ALERTS.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Hex SHA-256 of the evaluation it reports; the same when the same evaluation is sent again.
    pub idempotency_key: String,
    pub rule: String,
    /// `critical` | `warning` | `info`.
    pub severity: String,
    /// `threshold` | `deploy_regression`.
    pub kind: String,
    /// One line (SNS cuts it to 100 ASCII characters).
    pub subject: String,
    /// Human text, one line per function.
    pub text: String,
    /// The JSON message (`lfm_schema::alerts::NotificationBody`).
    pub body: serde_json::Value,
}

/// What happened to one (notification, destination) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub destination: String,
    pub idempotency_key: String,
    pub status: DeliveryStatus,
    /// Requests sent (0: none, e.g. an undeclared destination or no time left).
    pub attempts: u32,
    /// Why it was not delivered: one sentence naming the destination and the fix.
    pub error: Option<String>,
    pub ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Delivered,
    Failed,
    /// Not attempted: the budget or the deadline left no time (sent by the next run, whose
    /// states still say `pending`).
    SkippedNoTime,
}

impl DeliveryStatus {
    /// The word stored in the documents: `delivered`, `failed`, `skipped_no_time`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::SkippedNoTime => "skipped_no_time",
        }
    }
}

/// What delivery needs from the run.
#[derive(Debug, Clone)]
pub struct DeliveryContext {
    /// All deliveries of a run end within this (`alert_delivery_timeout_seconds`).
    pub budget: Duration,
    /// The Lambda invocation's deadline, if any: deliveries end [`DEADLINE_RESERVE`] before it.
    pub deadline: Option<DateTime<Utc>>,
    /// The AWS configuration of the collector's own identity (SNS Publish, SSM GetParameter).
    pub sdk: aws_types::SdkConfig,
    /// Extra trusted CA certificates (PEM) for webhooks (`alert_webhook_ca_file`).
    pub webhook_ca_file: Option<PathBuf>,
}

impl DeliveryContext {
    pub fn new(sdk: aws_types::SdkConfig, budget: Duration, limit: &TimeLimit, webhook_ca_file: Option<PathBuf>) -> Self {
        DeliveryContext { budget, deadline: limit.deadline(), sdk, webhook_ca_file }
    }

    /// How long deliveries starting `now` may take: the budget, or less before a deadline.
    pub fn time_left(&self, now: DateTime<Utc>) -> Duration {
        match self.deadline {
            Some(deadline) => {
                let before = (deadline - now).to_std().unwrap_or(Duration::ZERO).saturating_sub(DEADLINE_RESERVE);
                self.budget.min(before)
            }
            None => self.budget,
        }
    }
}

/// Where a destination document sends.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Sns { topic_arn: String, region: String },
    Webhook { url: reqwest::Url, format: String, secret_parameter: Option<String> },
}

/// The destination's target, or why it cannot be used (a sentence without the name).
fn target(doc: &AlertDestinationDocument) -> Result<Target, String> {
    match doc.destination_type.as_str() {
        destination_type::SNS => {
            let topic_arn = doc.topic_arn.clone().filter(|t| !t.is_empty()).ok_or("type sns without a topic_arn")?;
            let region = sns::topic_region(&topic_arn)?.to_string();
            Ok(Target::Sns { topic_arn, region })
        }
        destination_type::WEBHOOK => {
            let url = webhook::check_url(doc.url.as_deref().ok_or("type webhook without a url")?)?;
            let format = if doc.format.is_empty() { formats::JSON.to_string() } else { doc.format.clone() };
            if !formats::ALL.contains(&format.as_str()) {
                return Err(format!("format {format:?}: use json or slack"));
            }
            Ok(Target::Webhook { url, format, secret_parameter: doc.secret_parameter.clone().filter(|s| !s.is_empty()) })
        }
        other => Err(format!("type {other:?}: use sns or webhook")),
    }
}

/// Delivers every notification to each of its destinations (by name, among `destinations`),
/// at once (at most [`CONCURRENCY`]) and within [`DeliveryContext::time_left`]. One
/// [`Delivery`] per pair, in the order of `items` and their destination lists. Never panics.
pub async fn deliver(
    destinations: &[AlertDestinationDocument],
    items: &[(Notification, Vec<String>)],
    ctx: &DeliveryContext,
) -> Vec<Delivery> {
    let left = ctx.time_left(Utc::now());
    let end = Instant::now() + left;
    let declared: HashMap<&str, &AlertDestinationDocument> = destinations.iter().map(|d| (d.name.as_str(), d)).collect();
    let names: Vec<&str> = {
        let mut names: Vec<&str> = declared.keys().copied().collect();
        names.sort_unstable();
        names
    };
    let targets: HashMap<&str, Result<Target, String>> = declared.iter().map(|(name, doc)| (*name, target(doc))).collect();
    let needs_http = targets.values().any(|t| matches!(t, Ok(Target::Webhook { .. })));
    let http = needs_http.then(|| webhook::client(ctx.webhook_ca_file.as_deref()));
    let secrets: HashMap<&str, OnceCell<Result<String, String>>> = targets
        .iter()
        .filter(|(_, t)| matches!(t, Ok(Target::Webhook { secret_parameter: Some(_), .. })))
        .map(|(name, _)| (*name, OnceCell::new()))
        .collect();
    let sns_clients: HashMap<&str, aws_sdk_sns::Client> = targets
        .values()
        .filter_map(|t| match t {
            Ok(Target::Sns { region, .. }) => Some(region.as_str()),
            _ => None,
        })
        .map(|region| (region, sns::client(&ctx.sdk, region)))
        .collect();

    let pairs = items.iter().flat_map(|(n, dests)| dests.iter().map(move |d| (n, d.as_str())));
    let (targets, names, http, secrets, sns_clients) = (&targets, &names, http.as_ref(), &secrets, &sns_clients);
    let deliveries = futures::stream::iter(pairs.enumerate())
        .map(|(index, (n, name))| {
            let job = async move {
                let started = Instant::now();
                let mut delivery = Delivery {
                    destination: name.to_string(),
                    idempotency_key: n.idempotency_key.clone(),
                    status: DeliveryStatus::Failed,
                    attempts: 0,
                    error: None,
                    ms: 0,
                };
                let (result, attempts) = match targets.get(name) {
                    None => (
                        Err(format!(
                            "destination {name} is not declared: no lfm_alert_destination named {name} among the {} read \
                             from the alert-destinations index ({}); declare it, or remove it from the destinations of rule {}",
                            names.len(),
                            if names.is_empty() { "none".to_string() } else { names.join(", ") },
                            n.rule
                        )),
                        0,
                    ),
                    Some(Err(why)) => (Err(format!("destination {name}: {why}")), 0),
                    Some(Ok(_)) if end.saturating_duration_since(Instant::now()) < retry::MIN_ATTEMPT => {
                        delivery.status = DeliveryStatus::SkippedNoTime;
                        delivery.error = Some(format!(
                            "destination {name}: not attempted, the delivery budget ({:.0} s, alert_delivery_timeout_seconds) \
                             or the Lambda deadline left no time; the next run sends it",
                            ctx.budget.as_secs_f64()
                        ));
                        return delivery;
                    }
                    Some(Ok(target)) => {
                        let work = send_one(name, target, n, end, ctx, http, secrets, sns_clients);
                        match tokio::time::timeout_at(end.into(), work).await {
                            Ok(sent) => (sent.result, sent.attempts),
                            Err(_) => (
                                Err(format!(
                                    "destination {name}: the delivery budget ({:.1} s) ran out before an answer (raise \
                                     alert_delivery_timeout_seconds)",
                                    left.as_secs_f64()
                                )),
                                1,
                            ),
                        }
                    }
                };
                delivery.attempts = attempts;
                match result {
                    Ok(()) => delivery.status = DeliveryStatus::Delivered,
                    Err(why) => delivery.error = Some(why),
                }
                delivery.ms = started.elapsed().as_millis() as u64;
                delivery
            };
            std::panic::AssertUnwindSafe(job).catch_unwind().map(move |done| {
                let delivery = done.unwrap_or_else(|_| Delivery {
                    destination: name.to_string(),
                    idempotency_key: n.idempotency_key.clone(),
                    status: DeliveryStatus::Failed,
                    attempts: 0,
                    error: Some(format!("destination {name}: delivery stopped on an internal error (a bug: please report it)")),
                    ms: 0,
                });
                (index, delivery)
            })
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut deliveries = deliveries;
    deliveries.sort_by_key(|(index, _)| *index);
    deliveries.into_iter().map(|(_, d)| d).collect()
}

/// One pair: delivered or why not (naming the destination), and the attempts it took.
#[allow(clippy::too_many_arguments)]
async fn send_one(
    name: &str,
    target: &Target,
    n: &Notification,
    end: Instant,
    ctx: &DeliveryContext,
    http: Option<&Result<reqwest::Client, String>>,
    secrets: &HashMap<&str, OnceCell<Result<String, String>>>,
    sns_clients: &HashMap<&str, aws_sdk_sns::Client>,
) -> webhook::Sent {
    let sent = match target {
        Target::Sns { topic_arn, region } => {
            let client = sns_clients.get(region.as_str()).expect("a client per region");
            sns::send(client, topic_arn, n, end).await
        }
        Target::Webhook { url, format, secret_parameter } => {
            let http = match http.expect("a client when there are webhooks") {
                Ok(http) => http,
                Err(why) => return webhook::Sent { result: Err(format!("destination {name}: {why}")), attempts: 0 },
            };
            let secret = match (secret_parameter, secrets.get(name)) {
                (Some(parameter), Some(cell)) => {
                    let read = cell
                        .get_or_init(|| async {
                            let timeout = secret::READ_TIMEOUT.min(end.saturating_duration_since(Instant::now()));
                            secret::read(&secret::client(&ctx.sdk, parameter), name, parameter, timeout).await
                        })
                        .await;
                    match read {
                        Ok(value) => Some(value.clone()),
                        Err(why) => return webhook::Sent { result: Err(why.clone()), attempts: 0 },
                    }
                }
                _ => None,
            };
            let body = serde_json::to_vec(&format::webhook_body(n, format)).expect("JSON values serialize");
            webhook::send(http, url, &body, &n.idempotency_key, secret.as_deref(), end).await
        }
    };
    let kind = match target {
        Target::Sns { .. } => "SNS topic",
        Target::Webhook { .. } => "webhook",
    };
    let result = sent.result.map_err(|why| format!("destination {name} ({kind}): {why}"));
    webhook::Sent { result, attempts: sent.attempts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: &str) -> AlertDestinationDocument {
        AlertDestinationDocument {
            name: "d".into(),
            destination_type: kind.into(),
            topic_arn: None,
            url: None,
            format: String::new(),
            secret_parameter: None,
            updated_at: "2026-11-26T15:00:00Z".into(),
        }
    }

    #[test]
    fn targets_are_checked_with_readable_reasons() {
        let sns = AlertDestinationDocument { topic_arn: Some("arn:aws:sns:eu-west-1:111122223333:ops".into()), ..doc("sns") };
        assert_eq!(target(&sns).unwrap(), Target::Sns { topic_arn: "arn:aws:sns:eu-west-1:111122223333:ops".into(), region: "eu-west-1".into() });
        assert_eq!(target(&doc("sns")).unwrap_err(), "type sns without a topic_arn");
        let hook = AlertDestinationDocument { url: Some("https://h.example.com/x".into()), secret_parameter: Some(String::new()), ..doc("webhook") };
        let Ok(Target::Webhook { format, secret_parameter, .. }) = target(&hook) else { panic!() };
        assert_eq!((format.as_str(), secret_parameter), ("json", None), "json by default; an empty parameter is none");
        let teams = AlertDestinationDocument { format: "teams".into(), ..hook.clone() };
        assert_eq!(target(&teams).unwrap_err(), "format \"teams\": use json or slack");
        assert_eq!(target(&doc("email")).unwrap_err(), "type \"email\": use sns or webhook");
    }

    #[test]
    fn the_deadline_shortens_the_budget() {
        let sdk = aws_types::SdkConfig::builder().build();
        let now = Utc::now();
        let mut ctx = DeliveryContext::new(sdk, Duration::from_secs(30), &TimeLimit::NONE, None);
        assert_eq!(ctx.time_left(now), Duration::from_secs(30));
        ctx.deadline = Some(now + chrono::TimeDelta::seconds(12));
        assert_eq!(ctx.time_left(now), Duration::from_secs(7), "5 s kept for writing the results");
        ctx.deadline = Some(now + chrono::TimeDelta::seconds(3));
        assert_eq!(ctx.time_left(now), Duration::ZERO);
    }

    #[tokio::test]
    async fn nothing_is_sent_without_time_and_undeclared_names_are_reported() {
        let sdk = aws_types::SdkConfig::builder().build();
        let ctx = DeliveryContext::new(sdk, Duration::ZERO, &TimeLimit::NONE, None);
        let hook = AlertDestinationDocument { name: "hook".into(), url: Some("https://h.example.com/x".into()), ..doc("webhook") };
        let n = Notification {
            idempotency_key: "k".into(),
            rule: "r".into(),
            severity: "info".into(),
            kind: "threshold".into(),
            subject: "s".into(),
            text: "t".into(),
            body: serde_json::json!({}),
        };
        let out = deliver(&[hook], &[(n, vec!["hook".into(), "other".into()])], &ctx).await;
        assert_eq!(out.iter().map(|d| (d.destination.as_str(), d.status, d.attempts)).collect::<Vec<_>>(), [
            ("hook", DeliveryStatus::SkippedNoTime, 0),
            ("other", DeliveryStatus::Failed, 0)
        ]);
        let error = out[1].error.as_deref().unwrap();
        assert_eq!(
            error,
            "destination other is not declared: no lfm_alert_destination named other among the 1 read from the \
             alert-destinations index (hook); declare it, or remove it from the destinations of rule r"
        );
    }
}
