"""moto (server mode) delivers SNS Publish to subscribed SQS queues as AWS documents, which the
collector's live test (collector/tests/notify_live.rs) relies on:

- non-raw delivery: the queue message body is the SNS JSON envelope (Type, MessageId,
  TopicArn, Subject, Message, MessageAttributes {Name: {Type, Value}})
  (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html);
- raw delivery (RawMessageDelivery=true): the body is the Message itself and the SNS message
  attributes become SQS message attributes
  (https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html);
- FIFO topics: MessageGroupId is required, and a second Publish with the same
  MessageDeduplicationId within 5 minutes is accepted but not delivered again
  (https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html).
"""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest


def clients(url):
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("sns", **kw), boto3.client("sqs", **kw)


def subscribed_queue(sns, sqs, topic_arn, name, raw, fifo=False):
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    queue_url = sqs.create_queue(QueueName=name + (".fifo" if fifo else ""), Attributes=attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true" if raw else "false"})
    return queue_url


def receive_all(sqs, queue_url):
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return messages
        messages += got
        for m in got:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


ATTRIBUTES = {
    "lfm.idempotency_key": {"DataType": "String", "StringValue": "abc123"},
    "lfm.severity": {"DataType": "String", "StringValue": "critical"},
    "lfm.rule": {"DataType": "String", "StringValue": "high-errors"},
}


def test_standard_topic_delivers_raw_and_enveloped(clean_moto):
    sns, sqs = clients(clean_moto)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    enveloped = subscribed_queue(sns, sqs, topic, "enveloped", raw=False)
    raw = subscribed_queue(sns, sqs, topic, "raw", raw=True)
    sns.publish(TopicArn=topic, Subject="[LFM critical] high-errors", Message="text\n\n{\"a\": 1}",
                MessageAttributes=ATTRIBUTES)

    [message] = receive_all(sqs, enveloped)
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert envelope["Subject"] == "[LFM critical] high-errors"
    assert envelope["Message"] == "text\n\n{\"a\": 1}"
    assert envelope["MessageAttributes"]["lfm.severity"] == {"Type": "String", "Value": "critical"}
    assert envelope["MessageAttributes"]["lfm.idempotency_key"] == {"Type": "String", "Value": "abc123"}

    [message] = receive_all(sqs, raw)
    assert message["Body"] == "text\n\n{\"a\": 1}"
    assert message["MessageAttributes"]["lfm.rule"] == {"StringValue": "high-errors", "DataType": "String"}


def test_fifo_topic_needs_a_group_and_drops_duplicates(clean_moto):
    sns, sqs = clients(clean_moto)
    topic = sns.create_topic(Name="alerts.fifo", Attributes={"FifoTopic": "true",
                                                             "ContentBasedDeduplication": "false"})["TopicArn"]
    queue = subscribed_queue(sns, sqs, topic, "fifo-raw", raw=True, fifo=True)
    with pytest.raises(botocore.exceptions.ClientError, match="MessageGroupId"):
        sns.publish(TopicArn=topic, Message="m", MessageDeduplicationId="k1")
    for _ in range(2):
        sns.publish(TopicArn=topic, Message="m", MessageGroupId="high-errors", MessageDeduplicationId="k1",
                    MessageAttributes=ATTRIBUTES)
    sns.publish(TopicArn=topic, Message="m2", MessageGroupId="high-errors", MessageDeduplicationId="k2")
    bodies = [m["Body"] for m in receive_all(sqs, queue)]
    assert bodies == ["m", "m2"], "the second k1 is deduplicated"
