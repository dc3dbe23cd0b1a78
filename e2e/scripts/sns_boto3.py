#!/usr/bin/python3
"""Drives sesame's SNS-compatible topics with boto3, as an application would:
creates a topic, subscribes the HTTP endpoint in WEBHOOK, waits until the
endpoint has confirmed the subscription (it GETs the SubscribeURL), then
publishes one message and prints its MessageId on the last line.

Environment (set by e2e/sns_test.go): SESAME_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, WEBHOOK.
"""
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

config = Config(retries={"max_attempts": 1, "mode": "standard"})
sns = boto3.client("sns", endpoint_url=os.environ["SESAME_ENDPOINT"],
                   region_name=os.environ["AWS_REGION"], config=config)

topic = sns.create_topic(Name="ses-events", Attributes={"SignatureVersion": "2"})["TopicArn"]
assert sns.create_topic(Name="ses-events")["TopicArn"] == topic, "CreateTopic is not idempotent"

try:
    sns.get_topic_attributes(TopicArn=topic + "-missing")
    sys.exit("GetTopicAttributes of a missing topic did not fail")
except ClientError as e:
    assert e.response["Error"]["Code"] == "NotFound", e.response

sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=os.environ["WEBHOOK"])
assert sub["SubscriptionArn"] == "pending confirmation", sub

deadline = time.time() + 20
while True:
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    if subs and subs[0]["SubscriptionArn"] != "PendingConfirmation":
        break
    if time.time() > deadline:
        sys.exit("the subscription was never confirmed: %r" % subs)
    time.sleep(0.05)

attrs = sns.get_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"])["Attributes"]
assert attrs["PendingConfirmation"] == "false", attrs

msg = sns.publish(TopicArn=topic, Subject="Amazon SES Email Event Notification",
                  Message='{"eventType":"Delivery"}')
print(msg["MessageId"])
