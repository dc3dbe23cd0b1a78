#!/usr/bin/python3
"""Configures where SES events go with boto3 (Debian's python3-boto3).

Creates a configuration set, an SNS event destination through SES v1 and
another through SESv2, reads both back through both protocols (botocore
parses v1's XML by exact element names, so this checks v1's TopicARN and its
lower-case, sorted event types), checks SES's errors, and sets an identity's
notification topics.

Environment (set by e2e/api_event_destinations_test.go): SESAME_ENDPOINT,
SESAME_ACCOUNT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, TAG.
"""
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["SESAME_ENDPOINT"]
REGION = os.environ["AWS_REGION"]
ACCOUNT = os.environ["SESAME_ACCOUNT"]
TAG = os.environ["TAG"]

config = Config(retries={"max_attempts": 1, "mode": "standard"})
v2 = boto3.client("sesv2", endpoint_url=ENDPOINT, region_name=REGION, config=config)
v1 = boto3.client("ses", endpoint_url=ENDPOINT, region_name=REGION, config=config)

sns = boto3.client("sns", endpoint_url=ENDPOINT, region_name=REGION, config=config)

CS = TAG + "-events"
# sesame's own SNS-compatible topic: a destination must name one that exists.
TOPIC = sns.create_topic(Name=TAG + "-topic")["TopicArn"]
if TOPIC != "arn:aws:sns:%s:%s:%s-topic" % (REGION, ACCOUNT, TAG):
    sys.exit("CreateTopic: %s" % TOPIC)


def step(what):
    print("== " + what, file=sys.stderr)


def expect_error(code, message, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["Error"]["Message"])
        if got != (code, message):
            sys.exit("%s: got %r, want %r" % (fn.__name__, got, (code, message)))
        return
    sys.exit("%s: no error, want %s" % (fn.__name__, code))


step("create the configuration set and a v1 SNS destination")
v1.create_configuration_set(ConfigurationSet={"Name": CS})
v1.create_configuration_set_event_destination(
    ConfigurationSetName=CS,
    EventDestination={"Name": "v1-sns", "Enabled": True,
                      "MatchingEventTypes": ["send", "delivery", "bounce", "open", "click"],
                      "SNSDestination": {"TopicARN": TOPIC}})

step("a v2 SNS destination")
v2.create_configuration_set_event_destination(
    ConfigurationSetName=CS, EventDestinationName="v2-sns",
    EventDestination={"Enabled": True, "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
                      "SnsDestination": {"TopicArn": TOPIC}})

step("read back through v1")
got = v1.describe_configuration_set(ConfigurationSetName=CS,
                                    ConfigurationSetAttributeNames=["eventDestinations"])
dests = {d["Name"]: d for d in got["EventDestinations"]}
want = {"Name": "v1-sns", "Enabled": True,
        "MatchingEventTypes": ["bounce", "click", "delivery", "open", "send"],
        "SNSDestination": {"TopicARN": TOPIC}}
if dests.get("v1-sns") != want:
    sys.exit("v1 view of v1-sns: %r, want %r" % (dests.get("v1-sns"), want))
if dests.get("v2-sns", {}).get("MatchingEventTypes") != ["bounce", "complaint"]:
    sys.exit("v1 view of v2-sns: %r" % dests.get("v2-sns"))

step("read back through v2")
got = v2.get_configuration_set_event_destinations(ConfigurationSetName=CS)
dests = {d["Name"]: d for d in got["EventDestinations"]}
if dests.get("v1-sns", {}).get("SnsDestination") != {"TopicArn": TOPIC} or \
        dests["v1-sns"]["MatchingEventTypes"] != ["SEND", "DELIVERY", "BOUNCE", "OPEN", "CLICK"]:
    sys.exit("v2 view of v1-sns: %r" % dests.get("v1-sns"))
if dests.get("v2-sns", {}).get("MatchingEventTypes") != ["BOUNCE", "COMPLAINT"]:
    sys.exit("v2 view of v2-sns: %r" % dests.get("v2-sns"))

step("SES's errors")
expect_error("ConfigurationSetDoesNotExist", "Configuration set <%s-nope> does not exist." % TAG,
             v1.delete_configuration_set_event_destination,
             ConfigurationSetName=TAG + "-nope", EventDestinationName="v1-sns")
expect_error("EventDestinationDoesNotExist", "No EventDestination found for " + CS,
             v1.delete_configuration_set_event_destination,
             ConfigurationSetName=CS, EventDestinationName="nope")
other = "arn:aws:sns:%s:999999999999:elsewhere" % REGION
expect_error("InvalidSNSDestination", "SNS topic <%s> not found." % other,
             v1.create_configuration_set_event_destination, ConfigurationSetName=CS,
             EventDestination={"Name": "x", "Enabled": True, "MatchingEventTypes": ["send"],
                               "SNSDestination": {"TopicARN": other}})
expect_error("AlreadyExistsException", "Event destination v2-sns already exists in configuration set <%s>." % CS,
             v2.create_configuration_set_event_destination, ConfigurationSetName=CS,
             EventDestinationName="v2-sns",
             EventDestination={"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": TOPIC}})

step("identity notification topics")
identity = TAG + "-events.example.com"
v2.create_email_identity(EmailIdentity=identity, ConfigurationSetName=CS)
if v2.get_email_identity(EmailIdentity=identity).get("ConfigurationSetName") != CS:
    sys.exit("GetEmailIdentity lacks the default configuration set")
for kind in ("Bounce", "Complaint"):
    v1.set_identity_notification_topic(Identity=identity, NotificationType=kind, SnsTopic=TOPIC)
v1.set_identity_headers_in_notifications_enabled(Identity=identity, NotificationType="Bounce", Enabled=True)
v1.set_identity_feedback_forwarding_enabled(Identity=identity, ForwardingEnabled=False)
attrs = v1.get_identity_notification_attributes(Identities=[identity])["NotificationAttributes"][identity]
if attrs["BounceTopic"] != TOPIC or attrs["ForwardingEnabled"] or not attrs["HeadersInBounceNotificationsEnabled"]:
    sys.exit("notification attributes: %r" % attrs)
expect_error("InvalidParameterValue",
             "Invalid notification type: InvalidType. Valid values are: Bounce, Complaint, Delivery.",
             v1.set_identity_headers_in_notifications_enabled,
             Identity=identity, NotificationType="InvalidType", Enabled=True)

step("deleting the set deletes its destinations")
v2.delete_configuration_set(ConfigurationSetName=CS)
v2.create_configuration_set(ConfigurationSetName=CS)
if v2.get_configuration_set_event_destinations(ConfigurationSetName=CS)["EventDestinations"]:
    sys.exit("a recreated set kept its destinations")
print("event destinations: ok")
