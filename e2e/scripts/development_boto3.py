#!/usr/bin/python3
"""Drives sesame's development mode ([accounts] development = true) with boto3.

MODE=development: GetAccount (v2) and GetSendQuota (v1) report production
without limits (Max24HourSend -1); SESv2 SendEmail and v1 SendEmail from
SENDER, an address of a domain that is no identity at all, to RCPT, an
outside address, are accepted — several at once, past the sandbox's 1/s; the
identity APIs still report the stored truth (SENDER's domain is not listed).
So are the other ways sending happens, each from SENDER: with a configuration
set (v2, v1), templated (v2, v1), bulk (v2, v1), raw (v1, SENDER only in the
From header), a custom verification email whose template's From is SENDER, and
a receipt rule whose Bounce action sends from SENDER.
MODE=sandbox (the same data without the setting): the account reports the
sandbox, and the same sends fail with SES's MessageRejected "Email address
is not verified" (the configuration set and bulk sends too; the custom
verification template and the receipt rule are refused as SES refuses them).
Prints the accepted MessageIds of the three simple sends, one a line.

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


def later_paths():
    """The ways to send added after the simple sends, each from SENDER: it
    returns the calls, run in development mode to succeed and in the sandbox to
    be refused."""
    cs, tpl, cv, rs = TAG + "-set", TAG + "-tpl", TAG + "-cv", TAG + "-rules"
    v2.create_configuration_set(ConfigurationSetName=cs)
    v2.create_email_template(TemplateName=tpl, TemplateContent={"Subject": TAG + " {{n}}", "Text": "hello {{n}}"})
    v1.create_receipt_rule_set(RuleSetName=rs)
    dest = {"ToAddresses": [RCPT]}
    simple = {"Subject": {"Data": TAG + " set"}, "Body": {"Text": {"Data": "hello"}}}
    raw = ("From: %s\r\nTo: %s\r\nSubject: %s raw\r\n\r\nhello\r\n" % (SENDER, RCPT, TAG)).encode()
    return {
        "v2 SendEmail with a configuration set": lambda: v2.send_email(
            FromEmailAddress=SENDER, Destination=dest, ConfigurationSetName=cs, Content={"Simple": simple}),
        "v1 SendEmail with a configuration set": lambda: v1.send_email(
            Source=SENDER, Destination=dest, ConfigurationSetName=cs, Message=simple),
        "v2 SendEmail with a template": lambda: v2.send_email(
            FromEmailAddress=SENDER, Destination=dest,
            Content={"Template": {"TemplateName": tpl, "TemplateData": '{"n": "v2"}'}}),
        "v1 SendTemplatedEmail": lambda: v1.send_templated_email(
            Source=SENDER, Destination=dest, Template=tpl, TemplateData='{"n": "v1"}'),
        "v2 SendBulkEmail": lambda: bulk_v2(tpl),
        "v1 SendBulkTemplatedEmail": lambda: bulk_v1(tpl),
        "v1 SendRawEmail": lambda: v1.send_raw_email(RawMessage={"Data": raw}),
        "custom verification email": lambda: custom_verification(cv),
        "receipt rule with a Bounce action": lambda: v1.create_receipt_rule(RuleSetName=rs, Rule={
            "Name": "bounce", "Enabled": True, "Recipients": ["inbound.example"],
            "Actions": [{"BounceAction": {"SmtpReplyCode": "550", "Message": "gone", "Sender": SENDER}}]}),
    }


def bulk_v2(tpl):
    out = v2.send_bulk_email(FromEmailAddress=SENDER, DefaultContent={"Template": {"TemplateName": tpl, "TemplateData": '{"n": "bulk"}'}},
                             BulkEmailEntries=[{"Destination": {"ToAddresses": [RCPT]}}])
    status = [r["Status"] for r in out["BulkEmailEntryResults"]]
    if status != ["SUCCESS"]:
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": str(out["BulkEmailEntryResults"])}}, "SendBulkEmail")


def bulk_v1(tpl):
    out = v1.send_bulk_templated_email(Source=SENDER, Template=tpl, DefaultTemplateData='{"n": "bulk1"}',
                                       Destinations=[{"Destination": {"ToAddresses": [RCPT]}}])
    status = [r["Status"] for r in out["Status"]]
    if status != ["Success"]:
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": str(out["Status"])}}, "SendBulkTemplatedEmail")


def custom_verification(name):
    v2.create_custom_verification_email_template(
        TemplateName=name, FromEmailAddress=SENDER, TemplateSubject="Confirm", TemplateContent="<p>Confirm</p>",
        SuccessRedirectionURL="https://example.com/ok", FailureRedirectionURL="https://example.com/no")
    v2.send_custom_verification_email(EmailAddress=RCPT, TemplateName=name)


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
        for what, call in later_paths().items():
            step(what + " from the unverified " + SENDER)
            call()
        return
    assert MODE == "sandbox", MODE
    step("the sandbox is back: GetAccount and GetSendQuota report it")
    assert account["ProductionAccessEnabled"] is False, account
    assert account["SendQuota"]["Max24HourSend"] == 200 and account["SendQuota"]["MaxSendRate"] == 1, account["SendQuota"]
    assert quota["Max24HourSend"] == 200 and quota["MaxSendRate"] == 1, quota
    step("the same sends are refused: the sender is not verified")
    expect_not_verified(send_v2, 1)
    expect_not_verified(send_v1)
    for what, call in later_paths().items():
        step(what + " is refused")
        try:
            call()
        except ClientError as e:
            print("   " + e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"], file=sys.stderr)
            continue
        raise AssertionError(what + " succeeded in the sandbox from an unverified sender")


if __name__ == "__main__":
    main()
