package events

import "strings"

// Notification is an identity notification (SetIdentityNotificationTopic):
// notificationType Bounce, Complaint or Delivery, the mail object without
// tags (with sourceIp and callerIdentity, headers only on request), and
// bounce/delivery with remoteMtaIp.
type Notification struct {
	NotificationType string           `json:"notificationType"`
	Mail             NotificationMail `json:"mail"`
	Bounce           *Bounce          `json:"bounce,omitempty"`
	Complaint        *Complaint       `json:"complaint,omitempty"`
	Delivery         *Delivery        `json:"delivery,omitempty"`
}

// NotificationMail is the mail object of an identity notification.
type NotificationMail struct {
	Timestamp        Time     `json:"timestamp"`
	Source           string   `json:"source"`
	SourceArn        string   `json:"sourceArn,omitempty"`
	SourceIP         string   `json:"sourceIp,omitempty"`
	CallerIdentity   string   `json:"callerIdentity,omitempty"`
	SendingAccountID string   `json:"sendingAccountId"`
	MessageID        string   `json:"messageId"`
	Destination      []string `json:"destination"`
	// The three header keys are present only when the identity includes
	// headers in its notifications (SetIdentityHeadersInNotificationsEnabled).
	HeadersTruncated *bool          `json:"headersTruncated,omitempty"`
	Headers          []Header       `json:"headers,omitzero"`
	CommonHeaders    *CommonHeaders `json:"commonHeaders,omitempty"`
}

// Notification is the identity notification SES sends for the record, with
// the original headers when includeHeaders. ok=false for event types that
// have no identity notification (only Bounce, Complaint and Delivery do).
//
// mail.sourceIp and mail.callerIdentity come from Mail.SourceIP and
// Mail.CallerIdentity, else from the tags ses:source-ip and
// ses:caller-identity; commonHeaders.messageId is the message's own
// Message-ID (Mail.OriginalMessageID, else the Message-ID among the listed
// headers), absent when it had none.
func (r Record) Notification(includeHeaders bool) (n Notification, ok bool) {
	switch r.EventType {
	case TypeBounce:
		if r.Bounce == nil {
			return Notification{}, false
		}
		b := *r.Bounce
		n.Bounce = &b
	case TypeComplaint:
		if r.Complaint == nil {
			return Notification{}, false
		}
		c := *r.Complaint
		n.Complaint = &c
	case TypeDelivery:
		if r.Delivery == nil {
			return Notification{}, false
		}
		d := *r.Delivery
		n.Delivery = &d
	default:
		return Notification{}, false
	}
	n.NotificationType = r.EventType
	m := r.Mail
	n.Mail = NotificationMail{
		Timestamp:        m.Timestamp,
		Source:           m.Source,
		SourceArn:        m.SourceArn,
		SourceIP:         firstNonEmpty(m.SourceIP, firstTag(m.Tags, "ses:source-ip")),
		CallerIdentity:   firstNonEmpty(m.CallerIdentity, firstTag(m.Tags, "ses:caller-identity")),
		SendingAccountID: m.SendingAccountID,
		MessageID:        m.MessageID,
		Destination:      m.Destination,
	}
	if n.Mail.Destination == nil {
		n.Mail.Destination = []string{}
	}
	if includeHeaders {
		truncated := m.HeadersTruncated
		n.Mail.HeadersTruncated = &truncated
		n.Mail.Headers = m.Headers
		if n.Mail.Headers == nil {
			n.Mail.Headers = []Header{}
		}
		var common CommonHeaders
		if m.CommonHeaders != nil {
			common = *m.CommonHeaders
		}
		common.MessageID = firstNonEmpty(m.OriginalMessageID, headerValue(m.Headers, "Message-ID"))
		n.Mail.CommonHeaders = &common
	}
	return n, true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstTag(tags map[string][]string, name string) string {
	if v := tags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func headerValue(hs []Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
