#!/usr/bin/python3
"""Manages SES v1 receipt filters, rule sets and rules with boto3's ses
client, as an application setting up receiving would: IP filters, a rule set
with a rule of every action sesame supports, clone, reorder, position,
activation, update and deletion, and SES's errors on the way. Prints "ok" on
the last line.

Environment (set by e2e/receipt_rules_test.go): SESAME_ENDPOINT,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, FUNCTION (a Lambda
function ARN mapped in [receiving] functions).
"""
import os
import subprocess
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

config = Config(retries={"max_attempts": 1, "mode": "standard"})
kw = dict(endpoint_url=os.environ["SESAME_ENDPOINT"], region_name=os.environ["AWS_REGION"], config=config)
ses = boto3.client("ses", **kw)
sns = boto3.client("sns", **kw)
function = os.environ["FUNCTION"]


def refused(code, say, call, **args):
    """call(**args) must fail with SES error code and a message containing say."""
    try:
        call(**args)
    except ClientError as e:
        err = e.response["Error"]
        assert err["Code"] == code and say in err["Message"], (call.__name__, args, err)
        return
    sys.exit("%s(%r) did not fail with %s" % (call.__name__, args, code))


topic = sns.create_topic(Name="inbound")["TopicArn"]

# A bounce action's Sender must be a verified identity: verify one by its link.
bouncer = "bounces-boto3@example.com"
ses.verify_email_identity(EmailAddress=bouncer)
link = subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "captured.py"),
                       "link", bouncer], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
with urllib.request.urlopen(link, timeout=10) as resp:
    assert resp.status == 200, resp.status

# IP filters: block everyone, allow the loopback address.
ses.create_receipt_filter(Filter={"Name": "block-all", "IpFilter": {"Policy": "Block", "Cidr": "0.0.0.0/0"}})
ses.create_receipt_filter(Filter={"Name": "allow-local", "IpFilter": {"Policy": "Allow", "Cidr": "127.0.0.1"}})
filters = ses.list_receipt_filters()["Filters"]
assert filters == [{"Name": "allow-local", "IpFilter": {"Policy": "Allow", "Cidr": "127.0.0.1"}},
                   {"Name": "block-all", "IpFilter": {"Policy": "Block", "Cidr": "0.0.0.0/0"}}], filters
refused("AlreadyExists", "Filter already exists: block-all", ses.create_receipt_filter,
        Filter={"Name": "block-all", "IpFilter": {"Policy": "Block", "Cidr": "10.0.0.0/8"}})
refused("InvalidParameterValue", "Invalid CIDR block: 10.0.0.0/40", ses.create_receipt_filter,
        Filter={"Name": "bad", "IpFilter": {"Policy": "Block", "Cidr": "10.0.0.0/40"}})
for i in range(98):
    ses.create_receipt_filter(Filter={"Name": "f%d" % i, "IpFilter": {"Policy": "Allow", "Cidr": "192.0.2.%d" % i}})
refused("LimitExceeded", "Too many filters", ses.create_receipt_filter,
        Filter={"Name": "f-more", "IpFilter": {"Policy": "Allow", "Cidr": "192.0.2.200"}})
for i in range(98):
    ses.delete_receipt_filter(FilterName="f%d" % i)
ses.delete_receipt_filter(FilterName="f0")  # deleting what is not there succeeds
assert len(ses.list_receipt_filters()["Filters"]) == 2

# A rule set and a rule of every supported action.
ses.create_receipt_rule_set(RuleSetName="inbound")
refused("AlreadyExists", "Rule set already exists: inbound", ses.create_receipt_rule_set, RuleSetName="inbound")
refused("ValidationError", "regular expression pattern", ses.create_receipt_rule_set, RuleSetName="in bound")
refused("InvalidParameterValue", "Not a valid ruleSetName: -inbound", ses.create_receipt_rule_set, RuleSetName="-inbound")

every = {
    "Name": "every-action", "Enabled": True, "TlsPolicy": "Require", "ScanEnabled": True,
    "Recipients": ["info@example.com", "example.org"],
    "Actions": [
        {"AddHeaderAction": {"HeaderName": "X-Routed-By", "HeaderValue": "sesame"}},
        {"S3Action": {"BucketName": "inbound-mail", "ObjectKeyPrefix": "in/", "TopicArn": topic}},
        {"SNSAction": {"TopicArn": topic, "Encoding": "Base64"}},
        {"LambdaAction": {"FunctionArn": function, "InvocationType": "Event"}},
        {"BounceAction": {"SmtpReplyCode": "550", "StatusCode": "5.1.1", "Message": "Mailbox does not exist",
                          "Sender": bouncer, "TopicArn": topic}},
        {"StopAction": {"Scope": "RuleSet", "TopicArn": topic}},
    ],
}
ses.create_receipt_rule(RuleSetName="inbound", Rule=every)
ses.create_receipt_rule(RuleSetName="inbound", Rule={"Name": "first"})  # no After: first
ses.create_receipt_rule(RuleSetName="inbound", After="first", Rule={
    "Name": "notify", "Enabled": True, "Actions": [{"SNSAction": {"TopicArn": topic}}]})


def order(name="inbound"):
    return [r["Name"] for r in ses.describe_receipt_rule_set(RuleSetName=name)["Rules"]]


assert order() == ["first", "notify", "every-action"], order()
got = ses.describe_receipt_rule(RuleSetName="inbound", RuleName="every-action")["Rule"]
assert got == every, got
notify = ses.describe_receipt_rule(RuleSetName="inbound", RuleName="notify")["Rule"]
assert notify == {"Name": "notify", "Enabled": True, "TlsPolicy": "Optional", "ScanEnabled": False,
                  "Actions": [{"SNSAction": {"TopicArn": topic, "Encoding": "UTF-8"}}]}, notify

refused("AlreadyExists", "Rule already exists: notify", ses.create_receipt_rule, RuleSetName="inbound", Rule={"Name": "notify"})
refused("RuleDoesNotExist", "Rule does not exist: nobody", ses.create_receipt_rule, RuleSetName="inbound",
        After="nobody", Rule={"Name": "x"})
refused("RuleSetDoesNotExist", "Rule set does not exist: nowhere", ses.create_receipt_rule, RuleSetName="nowhere", Rule={"Name": "x"})
refused("InvalidParameterValue", "Not a valid ruleName: x-", ses.create_receipt_rule, RuleSetName="inbound", Rule={"Name": "x-"})
refused("InvalidParameterValue", "sesame does not support WorkmailAction", ses.create_receipt_rule, RuleSetName="inbound",
        Rule={"Name": "x", "Actions": [{"WorkmailAction": {"OrganizationArn": "arn:aws:workmail:us-east-1:123456789012:organization/m-1"}}]})
refused("InvalidSnsTopic", "Could not publish to SNS topic: " + topic + "-gone", ses.create_receipt_rule, RuleSetName="inbound",
        Rule={"Name": "x", "Actions": [{"SNSAction": {"TopicArn": topic + "-gone"}}]})
refused("InvalidLambdaFunction", "Could not invoke Lambda function", ses.create_receipt_rule, RuleSetName="inbound",
        Rule={"Name": "x", "Actions": [{"LambdaAction": {"FunctionArn": function + "-other"}}]})
refused("InvalidParameterValue", "Stop action, if any, must be placed at the end", ses.create_receipt_rule, RuleSetName="inbound",
        Rule={"Name": "x", "Actions": [{"StopAction": {"Scope": "RuleSet"}}, {"SNSAction": {"TopicArn": topic}}]})
refused("InvalidParameterValue", "Identity is not verified: someone@example.net", ses.create_receipt_rule, RuleSetName="inbound",
        Rule={"Name": "x", "Actions": [{"BounceAction": {"SmtpReplyCode": "550", "Message": "no", "Sender": "someone@example.net"}}]})
refused("LimitExceeded", "Too many actions", ses.create_receipt_rule, RuleSetName="inbound",
        Rule={"Name": "x", "Actions": [{"AddHeaderAction": {"HeaderName": "X-A", "HeaderValue": "1"}}] * 11})

# Clone, reorder, position.
ses.clone_receipt_rule_set(RuleSetName="inbound-copy", OriginalRuleSetName="inbound")
assert order("inbound-copy") == ["first", "notify", "every-action"]
refused("AlreadyExists", "Rule set already exists: inbound-copy", ses.clone_receipt_rule_set,
        RuleSetName="inbound-copy", OriginalRuleSetName="nowhere")
refused("RuleSetDoesNotExist", "Rule set does not exist: nowhere", ses.clone_receipt_rule_set,
        RuleSetName="other", OriginalRuleSetName="nowhere")
ses.reorder_receipt_rule_set(RuleSetName="inbound", RuleNames=["every-action", "first", "notify"])
assert order() == ["every-action", "first", "notify"], order()
assert order("inbound-copy") == ["first", "notify", "every-action"], "the clone is independent"
refused("InvalidParameterValue", "Positions for rules not found: notify", ses.reorder_receipt_rule_set,
        RuleSetName="inbound", RuleNames=["every-action", "first"])
refused("RuleDoesNotExist", "Rule does not exist: nobody", ses.reorder_receipt_rule_set,
        RuleSetName="inbound", RuleNames=["every-action", "first", "notify", "nobody"])
ses.set_receipt_rule_position(RuleSetName="inbound", RuleName="every-action", After="notify")
assert order() == ["first", "notify", "every-action"], order()
ses.set_receipt_rule_position(RuleSetName="inbound", RuleName="notify")
assert order() == ["notify", "first", "every-action"], order()

# Activation.
assert "Metadata" not in ses.describe_active_receipt_rule_set()
refused("RuleSetDoesNotExist", "Rule set does not exist: nowhere", ses.set_active_receipt_rule_set, RuleSetName="nowhere")
ses.set_active_receipt_rule_set(RuleSetName="inbound")
active = ses.describe_active_receipt_rule_set()
assert active["Metadata"]["Name"] == "inbound" and [r["Name"] for r in active["Rules"]] == order(), active
created = ses.describe_receipt_rule_set(RuleSetName="inbound")["Metadata"]["CreatedTimestamp"]
assert active["Metadata"]["CreatedTimestamp"] == created
refused("CannotDelete", "Cannot delete active rule set: inbound", ses.delete_receipt_rule_set, RuleSetName="inbound")
sets = ses.list_receipt_rule_sets()
assert [s["Name"] for s in sets["RuleSets"]] == ["inbound", "inbound-copy"] and "NextToken" not in sets, sets

# Update replaces the rule in place; delete.
ses.update_receipt_rule(RuleSetName="inbound", Rule={"Name": "first", "Enabled": True, "Recipients": ["postmaster@example.com"]})
first = ses.describe_receipt_rule(RuleSetName="inbound", RuleName="first")["Rule"]
assert first["Enabled"] and first["Recipients"] == ["postmaster@example.com"], first
assert order() == ["notify", "first", "every-action"], order()
refused("RuleDoesNotExist", "Rule does not exist: nobody", ses.update_receipt_rule, RuleSetName="inbound", Rule={"Name": "nobody"})
ses.delete_receipt_rule(RuleSetName="inbound", RuleName="notify")
ses.delete_receipt_rule(RuleSetName="inbound", RuleName="notify")  # already gone: succeeds
refused("RuleDoesNotExist", "Rule does not exist: notify", ses.describe_receipt_rule, RuleSetName="inbound", RuleName="notify")
assert order() == ["first", "every-action"], order()

# The rule set limit: 40 in a region.
for i in range(38):
    ses.create_receipt_rule_set(RuleSetName="extra-%02d" % i)
refused("LimitExceeded", "Too many rule sets", ses.create_receipt_rule_set, RuleSetName="one-too-many")
for i in range(38):
    ses.delete_receipt_rule_set(RuleSetName="extra-%02d" % i)

# Deactivate, then everything can go.
ses.set_active_receipt_rule_set()
assert "Metadata" not in ses.describe_active_receipt_rule_set()
for name in ("inbound", "inbound-copy"):
    ses.delete_receipt_rule_set(RuleSetName=name)
ses.delete_receipt_rule_set(RuleSetName="inbound")  # deleting what is not there succeeds
assert ses.list_receipt_rule_sets()["RuleSets"] == []
for name in ("block-all", "allow-local"):
    ses.delete_receipt_filter(FilterName=name)
print("ok")
