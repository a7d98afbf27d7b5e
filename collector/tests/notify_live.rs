//! Alert delivery (`lfm_collector::notify`) against the test bed: SNS and SSM in moto
//! (`LFM_MOTO_URL`), the HTTPS webhook receiver with its private CA (`LFM_WEBHOOK_URL`,
//! `LFM_WEBHOOK_CA_FILE`, `LFM_WEBHOOK_SECRET`): `python -m lfm_testbed up && eval "$(python -m
//! lfm_testbed env)"`.
//!
//! 1. SNS: Publish reaches an SQS queue subscribed to the topic, raw (body = text + JSON,
//!    attributes as SQS attributes) and enveloped (Subject); a FIFO topic drops the second
//!    delivery of the same idempotency key;
//! 2. webhook: the secret read from an SSM SecureString, the body signed; the receiver says
//!    the signature is valid; the Slack format; a wrong secret is refused (401) at once;
//! 3. 503 twice then 200: delivered after 3 attempts (1 s and 2 s of backoff);
//! 4. an unreachable endpoint fails within the budget; an undeclared destination, a missing
//!    SSM parameter, plain http, a missing topic and no time left are reported, not raised.
//!
//! Each test uses names and receiver paths of its own (the test bed is shared).

use std::time::{Duration, Instant};

use lfm_collector::notify::{deliver, Delivery, DeliveryContext, DeliveryStatus, Notification};
use lfm_schema::alerts::AlertDestinationDocument;
use serde_json::{json, Value};

mod common;

use common::{required_env, sdk_config, test_keys, unique};

const REGION: &str = "us-east-1";

fn notification(key: &str) -> Notification {
    Notification {
        idempotency_key: key.to_string(),
        rule: "high-errors".into(),
        severity: "critical".into(),
        kind: "threshold".into(),
        subject: "[LFM critical] high-errors: 2 functions firing".into(),
        text: "FIRING orders-api error_rate 0.12 > 0.05 (3 of 5 periods)\nFIRING billing error_rate 0.08 > 0.05 (4 of 5 periods)".into(),
        body: json!({"rule": "high-errors", "severity": "critical", "functions": [{"name": "orders-api"}, {"name": "billing"}]}),
    }
}

fn sns_destination(name: &str, topic_arn: &str) -> AlertDestinationDocument {
    AlertDestinationDocument {
        name: name.into(),
        destination_type: "sns".into(),
        topic_arn: Some(topic_arn.into()),
        url: None,
        format: "json".into(),
        secret_parameter: None,
        updated_at: "2026-11-26T15:00:00Z".into(),
    }
}

fn webhook_destination(name: &str, url: &str, format: &str, secret_parameter: Option<&str>) -> AlertDestinationDocument {
    AlertDestinationDocument {
        name: name.into(),
        destination_type: "webhook".into(),
        topic_arn: None,
        url: Some(url.into()),
        format: format.into(),
        secret_parameter: secret_parameter.map(str::to_string),
        updated_at: "2026-11-26T15:00:00Z".into(),
    }
}

async fn context(budget: Duration) -> DeliveryContext {
    let moto = required_env("LFM_MOTO_URL");
    DeliveryContext {
        budget,
        deadline: None,
        sdk: sdk_config(&moto, REGION, test_keys()).await,
        webhook_ca_file: Some(required_env("LFM_WEBHOOK_CA_FILE").into()),
    }
}

/// A client of the receiver's control endpoints (it trusts the receiver's CA).
fn receiver_client() -> reqwest::Client {
    let pem = std::fs::read(required_env("LFM_WEBHOOK_CA_FILE")).unwrap();
    reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).build().unwrap()
}

async fn received(path: &str) -> Vec<Value> {
    let base = required_env("LFM_WEBHOOK_URL");
    let answer: Value =
        receiver_client().get(format!("{base}/deliveries")).query(&[("path", path)]).send().await.unwrap().json().await.unwrap();
    answer.as_array().cloned().unwrap()
}

/// Puts `value` as an SSM SecureString parameter `name` in moto.
async fn put_secret(name: &str, value: &str) {
    let ssm = aws_sdk_ssm::Client::new(&context(Duration::from_secs(1)).await.sdk);
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put_parameter");
}

fn only(deliveries: Vec<Delivery>) -> Delivery {
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    deliveries.into_iter().next().unwrap()
}

/// A queue subscribed to `topic_arn` (raw or enveloped); its URL.
async fn subscribed_queue(sdk: &aws_types::SdkConfig, topic_arn: &str, name: &str, raw: bool, fifo: bool) -> String {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut create = sqs.create_queue().queue_name(name);
    if fifo {
        create = create.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
    }
    let url = create.send().await.expect("create_queue").queue_url.unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    aws_sdk_sns::Client::new(sdk)
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", if raw { "true" } else { "false" })
        .send()
        .await
        .expect("subscribe");
    url
}

async fn messages(sdk: &aws_types::SdkConfig, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    aws_sdk_sqs::Client::new(sdk)
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .expect("receive_message")
        .messages
        .unwrap_or_default()
}

#[tokio::test]
async fn sns_publish_reaches_a_subscribed_queue() {
    let ctx = context(Duration::from_secs(20)).await;
    let u = unique();
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    let topic = sns.create_topic().name(format!("lfm-notify-{u}")).send().await.unwrap().topic_arn.unwrap();
    let raw = subscribed_queue(&ctx.sdk, &topic, &format!("lfm-notify-raw-{u}"), true, false).await;
    let enveloped = subscribed_queue(&ctx.sdk, &topic, &format!("lfm-notify-env-{u}"), false, false).await;

    let n = notification(&format!("key-{u}"));
    let d = only(deliver(&[sns_destination("ops", &topic)], &[(n.clone(), vec!["ops".into()])], &ctx).await);
    assert_eq!((d.status, d.attempts, d.error.as_deref()), (DeliveryStatus::Delivered, 1, None), "{d:?}");

    let [message] = &messages(&ctx.sdk, &raw).await[..] else { panic!("one raw message") };
    let (text, body) = message.body().unwrap().split_once("\n\n").unwrap();
    assert_eq!(text, n.text);
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), n.body);
    let attributes = message.message_attributes().unwrap();
    for (name, want) in [("lfm.idempotency_key", n.idempotency_key.as_str()), ("lfm.severity", "critical"), ("lfm.rule", "high-errors")] {
        assert_eq!(attributes[name].string_value(), Some(want), "{name}");
        assert_eq!(attributes[name].data_type(), "String");
    }

    let [message] = &messages(&ctx.sdk, &enveloped).await[..] else { panic!("one enveloped message") };
    let envelope: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    assert_eq!(envelope["Subject"], n.subject);
    assert_eq!(envelope["MessageAttributes"]["lfm.idempotency_key"]["Value"], n.idempotency_key);
}

#[tokio::test]
async fn a_fifo_topic_drops_the_second_delivery_of_a_key() {
    let ctx = context(Duration::from_secs(20)).await;
    let u = unique();
    let topic = aws_sdk_sns::Client::new(&ctx.sdk)
        .create_topic()
        .name(format!("lfm-notify-{u}.fifo"))
        .attributes("FifoTopic", "true")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue = subscribed_queue(&ctx.sdk, &topic, &format!("lfm-notify-{u}.fifo"), true, true).await;
    let destinations = [sns_destination("ops-fifo", &topic)];
    let n = notification(&format!("fifo-key-{u}"));
    for _ in 0..2 {
        // A rerun sends the same evaluation again: same key.
        let d = only(deliver(&destinations, &[(n.clone(), vec!["ops-fifo".into()])], &ctx).await);
        assert_eq!(d.status, DeliveryStatus::Delivered, "{d:?}");
    }
    assert_eq!(messages(&ctx.sdk, &queue).await.len(), 1, "SNS deduplicated the second publish");
}

#[tokio::test]
async fn a_signed_webhook_with_the_secret_from_ssm() {
    let ctx = context(Duration::from_secs(20)).await;
    let u = unique();
    let parameter = format!("/lfm/notify-{u}/alert-destinations/hook/webhook-secret");
    put_secret(&parameter, &required_env("LFM_WEBHOOK_SECRET")).await;
    let base = required_env("LFM_WEBHOOK_URL");
    let (json_path, slack_path) = (format!("/hook/json-{u}"), format!("/hook/slack-{u}"));
    let destinations = [
        webhook_destination("hook", &format!("{base}{json_path}"), "json", Some(&parameter)),
        webhook_destination("chat", &format!("{base}{slack_path}"), "slack", Some(&parameter)),
    ];
    let n = notification(&format!("hook-key-{u}"));
    let deliveries = deliver(&destinations, &[(n.clone(), vec!["hook".into(), "chat".into()])], &ctx).await;
    for d in &deliveries {
        assert_eq!((d.status, d.attempts, d.error.as_deref()), (DeliveryStatus::Delivered, 1, None), "{d:?}");
    }
    assert_eq!(deliveries.iter().map(|d| d.destination.as_str()).collect::<Vec<_>>(), ["hook", "chat"], "in the order given");

    let [record] = &received(&json_path).await[..] else { panic!("one delivery") };
    assert_eq!(record["signature"], "valid", "{record}");
    assert_eq!(record["idempotency_key"], n.idempotency_key);
    assert_eq!(record["body"], n.body);
    let [record] = &received(&slack_path).await[..] else { panic!("one delivery") };
    assert_eq!(record["signature"], "valid", "{record}");
    assert!(record["body"]["text"].as_str().unwrap().starts_with(&n.subject));
    assert_eq!(record["body"]["blocks"][0]["text"]["type"], "mrkdwn");

    // A wrong secret: the receiver answers 401, which is not retried.
    let wrong = format!("/lfm/notify-{u}/alert-destinations/wrong/webhook-secret");
    put_secret(&wrong, "not-the-receivers-secret").await;
    let wrong_path = format!("/hook/wrong-{u}");
    let d = only(
        deliver(&[webhook_destination("wrong", &format!("{base}{wrong_path}"), "json", Some(&wrong))], &[(n.clone(), vec!["wrong".into()])], &ctx)
            .await,
    );
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 1), "{d:?}");
    let error = d.error.unwrap();
    assert!(error.starts_with("destination wrong (webhook): the receiver refused the message with HTTP 401"), "{error}");
    assert_eq!(received(&wrong_path).await[0]["signature"], "invalid");
}

#[tokio::test]
async fn two_503s_then_delivered_on_the_third_attempt() {
    let ctx = context(Duration::from_secs(20)).await;
    let u = unique();
    let base = required_env("LFM_WEBHOOK_URL");
    let path = format!("/hook/flaky-{u}");
    receiver_client()
        .post(format!("{base}/fail"))
        .query(&[("times", "2"), ("path", path.as_str())])
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let started = Instant::now();
    let d = only(
        deliver(&[webhook_destination("flaky", &format!("{base}{path}"), "json", None)], &[(notification("k"), vec!["flaky".into()])], &ctx).await,
    );
    assert_eq!((d.status, d.attempts, d.error.as_deref()), (DeliveryStatus::Delivered, 3, None), "{d:?}");
    assert!(started.elapsed() >= Duration::from_secs(3), "1 s then 2 s of backoff: {:?}", started.elapsed());
    let statuses: Vec<u64> = received(&path).await.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(received(&path).await[2]["signature"], "missing", "no secret_parameter: unsigned");
}

#[tokio::test]
async fn failures_are_reported_within_the_budget() {
    let budget = Duration::from_secs(4);
    let ctx = context(budget).await;
    let u = unique();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let destinations = [
        webhook_destination("gone", &format!("https://127.0.0.1:{closed}/hook"), "json", None),
        webhook_destination("no-secret", &format!("{}/hook/nosecret-{u}", required_env("LFM_WEBHOOK_URL")), "json", Some(&format!("/lfm/notify-{u}/missing"))),
        webhook_destination("plain", "http://hooks.example.com/x", "json", None),
        sns_destination("no-topic", &format!("arn:aws:sns:{REGION}:123456789012:lfm-notify-missing-{u}")),
    ];
    let n = notification("k");
    let names = ["gone", "no-secret", "plain", "no-topic", "undeclared"].map(String::from).to_vec();
    let started = Instant::now();
    let deliveries = deliver(&destinations, &[(n.clone(), names)], &ctx).await;
    assert!(started.elapsed() < budget + Duration::from_millis(500), "{:?}", started.elapsed());
    let by_name = |name: &str| deliveries.iter().find(|d| d.destination == name).unwrap();
    for d in &deliveries {
        assert_eq!(d.status, DeliveryStatus::Failed, "{d:?}");
    }
    let gone = by_name("gone");
    assert!(gone.attempts >= 2, "connection errors are retried: {gone:?}");
    let error = gone.error.as_deref().unwrap();
    assert!(error.starts_with("destination gone (webhook): no connection (") && error.contains("gave up after"), "{error}");
    let error = by_name("no-secret").error.as_deref().unwrap();
    assert!(error.contains(&format!("SSM parameter /lfm/notify-{u}/missing")) && error.contains("ParameterNotFound"), "{error}");
    assert!(!error.contains("Error {") && !error.contains("SdkError"), "no Debug output: {error}");
    let error = by_name("plain").error.as_deref().unwrap();
    assert!(error.starts_with("destination plain: url \"http://hooks.example.com/x\" uses plain http"), "{error}");
    let no_topic = by_name("no-topic");
    let error = no_topic.error.as_deref().unwrap();
    assert!(error.starts_with("destination no-topic (SNS topic): SNS Publish failed: NotFound"), "{error}");
    assert_eq!(no_topic.attempts, 1, "AWS's refusal is not retried");
    let error = by_name("undeclared").error.as_deref().unwrap();
    assert!(error.starts_with("destination undeclared is not declared: "), "{error}");
    assert_eq!(by_name("undeclared").attempts, 0);

    // No time at all: nothing is attempted, everything is reported for the next run.
    let none = DeliveryContext { budget: Duration::ZERO, ..context(budget).await };
    let d = only(deliver(&destinations[..1], &[(n, vec!["gone".into()])], &none).await);
    assert_eq!((d.status, d.attempts), (DeliveryStatus::SkippedNoTime, 0), "{d:?}");
}
