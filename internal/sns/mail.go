package sns

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"sesame/internal/mailmsg"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Mail for email and email-json subscriptions: SNS's subjects and wording,
// sent through sesame itself so it is spooled, delivered (or captured) and
// retried like any message.

// Mailer submits mail sesame sends on its own (*sending.Sender).
type Mailer interface {
	SubmitSystem(ctx context.Context, m sending.SystemMessage) (string, error)
}

const (
	// DefaultDisplayName is the sender's name when the topic has no
	// DisplayName, as SNS's mail shows it.
	DefaultDisplayName = "AWS Notifications"
	// ConfirmationSubject and NotificationSubject are SNS's subjects: of the
	// confirmation request, and of a notification published without one.
	ConfirmationSubject = "AWS Notification - Subscription Confirmation"
	NotificationSubject = "AWS Notification Message"
)

// mail submits a prepared message to its subscriber's address. A refusal
// the sender calls permanent drops it (among them an account whose sending
// is suspended or paused: a topic is no way around that); anything else is
// retried.
func (s *Service) mail(ctx context.Context, p *pending, msg []byte) outcome {
	a, err := parseTopicARN(p.TopicARN, "TopicArn")
	if err != nil {
		return outcome{drop: true, reason: err.Error()}
	}
	_, err = s.cfg.Mailer.SubmitSystem(ctx, sending.SystemMessage{AccountID: a.account, Region: a.region,
		MailFrom: s.cfg.MailFrom, Recipients: []string{p.Endpoint}, Message: msg, Requested: true})
	if err == nil {
		return outcome{ok: true}
	}
	if e := seserr.As(err); e.HTTPStatus >= 400 && e.HTTPStatus < 500 {
		return outcome{drop: true, reason: err.Error()}
	}
	return outcome{reason: err.Error()}
}

// composeMail builds the mail for a row of an email or email-json
// subscription: the sender named by the topic's DisplayName, SNS's subject,
// and as body the text (email) or the signed JSON document (email-json).
func (s *Service) composeMail(ctx context.Context, d *store.SNSDelivery) ([]byte, error) {
	if s.cfg.Mailer == nil {
		return nil, errors.New("sns: no mailer for email subscriptions")
	}
	a, err := parseTopicARN(d.TopicARN, "TopicArn")
	if err != nil {
		return nil, err
	}
	name := DefaultDisplayName
	if t, err := s.st.SNSTopic(ctx, a.account, a.region, a.name); err == nil && t.Attributes["DisplayName"] != "" {
		name = t.Attributes["DisplayName"]
	}
	m := Mail{FromName: name, From: s.cfg.MailFrom, To: d.Endpoint}
	subscribeURL := s.cfg.BaseURL + "/?Action=ConfirmSubscription&TopicArn=" + d.TopicARN + "&Token=" + d.Token
	unsubscribeURL := s.cfg.BaseURL + "/?Action=Unsubscribe&SubscriptionArn=" + d.SubscriptionARN
	switch d.Kind {
	case "Notification":
		m.Subject = d.Subject
		if m.Subject == "" {
			m.Subject = NotificationSubject
		}
		m.Unsubscribe = unsubscribeURL
	default:
		m.Subject = ConfirmationSubject
	}
	switch {
	case d.Protocol == "email-json":
		b, err := s.envelope(d)
		if err != nil {
			return nil, err
		}
		m.Body = string(b)
	case d.Kind == "Notification":
		m.Body = d.Message + "\n\n--\n" +
			"If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n" +
			unsubscribeURL + "\n\n" +
			"Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact the sender of the notification.\n"
	default:
		m.Body = "You have chosen to subscribe to the topic:\n" + d.TopicARN + "\n\n" +
			"To confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n" +
			subscribeURL + "\n\n" +
			"Please do not reply directly to this email.\n"
	}
	return m.Bytes(), nil
}

// Mail is one plain-text mail of SNS's; Bytes composes it.
type Mail struct {
	FromName, From, To string
	Subject            string
	Body               string // text with \n line ends
	// Unsubscribe is the List-Unsubscribe URL ("" = none).
	Unsubscribe string
}

// Bytes is the RFC 5322 message with CRLF line ends, without Message-ID and
// Date (SubmitSystem adds them): UTF-8 text, quoted-printable so long lines
// (a JSON document is one) stay within the line limit.
func (m Mail) Bytes() []byte {
	msg := mailmsg.Text("text/plain", strings.ReplaceAll(m.Body, "\r\n", "\n"))
	msg.Header = append([]mailmsg.Field{
		{Name: "From", Value: mailmsg.FormatAddress(&mail.Address{Name: m.FromName, Address: m.From})},
		{Name: "To", Value: m.To},
		{Name: "Subject", Value: mailmsg.EncodeText(m.Subject)},
		{Name: "MIME-Version", Value: "1.0"},
	}, msg.Header...)
	msg.Header = append(msg.Header, mailmsg.Field{Name: "Auto-Submitted", Value: "auto-generated"})
	if m.Unsubscribe != "" {
		msg.Header = append(msg.Header, mailmsg.Field{Name: "List-Unsubscribe", Value: "<" + m.Unsubscribe + ">"})
	}
	return msg.Bytes()
}
