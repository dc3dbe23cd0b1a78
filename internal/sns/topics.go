package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// pageSize is SNS's page for ListTopics and ListSubscriptions*.
const pageSize = 100

// topicSettable are the topic attributes sesame keeps; SignatureVersion
// changes how deliveries are signed, the others are kept and returned.
var topicSettable = map[string]bool{
	"DisplayName": true, "Policy": true, "DeliveryPolicy": true, "SignatureVersion": true,
	"TracingConfig": true, "KmsMasterKeyId": true,
}

// CreateTopic creates a topic, or returns the existing one of that name
// when the attributes and tags given match it (SNS is idempotent by name).
func (s *Service) CreateTopic(ctx context.Context, c Caller, name string, attrs map[string]string, tags []store.Tag) (string, error) {
	if !validTopicName(name) {
		return "", seserr.SNSInvalidParameter("Topic Name")
	}
	keep := map[string]string{}
	for k, v := range attrs {
		switch {
		case k == "FifoTopic" && v == "false":
		case k == "FifoTopic":
			return "", seserr.SNSFifoUnsupported()
		case !topicSettable[k]:
			return "", seserr.SNSInvalidParameter("Attributes Reason: Invalid attribute name: " + k)
		default:
			if err := checkTopicAttribute(k, v); err != nil {
				return "", err
			}
			keep[k] = v
		}
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Key] {
			return "", seserr.SNSInvalidParameter("Duplicated keys are not allowed.")
		}
		seen[t.Key] = true
	}
	a := arn{region: c.Region, account: c.AccountID, name: name}
	t, existed, err := s.st.PutSNSTopicIfAbsent(ctx, store.SNSTopic{AccountID: c.AccountID, Region: c.Region, Name: name,
		Attributes: keep, Tags: tags, Created: s.clk.Now()})
	if err != nil {
		return "", internal("create topic "+name, err)
	}
	if existed {
		for k, v := range keep {
			if t.Attributes[k] != v {
				return "", seserr.SNSInvalidParameter("Attributes Reason: Topic already exists with different attributes")
			}
		}
		if len(tags) > 0 && !sameTags(tags, t.Tags) {
			return "", seserr.SNSInvalidParameter("Tags Reason: Topic already exists with different tags")
		}
	}
	return a.topic(), nil
}

func sameTags(a, b []store.Tag) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]string{}
	for _, t := range b {
		m[t.Key] = t.Value
	}
	for _, t := range a {
		if v, ok := m[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

func checkTopicAttribute(name, value string) error {
	switch name {
	case "SignatureVersion":
		if value != "1" && value != "2" {
			return seserr.SNSInvalidParameter("Attributes Reason: SignatureVersion: Invalid value [" + value + "]. Must be 1 or 2.")
		}
	case "Policy", "DeliveryPolicy", "TracingConfig":
		if name == "TracingConfig" {
			if value != "PassThrough" && value != "Active" {
				return seserr.SNSInvalidParameter("Attributes Reason: TracingConfig: Invalid value [" + value + "]. Must be PassThrough or Active.")
			}
			return nil
		}
		if value != "" && !json.Valid([]byte(value)) {
			return seserr.SNSInvalidParameter("Attributes Reason: " + name + ": failed to parse JSON.")
		}
	}
	return nil
}

// topicOf resolves a topic ARN parameter of the caller's to its stored topic.
func (s *Service) topicOf(ctx context.Context, c Caller, topicArn, action string) (arn, store.SNSTopic, error) {
	a, err := parseTopicARN(topicArn, "TopicArn")
	if err != nil {
		return arn{}, store.SNSTopic{}, err
	}
	if err := c.checkOwner(a, "TopicArn", action, topicArn); err != nil {
		return arn{}, store.SNSTopic{}, err
	}
	t, err := s.st.SNSTopic(ctx, a.account, a.region, a.name)
	if errors.Is(err, store.ErrNotFound) {
		return arn{}, store.SNSTopic{}, seserr.SNSTopicNotFound()
	}
	if err != nil {
		return arn{}, store.SNSTopic{}, internal("topic "+topicArn, err)
	}
	return a, t, nil
}

// DeleteTopic deletes a topic with its subscriptions and their queued
// messages; a topic that does not exist deletes fine (SNS).
func (s *Service) DeleteTopic(ctx context.Context, c Caller, topicArn string) error {
	a, err := parseTopicARN(topicArn, "TopicArn")
	if err != nil {
		return err
	}
	if err := c.checkOwner(a, "TopicArn", "DeleteTopic", topicArn); err != nil {
		return err
	}
	subs, err := s.st.SNSSubscriptions(ctx, a.account, a.region, a.name, "", 1<<30)
	if err != nil {
		return internal("delete topic "+topicArn, err)
	}
	if err := s.st.DeleteSNSTopic(ctx, a.account, a.region, a.name); err != nil {
		return internal("delete topic "+topicArn, err)
	}
	for _, sub := range subs {
		s.dropLane(sub.ARN, 1<<62)
	}
	return nil
}

// ListTopics returns a page of topic ARNs and the token of the next page
// ("" at the end).
func (s *Service) ListTopics(ctx context.Context, c Caller, nextToken string) ([]string, string, error) {
	after, err := decodeToken(nextToken)
	if err != nil {
		return nil, "", err
	}
	ts, err := s.st.SNSTopics(ctx, c.AccountID, c.Region, after, pageSize+1)
	if err != nil {
		return nil, "", internal("list topics", err)
	}
	next := ""
	if len(ts) > pageSize {
		ts = ts[:pageSize]
		next = encodeToken(ts[pageSize-1].Name)
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = arn{region: t.Region, account: t.AccountID, name: t.Name}.topic()
	}
	return out, next, nil
}

// TopicAttributes is GetTopicAttributes: the kept attributes with SNS's
// defaults and the subscription counts.
func (s *Service) TopicAttributes(ctx context.Context, c Caller, topicArn string) (map[string]string, error) {
	a, t, err := s.topicOf(ctx, c, topicArn, "GetTopicAttributes")
	if err != nil {
		return nil, err
	}
	subs, err := s.st.SNSSubscriptions(ctx, a.account, a.region, a.name, "", 1<<30)
	if err != nil {
		return nil, internal("topic attributes "+topicArn, err)
	}
	confirmed, pending := 0, 0
	for _, sub := range subs {
		if sub.Confirmed {
			confirmed++
		} else {
			pending++
		}
	}
	out := map[string]string{
		"DisplayName":             "",
		"EffectiveDeliveryPolicy": effectiveDeliveryPolicy,
		"Owner":                   a.account,
		"Policy":                  defaultPolicy(a),
		"SubscriptionsConfirmed":  strconv.Itoa(confirmed),
		"SubscriptionsDeleted":    "0",
		"SubscriptionsPending":    strconv.Itoa(pending),
		"TopicArn":                a.topic(),
	}
	for k, v := range t.Attributes {
		out[k] = v
	}
	return out, nil
}

// SetTopicAttribute is SetTopicAttributes (one attribute per call, as SNS).
func (s *Service) SetTopicAttribute(ctx context.Context, c Caller, topicArn, name, value string) error {
	a, t, err := s.topicOf(ctx, c, topicArn, "SetTopicAttributes")
	if err != nil {
		return err
	}
	if !topicSettable[name] {
		return seserr.SNSInvalidParameter("AttributeName")
	}
	if err := checkTopicAttribute(name, value); err != nil {
		return err
	}
	t.Attributes[name] = value
	if err := s.st.SetSNSTopicAttributes(ctx, a.account, a.region, a.name, t.Attributes); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return seserr.SNSTopicNotFound()
		}
		return internal("set topic attributes "+topicArn, err)
	}
	return nil
}

// effectiveDeliveryPolicy is what SNS reports for a topic without a
// DeliveryPolicy (sesame's own retries are longer: see Config.RetryPeriod).
const effectiveDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`

func defaultPolicy(a arn) string {
	return `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"` +
		a.topic() + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + a.account + `"}}}]}`
}

func encodeToken(after string) string { return base64.RawURLEncoding.EncodeToString([]byte(after)) }

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return "", seserr.SNSInvalidParameter("NextToken")
	}
	return string(b), nil
}
