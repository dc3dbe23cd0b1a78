#!/usr/bin/python3
"""Drives sesame's development mode ([accounts] development = true) with boto3.

MODE=development: GetAccount (v2) and GetSendQuota (v1) report production
without limits (Max24HourSend -1); SESv2 SendEmail and v1 SendEmail from
SENDER, an address of a domain that is no identity at all, to RCPT, an
outside address, are accepted — several at once, past the sandbox's 1/s; the
identity APIs still report the stored truth (SENDER's domain is not listed).
MODE=sandbox (the same data without the setting): the account reports the
sandbox, and the same sends fail with SES's MessageRejected "Email address
is not verified". Prints the accepted MessageIds, one a line.

Environment (set by e2e/development_test.go): SESAME_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, SENDER, RCPT, TAG, MODE.
"""
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["SESAME_ENDPOINT"]
REGION = os.environ["AWS_REGION"]
SENDER, RCPT, TAG, MODE = os.environ["SENDER"], os.environ["RCPT"], os.environ["TAG"], os.environ["MODE"]

config = Config(retries={"max_attempts": 1, "mode": "standard"})
v2 = boto3.client("sesv2", endpoint_url=ENDPOINT, region_name=REGION, config=config)
v1 = boto3.client("ses", endpoint_url=ENDPOINT, region_name=REGION, config=config)


def step(what):
    print("== " + what, file=sys.stderr)


def send_v2(n):
    return v2.send_email(
        FromEmailAddress=SENDER, Destination={"ToAddresses": [RCPT]},
        Content={"Simple": {"Subject": {"Data": "%s v2 %d" % (TAG, n)}, "Body": {"Text": {"Data": "hello %d" % n}}}},
    )["MessageId"]


def send_v1():
    return v1.send_email(
        Source=SENDER, Destination={"ToAddresses": [RCPT]},
        Message={"Subject": {"Data": TAG + " v1"}, "Body": {"Text": {"Data": "hello v1"}}},
    )["MessageId"]


def expect_not_verified(fn, *args):
    try:
        fn(*args)
    except ClientError as e:
        err = e.response["Error"]
        assert err["Code"] == "MessageRejected", err
        assert "Email address is not verified" in err["Message"] and SENDER in err["Message"], err
        return
    raise AssertionError("%s succeeded in the sandbox from an unverified sender" % fn.__name__)


def main():
    account = v2.get_account()
    quota = v1.get_send_quota()
    domain = SENDER.split("@", 1)[1]
    names = [i["IdentityName"] for i in v2.list_email_identities()["EmailIdentities"]]
    assert SENDER not in names and domain not in names, names
    if MODE == "development":
        step("GetAccount and GetSendQuota report production without limits")
        assert account["ProductionAccessEnabled"] is True, account
        assert account["SendQuota"]["Max24HourSend"] == -1, account["SendQuota"]
        assert account["SendQuota"]["MaxSendRate"] >= 1000, account["SendQuota"]
        assert quota["Max24HourSend"] == -1 and quota["MaxSendRate"] >= 1000, quota
        step("send from the unverified %s to %s, three at once" % (SENDER, RCPT))
        ids = [send_v2(1), send_v2(2), send_v1()]
        for i in ids:
            print(i)
        assert v1.get_send_quota()["SentLast24Hours"] >= 3
        return
    assert MODE == "sandbox", MODE
    step("the sandbox is back: GetAccount and GetSendQuota report it")
    assert account["ProductionAccessEnabled"] is False, account
    assert account["SendQuota"]["Max24HourSend"] == 200 and account["SendQuota"]["MaxSendRate"] == 1, account["SendQuota"]
    assert quota["Max24HourSend"] == 200 and quota["MaxSendRate"] == 1, quota
    step("the same sends are refused: the sender is not verified")
    expect_not_verified(send_v2, 1)
    expect_not_verified(send_v1)


if __name__ == "__main__":
    main()
