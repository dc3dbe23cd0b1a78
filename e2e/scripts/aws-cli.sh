#!/bin/bash
# aws-cli.sh — drives sesame with Debian's AWS CLI v2 (/usr/bin/aws), as a
# user would: create an email identity, verify it by following the link
# sesame mails out, send Simple, Raw and Template mail through SESv2 and a
# v1 SendEmail, and read every message back from /_aws/ses; an SNS topic
# with an email subscription gets the v1 message's events.
#
# Environment (set by e2e/api_scripts_test.go from testenv.Server.Env):
#   SESAME_ENDPOINT  the API URL (CLI v2 2.9 ignores AWS_ENDPOINT_URL: passed as --endpoint-url)
#   AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
#   SENDER           the address identity to create and verify
#   RCPT             the recipient (the mailbox simulator: the account may be in the sandbox)
#   TAG              prefix of subjects and template names, unique per client
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
AWS=/usr/bin/aws
: "${SESAME_ENDPOINT:?}" "${SENDER:?}" "${RCPT:?}" "${TAG:?}"

aws() { "$AWS" --endpoint-url "$SESAME_ENDPOINT" --region "$AWS_REGION" --output json "$@"; }
captured() { /usr/bin/python3 "$HERE/captured.py" "$@"; }
fail() { echo "aws-cli.sh: $*" >&2; exit 1; }
step() { echo "== $*" >&2; }

step "create and verify the email identity $SENDER"
aws sesv2 create-email-identity --email-identity "$SENDER" >/dev/null
status=$(aws sesv2 get-email-identity --email-identity "$SENDER" --query VerifiedForSendingStatus --output text)
[ "$status" = "False" ] || fail "new identity VerifiedForSendingStatus=$status, want False"
link=$(captured link "$SENDER")
curl -fsS -o /dev/null "$link"
status=$(aws sesv2 get-email-identity --email-identity "$SENDER" --query VerifiedForSendingStatus --output text)
[ "$status" = "True" ] || fail "after the link VerifiedForSendingStatus=$status, want True"
aws sesv2 list-email-identities --query 'EmailIdentities[].IdentityName' --output text | grep -qF "$SENDER" ||
	fail "list-email-identities does not list $SENDER"

step "sesv2 send-email: Simple content, text + HTML, UTF-8 subject"
aws sesv2 send-email --from-email-address "$SENDER" \
	--destination "ToAddresses=$RCPT" \
	--content "{\"Simple\":{\"Subject\":{\"Data\":\"$TAG simple\",\"Charset\":\"UTF-8\"},\"Body\":{\"Text\":{\"Data\":\"text from the aws cli\"},\"Html\":{\"Data\":\"<p>html from the aws cli</p>\"}}}}" \
	--query MessageId --output text >/dev/null
captured expect "$TAG simple" "text from the aws cli"
captured expect "$TAG simple" "<p>html from the aws cli</p>"

step "sesv2 send-email: Raw content (CLI v2 takes blobs as base64)"
raw=$(printf 'From: %s\r\nTo: %s\r\nSubject: %s raw\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nraw body from the aws cli\r\n' \
	"$SENDER" "$RCPT" "$TAG" | base64 -w0)
aws sesv2 send-email --content "{\"Raw\":{\"Data\":\"$raw\"}}" --query MessageId --output text >/dev/null
captured expect "$TAG raw" "raw body from the aws cli"

step "templates: create, get, test-render, send"
aws sesv2 create-email-template --template-name "$TAG-welcome" \
	--template-content "{\"Subject\":\"$TAG template {{name}}\",\"Text\":\"Hello {{name}} from {{team.name}}\",\"Html\":\"<b>Hello {{name}}</b>\"}"
got=$(aws sesv2 get-email-template --template-name "$TAG-welcome" --query TemplateContent.Text --output text)
[ "$got" = "Hello {{name}} from {{team.name}}" ] || fail "get-email-template Text=$got"
aws sesv2 test-render-email-template --template-name "$TAG-welcome" \
	--template-data '{"name":"Ann","team":{"name":"ops"}}' --query RenderedTemplate --output text |
	grep -q "Hello Ann from ops" || fail "test-render-email-template did not render"
aws sesv2 send-email --from-email-address "$SENDER" --destination "ToAddresses=$RCPT" \
	--content "{\"Template\":{\"TemplateName\":\"$TAG-welcome\",\"TemplateData\":\"{\\\"name\\\":\\\"Ann\\\",\\\"team\\\":{\\\"name\\\":\\\"ops\\\"}}\"}}" \
	--query MessageId --output text >/dev/null
captured expect "$TAG template Ann" "Hello Ann from ops"

step "errors: an unverified sender is refused with MessageRejected"
if out=$(aws sesv2 send-email --from-email-address "nobody@unverified.invalid" --destination "ToAddresses=$RCPT" \
	--content '{"Simple":{"Subject":{"Data":"x"},"Body":{"Text":{"Data":"x"}}}}' 2>&1); then
	fail "unverified sender accepted: $out"
fi
grep -q MessageRejected <<<"$out" || fail "unverified sender: $out"
if out=$(aws sesv2 get-email-template --template-name "$TAG-missing" 2>&1); then
	fail "missing template found: $out"
fi
grep -q NotFoundException <<<"$out" || fail "missing template: $out"

step "configuration sets (CLI v2 2.9 lists with GET /v2/email/configuration-sets)"
aws sesv2 create-configuration-set --configuration-set-name "$TAG-cs"
aws sesv2 list-configuration-sets --query ConfigurationSets --output text | grep -qF "$TAG-cs" ||
	fail "list-configuration-sets does not list $TAG-cs"

step "sns: a topic, an email subscription confirmed by its link, an event destination of $TAG-cs"
topic=$(aws sns create-topic --name "$TAG-events" --query TopicArn --output text)
aws sns list-topics --query 'Topics[].TopicArn' --output text | grep -qF "$topic" || fail "list-topics does not list $topic"
aws sns subscribe --topic-arn "$topic" --protocol email --notification-endpoint "$TAG-events@example.net" >/dev/null
link=$(captured link "$TAG-events@example.net")
curl -sf "$link" >/dev/null || fail "confirming the subscription at $link"
aws sns list-subscriptions-by-topic --topic-arn "$topic" --query 'Subscriptions[0].SubscriptionArn' --output text |
	grep -q "^$topic:" || fail "the subscription is not confirmed"
aws sesv2 create-configuration-set-event-destination --configuration-set-name "$TAG-cs" --event-destination-name sns \
	--event-destination "{\"Enabled\":true,\"MatchingEventTypes\":[\"SEND\",\"DELIVERY\"],\"SnsDestination\":{\"TopicArn\":\"$topic\"}}"

step "ses (v1) send-email with $TAG-cs: the message, and its events by mail to the subscriber"
id=$(aws ses send-email --from "$SENDER" --destination "ToAddresses=$RCPT" --configuration-set-name "$TAG-cs" \
	--message "Subject={Data=$TAG v1},Body={Text={Data=v1 body from the aws cli}}" \
	--query MessageId --output text)
captured expect "$TAG v1" "v1 body from the aws cli"
captured expect "Amazon SES Email Event Notification" "\"messageId\":\"$id\""
aws ses get-send-quota --query Max24HourSend --output text >/dev/null

echo "aws-cli.sh: ok" >&2
