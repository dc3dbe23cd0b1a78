package api

import (
	"context"
	"encoding/xml"
	"net/http"
	"sort"
	"strings"

	"sesame/internal/seserr"
	"sesame/internal/sns"
	"sesame/internal/store"
)

// The SNS Query API (Version 2010-03-31): requests signed for the "sns"
// service land here; the topics themselves are internal/sns's. Also the
// unsigned GETs of the SubscribeURL and UnsubscribeURL sesame mails out in
// its envelopes, and the signing certificate.

const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

type snsHandler func(ctx context.Context, c sns.Caller, q queryArgs) (any, error)

func (s *Server) registerSNS() {
	if s.cfg.SNS == nil {
		return
	}
	s.open.HandleFunc("GET "+sns.CertPath, s.cfg.SNS.ServeCert)
	s.sns = map[string]snsHandler{
		"CreateTopic":               s.snsCreateTopic,
		"DeleteTopic":               s.snsDeleteTopic,
		"ListTopics":                s.snsListTopics,
		"GetTopicAttributes":        s.snsGetTopicAttributes,
		"SetTopicAttributes":        s.snsSetTopicAttributes,
		"Subscribe":                 s.snsSubscribe,
		"ConfirmSubscription":       s.snsConfirmSubscription,
		"Unsubscribe":               s.snsUnsubscribe,
		"ListSubscriptions":         s.snsListSubscriptions,
		"ListSubscriptionsByTopic":  s.snsListSubscriptions,
		"GetSubscriptionAttributes": s.snsGetSubscriptionAttributes,
		"SetSubscriptionAttributes": s.snsSetSubscriptionAttributes,
		"Publish":                   s.snsPublish,
	}
}

// isSNSLink reports whether r is an unsigned GET of a SubscribeURL or an
// UnsubscribeURL, which SNS answers without authentication.
func (s *Server) isSNSLink(r *http.Request) bool {
	if s.cfg.SNS == nil || r.Method != http.MethodGet || r.URL.Path != "/" || r.Header.Get("Authorization") != "" {
		return false
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Signature") != "" {
		return false
	}
	a := q.Get("Action")
	return a == "ConfirmSubscription" || a == "Unsubscribe"
}

func (s *Server) serveSNSLink(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	action := q.Get("Action")
	var out any
	var err error
	if action == "ConfirmSubscription" {
		var arn string
		arn, err = s.cfg.SNS.ConfirmSubscription(r.Context(), nil, q.Get("TopicArn"), q.Get("Token"))
		out = snsSubscriptionArn{arn}
	} else {
		err = s.cfg.SNS.Unsubscribe(r.Context(), nil, q.Get("SubscriptionArn"))
	}
	// A person following the link in an email subscription's mail gets a
	// page, as SNS shows one; programs get SNS's XML.
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		switch {
		case err != nil:
			e := seserr.As(err)
			s.logAPIError(r, e)
			verifyPage(w, e.HTTPStatus, "Invalid link", "This link is not valid: "+e.Message+".")
		case action == "ConfirmSubscription":
			verifyPage(w, http.StatusOK, "Subscription confirmed!",
				"You have successfully subscribed. Your subscription's id is: "+out.(snsSubscriptionArn).SubscriptionArn)
		default:
			verifyPage(w, http.StatusOK, "Subscription removed!",
				"Your subscription has been removed. You will no longer receive notifications from this topic.")
		}
		return
	}
	if err != nil {
		s.writeSNSError(w, r, err)
		return
	}
	s.writeSNS(w, r, action, out)
}

func (s *Server) serveSNS(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.cfg.SNS == nil {
		s.writeSNSError(w, r, seserr.SNSInvalidAction(""))
		return
	}
	form, err := queryForm(r, body)
	if err != nil {
		e := seserr.As(err)
		s.writeSNSError(w, r, seserr.SNSInvalidParameterText(e.Message).Wrap(err))
		return
	}
	action := form.Get("Action")
	h, ok := s.sns[action]
	if !ok {
		s.writeSNSError(w, r, seserr.SNSInvalidAction(action))
		return
	}
	p := principal(r.Context())
	out, err := h(r.Context(), sns.Caller{AccountID: p.AccountID, Region: p.Region}, queryArgs{form})
	if err != nil {
		s.writeSNSError(w, r, err)
		return
	}
	s.writeSNS(w, r, action, out)
}

// writeSNS answers <ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata/></ActionResponse>; a nil out has no Result (as SNS
// answers DeleteTopic, Unsubscribe, SetTopicAttributes).
func (s *Server) writeSNS(w http.ResponseWriter, r *http.Request, action string, out any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	enc := xml.NewEncoder(w)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: snsNamespace}}}
	_ = enc.EncodeToken(start)
	if out != nil {
		_ = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{requestID(r.Context())}
	_ = enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(start.End())
	_ = enc.Flush()
}

// writeSNSError answers SNS's <ErrorResponse> with the error's own status
// (SNS answers NotFound with 404, AuthorizationError with 403).
func (s *Server) writeSNSError(w http.ResponseWriter, r *http.Request, err error) {
	e := seserr.As(err)
	s.writeQueryError(w, r, e, snsNamespace, e.HTTPStatus)
}

// --- result shapes ---------------------------------------------------------

type snsEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type snsAttributes struct {
	Entries []snsEntry `xml:"Attributes>entry"`
}

func attributesOf(m map[string]string) snsAttributes {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := snsAttributes{Entries: make([]snsEntry, len(keys))}
	for i, k := range keys {
		out.Entries[i] = snsEntry{k, m[k]}
	}
	return out
}

type snsSubscriptionArn struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
}

type snsTopicMember struct {
	TopicArn string `xml:"TopicArn"`
}

type snsSubscriptionMember struct {
	TopicArn        string `xml:"TopicArn"`
	Protocol        string `xml:"Protocol"`
	SubscriptionArn string `xml:"SubscriptionArn"`
	Owner           string `xml:"Owner"`
	Endpoint        string `xml:"Endpoint"`
}

// --- actions ---------------------------------------------------------------

// snsRequired returns a parameter or SNS's validation error naming the
// model's member (lower camel case, as SNS spells it).
func snsRequired(q queryArgs, name, member string) (string, error) {
	if !q.Has(name) {
		return "", seserr.SNSValidationError(member)
	}
	return q.Get(name), nil
}

func (s *Server) snsCreateTopic(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	name, err := snsRequired(q, "Name", "name")
	if err != nil {
		return nil, err
	}
	var tags []store.Tag
	for _, m := range q.Members("Tags") {
		tags = append(tags, store.Tag{Key: q.Get(m + ".Key"), Value: q.Get(m + ".Value")})
	}
	arn, err := s.cfg.SNS.CreateTopic(ctx, c, name, q.Map("Attributes"), tags)
	if err != nil {
		return nil, err
	}
	return snsTopicMember{arn}, nil
}

func (s *Server) snsDeleteTopic(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "TopicArn", "topicArn")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.SNS.DeleteTopic(ctx, c, arn)
}

func (s *Server) snsListTopics(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arns, next, err := s.cfg.SNS.ListTopics(ctx, c, q.Get("NextToken"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Topics    []snsTopicMember `xml:"Topics>member"`
		NextToken string           `xml:"NextToken,omitempty"`
	}{Topics: []snsTopicMember{}, NextToken: next}
	for _, a := range arns {
		out.Topics = append(out.Topics, snsTopicMember{a})
	}
	return out, nil
}

func (s *Server) snsGetTopicAttributes(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "TopicArn", "topicArn")
	if err != nil {
		return nil, err
	}
	attrs, err := s.cfg.SNS.TopicAttributes(ctx, c, arn)
	if err != nil {
		return nil, err
	}
	return attributesOf(attrs), nil
}

func (s *Server) snsSetTopicAttributes(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "TopicArn", "topicArn")
	if err != nil {
		return nil, err
	}
	name, err := snsRequired(q, "AttributeName", "attributeName")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.SNS.SetTopicAttribute(ctx, c, arn, name, q.Get("AttributeValue"))
}

func (s *Server) snsSubscribe(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "TopicArn", "topicArn")
	if err != nil {
		return nil, err
	}
	protocol, err := snsRequired(q, "Protocol", "protocol")
	if err != nil {
		return nil, err
	}
	ret, _, _ := q.Bool("ReturnSubscriptionArn")
	sub, err := s.cfg.SNS.Subscribe(ctx, c, arn, protocol, q.Get("Endpoint"), q.Map("Attributes"), ret)
	if err != nil {
		return nil, err
	}
	return snsSubscriptionArn{sub}, nil
}

func (s *Server) snsConfirmSubscription(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "TopicArn", "topicArn")
	if err != nil {
		return nil, err
	}
	token, err := snsRequired(q, "Token", "token")
	if err != nil {
		return nil, err
	}
	sub, err := s.cfg.SNS.ConfirmSubscription(ctx, &c, arn, token)
	if err != nil {
		return nil, err
	}
	return snsSubscriptionArn{sub}, nil
}

func (s *Server) snsUnsubscribe(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	return nil, s.cfg.SNS.Unsubscribe(ctx, &c, q.Get("SubscriptionArn"))
}

func (s *Server) snsListSubscriptions(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	topic := ""
	if q.Get("Action") == "ListSubscriptionsByTopic" {
		var err error
		if topic, err = snsRequired(q, "TopicArn", "topicArn"); err != nil {
			return nil, err
		}
	}
	subs, next, err := s.cfg.SNS.ListSubscriptions(ctx, c, topic, q.Get("NextToken"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Subscriptions []snsSubscriptionMember `xml:"Subscriptions>member"`
		NextToken     string                  `xml:"NextToken,omitempty"`
	}{Subscriptions: []snsSubscriptionMember{}, NextToken: next}
	for _, sub := range subs {
		out.Subscriptions = append(out.Subscriptions, snsSubscriptionMember{TopicArn: sub.TopicArn, Protocol: sub.Protocol,
			SubscriptionArn: sub.SubscriptionArn, Owner: sub.Owner, Endpoint: sub.Endpoint})
	}
	return out, nil
}

func (s *Server) snsGetSubscriptionAttributes(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "SubscriptionArn", "subscriptionArn")
	if err != nil {
		return nil, err
	}
	attrs, err := s.cfg.SNS.SubscriptionAttributes(ctx, c, arn)
	if err != nil {
		return nil, err
	}
	return attributesOf(attrs), nil
}

func (s *Server) snsSetSubscriptionAttributes(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	arn, err := snsRequired(q, "SubscriptionArn", "subscriptionArn")
	if err != nil {
		return nil, err
	}
	name, err := snsRequired(q, "AttributeName", "attributeName")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.SNS.SetSubscriptionAttribute(ctx, c, arn, name, q.Get("AttributeValue"))
}

func (s *Server) snsPublish(ctx context.Context, c sns.Caller, q queryArgs) (any, error) {
	if q.Has("PhoneNumber") && !q.Has("TopicArn") && !q.Has("TargetArn") {
		return nil, seserr.SNSProtocolNotDelivered("sms")
	}
	if _, err := snsRequired(q, "Message", "message"); err != nil {
		return nil, err
	}
	topic := q.Get("TopicArn")
	if topic == "" {
		topic = q.Get("TargetArn")
	}
	id, err := s.cfg.SNS.PublishMessage(ctx, c, topic, q.Get("Subject"), q.Get("Message"), q.Has("Subject"), q.Get("MessageStructure"))
	if err != nil {
		return nil, err
	}
	return struct {
		MessageID string `xml:"MessageId"`
	}{id}, nil
}
