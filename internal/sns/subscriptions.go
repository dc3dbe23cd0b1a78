package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"

	"github.com/google/uuid"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// PendingConfirmation is what SNS shows for the ARN of a subscription not
// yet confirmed (ListSubscriptions); Subscribe answers pendingARN.
const (
	PendingConfirmation = "PendingConfirmation"
	pendingARN          = "pending confirmation"
)

// knownProtocols are SNS's protocols; only http and https deliver here.
var knownProtocols = map[string]bool{
	"http": true, "https": true, "email": true, "email-json": true, "sms": true, "sqs": true,
	"application": true, "lambda": true, "firehose": true,
}

// Subscription is one row of ListSubscriptions*.
type Subscription struct {
	SubscriptionArn string // PendingConfirmation while pending
	Owner           string
	Protocol        string
	Endpoint        string
	TopicArn        string
}

// Subscribe subscribes an http(s) endpoint: the subscription stays pending
// until the endpoint confirms it, and the SubscriptionConfirmation message
// is queued in the same transaction. It returns "pending confirmation"
// unless returnARN (ReturnSubscriptionArn) asks for the ARN.
func (s *Service) Subscribe(ctx context.Context, c Caller, topicArn, protocol, endpoint string, attrs map[string]string, returnARN bool) (string, error) {
	a, _, err := s.topicOf(ctx, c, topicArn, "Subscribe")
	if err != nil {
		return "", err
	}
	switch {
	case protocol == "http" || protocol == "https":
	case knownProtocols[protocol]:
		return "", seserr.SNSProtocolNotDelivered(protocol)
	default:
		return "", seserr.SNSUnsupportedProtocol(protocol)
	}
	if u, err := url.Parse(endpoint); err != nil || u.Scheme != protocol || u.Host == "" {
		return "", seserr.SNSEndpointMismatch()
	}
	keep := map[string]string{}
	for k, v := range attrs {
		switch k {
		case "RawMessageDelivery":
			if v != "true" && v != "false" {
				return "", seserr.SNSInvalidParameter("Attributes Reason: RawMessageDelivery: Invalid value [" + v + "]. Must be true or false.")
			}
			keep[k] = v
		case "DeliveryPolicy":
			keep[k] = v
		default:
			return "", seserr.SNSInvalidParameter("Attributes Reason: Invalid attribute name: " + k)
		}
	}
	now := s.clk.Now()
	sub := store.SNSSubscription{ARN: a.topic() + ":" + uuid.NewString(), AccountID: a.account, Region: a.region,
		TopicName: a.name, Protocol: protocol, Endpoint: endpoint, Token: newToken(), Attributes: keep, Created: now}
	confirm := &store.SNSDelivery{Endpoint: endpoint, Kind: "SubscriptionConfirmation", MessageID: uuid.NewString(),
		TopicARN: a.topic(), Message: "You have chosen to subscribe to the topic " + a.topic() +
			".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SignatureVersion: "1", Published: now}
	got, existed, err := s.st.SubscribeSNS(ctx, sub, confirm)
	if err != nil {
		return "", internal("subscribe "+endpoint, err)
	}
	if existed {
		for k, v := range keep {
			if got.Attributes[k] != v {
				return "", seserr.SNSInvalidParameter("Attributes Reason: Subscription already exists with different attributes")
			}
		}
	}
	s.poke()
	if got.Confirmed || returnARN {
		return got.ARN, nil
	}
	return pendingARN, nil
}

// newToken is a confirmation token: 128 hex digits, like SNS's.
func newToken() string {
	b := make([]byte, 64)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ConfirmSubscription confirms the subscription a token was sent for. c is
// nil for the unsigned GET of a SubscribeURL (SNS lets anyone holding the
// token confirm); a signed call must come from the topic's region.
func (s *Service) ConfirmSubscription(ctx context.Context, c *Caller, topicArn, token string) (string, error) {
	a, err := parseTopicARN(topicArn, "Topic")
	if err != nil {
		return "", seserr.SNSInvalidParameter("Topic")
	}
	if c != nil && a.region != c.Region {
		return "", seserr.SNSInvalidParameter("Topic")
	}
	if token == "" {
		return "", seserr.SNSInvalidParameter("Token")
	}
	sub, err := s.st.SNSSubscriptionByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return "", seserr.SNSInvalidParameter("Token")
	}
	if err != nil {
		return "", internal("confirm subscription", err)
	}
	if sub.AccountID != a.account || sub.Region != a.region || sub.TopicName != a.name {
		return "", seserr.SNSInvalidParameter("Token")
	}
	if !sub.Confirmed {
		if err := s.st.ConfirmSNSSubscription(ctx, sub.ARN, c != nil); err != nil {
			return "", internal("confirm subscription "+sub.ARN, err)
		}
		s.log.Info("sns: subscription confirmed", "subscription", sub.ARN, "endpoint", sub.Endpoint)
	}
	return sub.ARN, nil
}

// Unsubscribe deletes a subscription and drops its queued messages; an
// unknown subscription unsubscribes fine (SNS). c is nil for the unsigned
// GET of an UnsubscribeURL.
func (s *Service) Unsubscribe(ctx context.Context, c *Caller, subArn string) error {
	a, err := parseSubscriptionARN(subArn)
	if err != nil {
		return err
	}
	if c != nil {
		if err := c.checkOwner(a, "SubscriptionArn", "Unsubscribe", subArn); err != nil {
			return err
		}
	}
	if err := s.st.DeleteSNSSubscription(ctx, subArn); err != nil {
		return internal("unsubscribe "+subArn, err)
	}
	s.dropLane(subArn)
	return nil
}

// ListSubscriptions lists the caller's subscriptions; topicArn "" lists
// every topic's (ListSubscriptions), else one topic's, which must exist
// (ListSubscriptionsByTopic).
func (s *Service) ListSubscriptions(ctx context.Context, c Caller, topicArn, nextToken string) ([]Subscription, string, error) {
	topic := ""
	if topicArn != "" {
		a, _, err := s.topicOf(ctx, c, topicArn, "ListSubscriptionsByTopic")
		if err != nil {
			return nil, "", err
		}
		topic = a.name
	}
	after, err := decodeToken(nextToken)
	if err != nil {
		return nil, "", err
	}
	subs, err := s.st.SNSSubscriptions(ctx, c.AccountID, c.Region, topic, after, pageSize+1)
	if err != nil {
		return nil, "", internal("list subscriptions", err)
	}
	next := ""
	if len(subs) > pageSize {
		subs = subs[:pageSize]
		next = encodeToken(subs[pageSize-1].ARN)
	}
	out := make([]Subscription, len(subs))
	for i, sub := range subs {
		a := arn{region: sub.Region, account: sub.AccountID, name: sub.TopicName}
		out[i] = Subscription{SubscriptionArn: sub.ARN, Owner: sub.AccountID, Protocol: sub.Protocol,
			Endpoint: sub.Endpoint, TopicArn: a.topic()}
		if !sub.Confirmed {
			out[i].SubscriptionArn = PendingConfirmation
		}
	}
	return out, next, nil
}

// SubscriptionAttributes is GetSubscriptionAttributes.
func (s *Service) SubscriptionAttributes(ctx context.Context, c Caller, subArn string) (map[string]string, error) {
	a, err := parseSubscriptionARN(subArn)
	if err != nil {
		return nil, err
	}
	if err := c.checkOwner(a, "SubscriptionArn", "GetSubscriptionAttributes", subArn); err != nil {
		return nil, err
	}
	sub, err := s.st.SNSSubscription(ctx, subArn)
	if errors.Is(err, store.ErrNotFound) {
		return nil, seserr.SNSSubscriptionNotFound()
	}
	if err != nil {
		return nil, internal("subscription "+subArn, err)
	}
	out := map[string]string{
		"ConfirmationWasAuthenticated": boolString(sub.Authenticated),
		"EffectiveDeliveryPolicy":      effectiveDeliveryPolicy,
		"Endpoint":                     sub.Endpoint,
		"Owner":                        sub.AccountID,
		"PendingConfirmation":          boolString(!sub.Confirmed),
		"Protocol":                     sub.Protocol,
		"RawMessageDelivery":           "false",
		"SubscriptionArn":              sub.ARN,
		"TopicArn":                     a.topic(),
	}
	for k, v := range sub.Attributes {
		out[k] = v
	}
	return out, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
