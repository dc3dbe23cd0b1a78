package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/mail"
	"net/url"
	"strings"
	"time"

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

// knownProtocols are SNS's protocols; http, https, email, email-json and
// sqs deliver here.
var knownProtocols = map[string]bool{
	"http": true, "https": true, "email": true, "email-json": true, "sms": true, "sqs": true,
	"application": true, "lambda": true, "firehose": true,
}

// rawProtocols may set RawMessageDelivery.
var rawProtocols = map[string]bool{"http": true, "https": true, "sqs": true}

// Subscription is one row of ListSubscriptions*.
type Subscription struct {
	SubscriptionArn string // PendingConfirmation while pending
	Owner           string
	Protocol        string
	Endpoint        string
	TopicArn        string
}

// Subscribe subscribes an endpoint. An http(s), email or email-json
// subscription stays pending until the endpoint confirms it, and its
// SubscriptionConfirmation (a POST or a mail) is queued in the same
// transaction; an sqs subscription to a queue of the topic's own account is
// confirmed at once (SNS's rule), another account's queue gets the
// confirmation as a message. It returns "pending confirmation" unless the
// subscription is confirmed or returnARN (ReturnSubscriptionArn) asks for
// the ARN.
func (s *Service) Subscribe(ctx context.Context, c Caller, topicArn, protocol, endpoint string, attrs map[string]string, returnARN bool) (string, error) {
	a, _, err := s.topicOf(ctx, c, topicArn, "Subscribe")
	if err != nil {
		return "", err
	}
	confirmed := false
	switch {
	case protocol == "http" || protocol == "https":
		if u, err := url.Parse(endpoint); err != nil || u.Scheme != protocol || u.Host == "" {
			return "", seserr.SNSEndpointMismatch()
		}
	case protocol == "email" || protocol == "email-json":
		if s.cfg.Mailer == nil {
			return "", seserr.SNSProtocolNotDelivered(protocol)
		}
		if !validEmail(endpoint) {
			return "", seserr.SNSInvalidParameter("Email address")
		}
	case protocol == "sqs":
		q, err := parseQueueARN(endpoint)
		if err != nil {
			return "", err
		}
		if s.queues == nil {
			return "", seserr.SNSNoSQSEndpoint()
		}
		confirmed = q.account == a.account
	case knownProtocols[protocol]:
		return "", seserr.SNSProtocolNotDelivered(protocol)
	default:
		return "", seserr.SNSUnsupportedProtocol(protocol)
	}
	keep := map[string]string{}
	for k, v := range attrs {
		v, err := checkSubscriptionAttribute(protocol, k, v, "Attributes Reason: ")
		if err != nil {
			return "", err
		}
		keep[k] = v
	}
	now := s.clk.Now()
	sub := store.SNSSubscription{ARN: a.topic() + ":" + uuid.NewString(), AccountID: a.account, Region: a.region,
		TopicName: a.name, Protocol: protocol, Endpoint: endpoint, Token: newToken(), Attributes: keep, Created: now,
		Confirmed: confirmed}
	confirm := &store.SNSDelivery{Endpoint: endpoint, Protocol: protocol, Kind: "SubscriptionConfirmation",
		MessageID: uuid.NewString(), TopicARN: a.topic(), Message: "You have chosen to subscribe to the topic " + a.topic() +
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

// checkSubscriptionAttribute validates a settable subscription attribute
// and returns the value to keep; reason prefixes SNS's text ("Attributes
// Reason: " in Subscribe, nothing in SetSubscriptionAttributes).
func checkSubscriptionAttribute(protocol, name, value, reason string) (string, error) {
	switch name {
	case "RawMessageDelivery":
		if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
			return "", seserr.SNSInvalidParameter(reason + "RawMessageDelivery: Invalid value [" + value + "]. Must be true or false.")
		}
		value = strings.ToLower(value)
		if value == "true" && !rawProtocols[protocol] {
			return "", seserr.SNSInvalidParameter(reason + "Delivery protocol [" + protocol + "] does not support raw message delivery.")
		}
		return value, nil
	case "DeliveryPolicy":
		if value != "" && !json.Valid([]byte(value)) {
			return "", seserr.SNSInvalidParameter(reason + "DeliveryPolicy: failed to parse JSON.")
		}
		return value, nil
	}
	if reason == "" {
		return "", seserr.SNSInvalidParameter("AttributeName")
	}
	return "", seserr.SNSInvalidParameter(reason + "Invalid attribute name: " + name)
}

// SetSubscriptionAttribute is SetSubscriptionAttributes (one attribute per
// call, as SNS): RawMessageDelivery or DeliveryPolicy. It applies to
// messages published after it.
func (s *Service) SetSubscriptionAttribute(ctx context.Context, c Caller, subArn, name, value string) error {
	a, err := parseSubscriptionARN(subArn)
	if err != nil {
		return err
	}
	if err := c.checkOwner(a, "SubscriptionArn", "SetSubscriptionAttributes", subArn); err != nil {
		return err
	}
	sub, err := s.st.SNSSubscription(ctx, subArn)
	if errors.Is(err, store.ErrNotFound) {
		return seserr.SNSSubscriptionNotFound()
	}
	if err != nil {
		return internal("subscription "+subArn, err)
	}
	v, err := checkSubscriptionAttribute(sub.Protocol, name, value, "")
	if err != nil {
		return err
	}
	sub.Attributes[name] = v
	if err := s.st.SetSNSSubscriptionAttributes(ctx, subArn, sub.Attributes); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return seserr.SNSSubscriptionNotFound()
		}
		return internal("set subscription attributes "+subArn, err)
	}
	return nil
}

// validEmail: one bare address (SNS takes no display name).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Count(s, "@") == 1 && len(s) <= 254
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
		return s.restore(ctx, a, token)
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

// restoreWindow is how long the token of an UnsubscribeConfirmation can
// bring its subscription back (SNS's tokens last three days).
const restoreWindow = 72 * time.Hour

// restore re-creates, confirmed, the subscription an UnsubscribeConfirmation
// offered to restore with token.
func (s *Service) restore(ctx context.Context, a arn, token string) (string, error) {
	sub, err := s.st.RestoreSNSSubscription(ctx, token, s.clk.Now().Add(-restoreWindow))
	if errors.Is(err, store.ErrNotFound) {
		return "", seserr.SNSInvalidParameter("Token")
	}
	if err != nil {
		return "", internal("confirm subscription", err)
	}
	if sub.AccountID != a.account || sub.Region != a.region || sub.TopicName != a.name {
		return "", seserr.SNSInvalidParameter("Token")
	}
	s.log.Info("sns: subscription restored", "subscription", sub.ARN, "endpoint", sub.Endpoint)
	return sub.ARN, nil
}

// Unsubscribe deletes a subscription and drops its queued messages; an
// unknown subscription unsubscribes fine (SNS). c is nil for the unsigned
// GET of an UnsubscribeURL. A confirmed http(s) subscriber is then sent an
// UnsubscribeConfirmation whose SubscribeURL (or Token) restores the
// subscription for three days, as SNS does.
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
	sub, err := s.st.SNSSubscription(ctx, subArn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return internal("unsubscribe "+subArn, err)
	}
	now := s.clk.Now()
	var farewell *store.SNSDelivery
	if sub.Confirmed && (sub.Protocol == "http" || sub.Protocol == "https") {
		farewell = &store.SNSDelivery{Endpoint: sub.Endpoint, Protocol: sub.Protocol, Kind: "UnsubscribeConfirmation",
			MessageID: uuid.NewString(), TopicARN: a.topic(), Token: newToken(),
			Message: "You have chosen to deactivate subscription " + sub.ARN +
				".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
			SignatureVersion: "1", Published: now}
	}
	if err := s.st.UnsubscribeSNS(ctx, sub, farewell, now, now.Add(-restoreWindow)); err != nil {
		return internal("unsubscribe "+subArn, err)
	}
	before := int64(1 << 62)
	if farewell != nil {
		before = farewell.Seq
	}
	s.dropLane(subArn, before)
	s.poke()
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
