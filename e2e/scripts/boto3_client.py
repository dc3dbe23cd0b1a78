#!/usr/bin/python3
"""Drives sesame with boto3 (Debian's python3-boto3), as a user would.

Creates an email identity and verifies it by following the link sesame mails
out, sends Simple, Raw and Template mail through SESv2 and SendEmail,
SendRawEmail and SendTemplatedEmail through SES v1, checks the errors boto3
raises, and reads every message back from /_aws/ses.

Environment (set by e2e/api_scripts_test.go): SESAME_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, SENDER, RCPT, TAG (see aws-cli.sh).
"""
import json
import os
import subprocess
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINT = os.environ["SESAME_ENDPOINT"]
REGION = os.environ["AWS_REGION"]
SENDER, RCPT, TAG = os.environ["SENDER"], os.environ["RCPT"], os.environ["TAG"]

config = Config(retries={"max_attempts": 1, "mode": "standard"})
v2 = boto3.client("sesv2", endpoint_url=ENDPOINT, region_name=REGION, config=config)
v1 = boto3.client("ses", endpoint_url=ENDPOINT, region_name=REGION, config=config)


def step(what):
    print("== " + what, file=sys.stderr)


def captured(*args):
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "captured.py"), *args], check=True,
                   stdout=subprocess.PIPE, text=True)


def link_for(address):
    out = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "captured.py"), "link", address],
                         check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.strip()


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, "%s: error %s, want %s" % (fn.__name__, got, code)
        return
    raise AssertionError("%s succeeded, want %s" % (fn.__name__, code))


def main():
    step("create and verify the email identity " + SENDER)
    out = v2.create_email_identity(EmailIdentity=SENDER)
    assert out["IdentityType"] == "EMAIL_ADDRESS", out
    assert out["VerifiedForSendingStatus"] is False, out
    with urllib.request.urlopen(link_for(SENDER), timeout=10) as resp:
        assert resp.status == 200
    got = v2.get_email_identity(EmailIdentity=SENDER)
    assert got["VerifiedForSendingStatus"] is True, got
    attrs = v1.get_identity_verification_attributes(Identities=[SENDER])["VerificationAttributes"]
    assert attrs[SENDER]["VerificationStatus"] == "Success", attrs
    assert SENDER in v1.list_identities(IdentityType="EmailAddress")["Identities"]

    step("sesv2 SendEmail: Simple (UTF-8 subject, text + HTML), Raw, Template")
    v2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": [RCPT]},
                  Content={"Simple": {"Subject": {"Data": TAG + " simple ünïcode", "Charset": "UTF-8"},
                                      "Body": {"Text": {"Data": "text from boto3"},
                                               "Html": {"Data": "<p>html from boto3</p>"}}}})
    captured("expect", TAG + " simple ünïcode", "text from boto3")
    raw = ("From: %s\r\nTo: %s\r\nSubject: %s raw\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nraw body from boto3\r\n" % (SENDER, RCPT, TAG))
    v2.send_email(Content={"Raw": {"Data": raw.encode()}})  # boto3 base64-encodes blobs itself
    captured("expect", TAG + " raw", "raw body from boto3")

    v2.create_email_template(TemplateName=TAG + "-welcome", TemplateContent={
        "Subject": TAG + " template {{name}}", "Text": "Hello {{name}}{{#if vip}}, VIP{{/if}}",
        "Html": "<ul>{{#each items}}<li>{{this}}</li>{{/each}}</ul>"})
    rendered = v2.test_render_email_template(TemplateName=TAG + "-welcome",
                                             TemplateData=json.dumps({"name": "Bo", "vip": True, "items": ["a", "b"]}))
    assert "Hello Bo, VIP" in rendered["RenderedTemplate"], rendered
    v2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": [RCPT]},
                  Content={"Template": {"TemplateName": TAG + "-welcome",
                                        "TemplateData": json.dumps({"name": "Bo", "vip": True, "items": ["x"]})}})
    captured("expect", TAG + " template Bo", "Hello Bo, VIP")
    names = [t["TemplateName"] for t in v2.list_email_templates()["TemplatesMetadata"]]
    assert TAG + "-welcome" in names, names

    step("ses v1: SendEmail, SendRawEmail, SendTemplatedEmail")
    v1.send_email(Source=SENDER, Destination={"ToAddresses": [RCPT]},
                  Message={"Subject": {"Data": TAG + " v1 simple"}, "Body": {"Text": {"Data": "v1 text from boto3"}}})
    captured("expect", TAG + " v1 simple", "v1 text from boto3")
    v1.send_raw_email(RawMessage={"Data": raw.replace(" raw\r\n", " v1 raw\r\n").encode()})
    captured("expect", TAG + " v1 raw", "raw body from boto3")
    v1.send_templated_email(Source=SENDER, Destination={"ToAddresses": [RCPT]}, Template=TAG + "-welcome",
                            TemplateData=json.dumps({"name": "Vee"}))
    captured("expect", TAG + " template Vee", "Hello Vee")

    step("errors boto3 raises")
    expect_error("MessageRejected", v2.send_email, FromEmailAddress="nobody@unverified.invalid",
                 Destination={"ToAddresses": [RCPT]},
                 Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}})
    expect_error("MessageRejected", v1.send_email, Source="nobody@unverified.invalid",
                 Destination={"ToAddresses": [RCPT]},
                 Message={"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}})
    expect_error("NotFoundException", v2.get_email_template, TemplateName=TAG + "-missing")
    expect_error("TemplateDoesNotExist", v1.get_template, TemplateName=TAG + "-missing")
    expect_error("AlreadyExistsException", v2.create_email_template, TemplateName=TAG + "-welcome",
                 TemplateContent={"Subject": "s", "Text": "t"})
    print("boto3_client.py: ok", file=sys.stderr)


if __name__ == "__main__":
    main()
