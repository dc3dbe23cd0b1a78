package api

import (
	"context"
	"errors"
	"net/http"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// An identity's own notification settings and its default configuration
// set. v1: SetIdentityNotificationTopic, GetIdentityNotificationAttributes,
// SetIdentityHeadersInNotificationsEnabled (SetIdentityFeedbackForwarding-
// Enabled is registered with the identities and calls setFeedbackForwarding
// here). v2: PutEmailIdentityConfigurationSetAttributes (and, in
// identities.go, PutEmailIdentityFeedbackAttributes, CreateEmailIdentity's
// and GetEmailIdentity's ConfigurationSetName).
//
// SES's rule joins them: feedback forwarding may be off only while the
// identity has both a bounce and a complaint topic. Removing either topic
// while forwarding is off turns forwarding back on, so the rule keeps
// holding (SES's console does the same).

func (s *Server) registerNotifications() {
	s.handleV2("PUT /v2/email/identities/{EmailIdentity}/configuration-set", s.putIdentityConfigurationSetV2)
	s.handleV1("SetIdentityNotificationTopic", s.setIdentityNotificationTopicV1)
	s.handleV1("GetIdentityNotificationAttributes", s.getIdentityNotificationAttributesV1)
	s.handleV1("SetIdentityHeadersInNotificationsEnabled", s.setIdentityHeadersInNotificationsEnabledV1)
}

// notificationType is v1's NotificationType: Bounce, Complaint or Delivery.
type notificationType string

func parseNotificationType(t string) (notificationType, error) {
	switch t {
	case "Bounce", "Complaint", "Delivery":
		return notificationType(t), nil
	}
	return "", seserr.InvalidNotificationType(t)
}

// topic and headers point at n's fields for type t.
func (t notificationType) topic(n *store.IdentityNotifications) *string {
	switch t {
	case "Bounce":
		return &n.BounceTopic
	case "Complaint":
		return &n.ComplaintTopic
	}
	return &n.DeliveryTopic
}

func (t notificationType) headers(n *store.IdentityNotifications) *bool {
	switch t {
	case "Bounce":
		return &n.HeadersInBounce
	case "Complaint":
		return &n.HeadersInComplaint
	}
	return &n.HeadersInDelivery
}

// --- the core ----------------------------------------------------------------

// updateNotifications changes the caller's identity's settings in one
// transaction. A missing identity is v2's NotFoundException; v1 answers
// SES's "is not verified or does not exist" (recorded).
func (s *Server) updateNotifications(ctx context.Context, name string, v1 bool, fn func(*store.IdentityNotifications) error) error {
	p := principal(ctx)
	_, err := s.cfg.Store.UpdateIdentityNotifications(ctx, p.AccountID, p.Region, name, fn)
	if errors.Is(err, store.ErrNotFound) {
		if v1 {
			return seserr.IdentityNotVerified(name)
		}
		return seserr.IdentityNotFound(name)
	}
	if err == nil && s.cfg.Verifier != nil {
		s.cfg.Verifier.Changed(p.AccountID, p.Region) // sending reads the default set with the identities
	}
	return err
}

// setFeedbackForwarding is SetIdentityFeedbackForwardingEnabled (v1) and
// PutEmailIdentityFeedbackAttributes (v2).
func (s *Server) setFeedbackForwarding(ctx context.Context, name string, enabled, v1 bool) error {
	return s.updateNotifications(ctx, name, v1, func(n *store.IdentityNotifications) error {
		if !enabled && (n.BounceTopic == "" || n.ComplaintTopic == "") {
			return seserr.FeedbackForwardingNeedsTopics(name)
		}
		n.ForwardingEnabled = enabled
		return nil
	})
}

func (s *Server) setNotificationTopic(ctx context.Context, name string, t notificationType, topic string) error {
	if topic != "" {
		ok, err := s.topicExists(ctx, topic)
		if err != nil {
			return err
		}
		if !ok {
			return seserr.InvalidSNSTopic(topic)
		}
	}
	return s.updateNotifications(ctx, name, true, func(n *store.IdentityNotifications) error {
		*t.topic(n) = topic
		if topic == "" && t != "Delivery" {
			n.ForwardingEnabled = true
		}
		return nil
	})
}

// setIdentityConfigurationSet sets (or, with "", removes) the identity's
// default configuration set, which must exist.
func (s *Server) setIdentityConfigurationSet(ctx context.Context, name, configSet string) error {
	if err := s.checkConfigurationSet(ctx, configSet); err != nil {
		return err
	}
	return s.updateNotifications(ctx, name, false, func(n *store.IdentityNotifications) error {
		n.ConfigurationSet = configSet
		return nil
	})
}

// identityConfigurationSet is the identity's default set, for GetEmailIdentity.
func (s *Server) identityConfigurationSet(ctx context.Context, name string) (string, error) {
	p := principal(ctx)
	n, err := s.cfg.Store.IdentityNotifications(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", seserr.IdentityNotFound(name)
	}
	return n.ConfigurationSet, err
}

// --- v2 -------------------------------------------------------------------

func (s *Server) putIdentityConfigurationSetV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ ConfigurationSetName string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	return nil, s.setIdentityConfigurationSet(ctx, r.PathValue("EmailIdentity"), in.ConfigurationSetName)
}

// --- v1 -------------------------------------------------------------------

// identityAndType reads the Identity and NotificationType both v1
// notification actions take.
func identityAndType(q queryArgs) (string, notificationType, error) {
	name, err := q.Required("Identity")
	if err != nil {
		return "", "", err
	}
	typ, err := q.Required("NotificationType")
	if err != nil {
		return "", "", err
	}
	t, err := parseNotificationType(typ)
	return name, t, err
}

func (s *Server) setIdentityNotificationTopicV1(ctx context.Context, q queryArgs) (any, error) {
	name, t, err := identityAndType(q)
	if err != nil {
		return nil, err
	}
	return nil, s.setNotificationTopic(ctx, name, t, q.Get("SnsTopic"))
}

func (s *Server) setIdentityHeadersInNotificationsEnabledV1(ctx context.Context, q queryArgs) (any, error) {
	name, t, err := identityAndType(q)
	if err != nil {
		return nil, err
	}
	enabled, ok, err := q.Bool("Enabled")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, seserr.MissingParameter("Enabled")
	}
	return nil, s.updateNotifications(ctx, name, true, func(n *store.IdentityNotifications) error {
		*t.headers(n) = enabled
		return nil
	})
}

// getIdentityNotificationAttributesV1 answers for the identities that
// exist; SES leaves unknown ones out of the map.
func (s *Server) getIdentityNotificationAttributesV1(ctx context.Context, q queryArgs) (any, error) {
	names := q.List("Identities")
	if len(names) == 0 && !q.Has("Identities") {
		return nil, seserr.MissingParameter("Identities")
	}
	if len(names) > 100 {
		return nil, seserr.BadRequest("At most 100 identities can be given.")
	}
	type attrs struct {
		BounceTopic                            string `xml:"BounceTopic,omitempty"`
		ComplaintTopic                         string `xml:"ComplaintTopic,omitempty"`
		DeliveryTopic                          string `xml:"DeliveryTopic,omitempty"`
		ForwardingEnabled                      bool
		HeadersInBounceNotificationsEnabled    bool
		HeadersInComplaintNotificationsEnabled bool
		HeadersInDeliveryNotificationsEnabled  bool
	}
	out := struct {
		Entries []xmlEntry[attrs] `xml:"NotificationAttributes>entry"`
	}{Entries: []xmlEntry[attrs]{}}
	p := principal(ctx)
	for _, name := range names {
		n, err := s.cfg.Store.IdentityNotifications(ctx, p.AccountID, p.Region, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Entries = append(out.Entries, xmlEntry[attrs]{Key: name, Value: attrs{
			BounceTopic: n.BounceTopic, ComplaintTopic: n.ComplaintTopic, DeliveryTopic: n.DeliveryTopic,
			ForwardingEnabled: n.ForwardingEnabled, HeadersInBounceNotificationsEnabled: n.HeadersInBounce,
			HeadersInComplaintNotificationsEnabled: n.HeadersInComplaint, HeadersInDeliveryNotificationsEnabled: n.HeadersInDelivery}})
	}
	return out, nil
}
