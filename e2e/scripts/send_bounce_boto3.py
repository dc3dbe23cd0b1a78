#!/usr/bin/python3
"""SES v1 SendBounce with boto3, for e2e/send_bounce_test.go (TestSendBounceWithBoto3).

Bounces ORIGINAL (a message sesame received for the account, recorded by the
test) from BOUNCE_SENDER, a verified identity, for RCPT_GONE (BounceType
DoesNotExist) and RCPT_FULL (RecipientDsnFields), then tries the refusals:
an unknown message id, an unverified BounceSender, a recipient the message
did not have, an invalid BounceType. Prints one JSON object: the MessageId
and, per refusal, the error code and message.

Environment: SESAME_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION, ORIGINAL, BOUNCE_SENDER, RCPT_GONE, RCPT_FULL.
"""
import datetime
import json
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

env = os.environ
v1 = boto3.client("ses", endpoint_url=env["SESAME_ENDPOINT"], region_name=env["AWS_REGION"],
                  config=Config(retries={"max_attempts": 1, "mode": "standard"}))
gone = {"Recipient": env["RCPT_GONE"], "BounceType": "DoesNotExist"}

out = {}
out["MessageId"] = v1.send_bounce(
    OriginalMessageId=env["ORIGINAL"],
    BounceSender="Mail Delivery Subsystem <%s>" % env["BOUNCE_SENDER"],
    Explanation="Some recipients of your message could not be reached.",
    MessageDsn={
        "ReportingMta": "dns; mx.bounce.test",
        "ArrivalDate": datetime.datetime(2026, 12, 6, 9, 30, tzinfo=datetime.timezone.utc),
        "ExtensionFields": [{"Name": "X-Bounce-Test", "Value": "boto3"}],
    },
    BouncedRecipientInfoList=[
        gone,
        {"Recipient": env["RCPT_FULL"], "RecipientDsnFields": {
            "Action": "failed", "Status": "5.2.2", "DiagnosticCode": "smtp; 552 5.2.2 Mailbox full",
            "RemoteMta": "dns; store.bounce.test"}},
    ],
)["MessageId"]


def refused(name, **kwargs):
    args = {"OriginalMessageId": env["ORIGINAL"], "BounceSender": env["BOUNCE_SENDER"],
            "BouncedRecipientInfoList": [gone]}
    args.update(kwargs)
    try:
        v1.send_bounce(**args)
        out[name] = {"Code": "", "Message": "accepted"}
    except ClientError as e:
        out[name] = {"Code": e.response["Error"]["Code"], "Message": e.response["Error"]["Message"]}


refused("unknown", OriginalMessageId="no-such-message")
refused("unverified", BounceSender="mailer@unverified.test")
refused("stranger", BouncedRecipientInfoList=[{"Recipient": "stranger@bounce.test", "BounceType": "Undefined"}])
print(json.dumps(out))
