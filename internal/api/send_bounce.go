package api

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"sesame/internal/mailmsg"
	"sesame/internal/receiving/bounce"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// SES v1 SendBounce: bounce a message sesame received for the caller, up
// to 24 hours after it arrived, with a DSN to its envelope sender from a
// verified identity of the caller's (or one whose owner's sending
// authorization policy allows the caller ses:SendRawEmail: BounceSenderArn). Checks in
// order: the parameters, the message, its recipients, the sender.

// bounceTypes are SES's BounceType values, each with the reply code,
// status and text of SES's BounceAction presets for the same case
// (developer guide, "Bounce action"): SES documents no other mapping.
var bounceTypes = map[string]struct{ reply, status, text string }{
	"DoesNotExist":     {"550", "5.1.1", "Mailbox does not exist"},
	"MessageTooLarge":  {"552", "5.3.4", "Message too large"},
	"ExceededQuota":    {"552", "5.2.2", "Mailbox full"},
	"ContentRejected":  {"500", "5.6.1", "Message content rejected"},
	"Undefined":        {"554", "5.0.0", "Unknown failure"},
	"TemporaryFailure": {"450", "4.0.0", "Temporary failure"},
}

// dsnActions are RecipientDsnFields' Action values (RFC 3464 §2.3.3).
var dsnActions = map[string]bool{"failed": true, "delayed": true, "delivered": true, "relayed": true, "expanded": true}

// bouncedRecipient is one BouncedRecipientInfo, read.
type bouncedRecipient struct {
	recipient string
	block     mailmsg.DSNRecipient
}

func (s *Server) sendBounceV1(ctx context.Context, q queryArgs) (any, error) {
	if err := requireV1(q, "OriginalMessageId", "BounceSender", "BouncedRecipientInfoList"); err != nil {
		return nil, err
	}
	id, senderParam := q.Get("OriginalMessageId"), q.Get("BounceSender")
	sender, err := mail.ParseAddress(senderParam)
	if err != nil || sending.CheckAddress(sender.Address) != nil {
		return nil, seserr.InvalidEmailAddress(senderParam)
	}
	rcpts, err := bouncedRecipientsV1(q)
	if err != nil {
		return nil, err
	}
	req := bounce.BounceRequest{Sender: mailmsg.FormatAddress(sender), Explanation: q.Get("Explanation"), Requested: true}
	if dsn := q.Sub("MessageDsn"); len(dsn.v) > 0 {
		if req.ReportingMTA, err = dsn.Required("ReportingMta"); err != nil {
			return nil, seserr.MissingParameter("MessageDsn.ReportingMta")
		}
		if v := dsn.Get("ArrivalDate"); v != "" {
			if req.Arrival, err = parseDsnDate(v); err != nil {
				return nil, seserr.InvalidDsnDate("MessageDsn.ArrivalDate", v)
			}
		}
		req.Fields = extensionFieldsV1(dsn)
	}

	p := principal(ctx)
	m, err := s.cfg.Store.ReceivedMessage(ctx, p.AccountID, p.Region, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && s.clk.Now().Sub(m.Received) > store.ReceivedMessageRetention {
		return nil, seserr.BounceMessageNotReceived(id)
	}
	if err != nil {
		return nil, seserr.TemporaryFailure().Wrap(err)
	}
	if m.MailFrom == "" {
		return nil, seserr.BounceNullSender(id)
	}
	for _, r := range rcpts {
		if !containsFold(m.Recipients, r.recipient) {
			return nil, seserr.BounceRecipientNotReceived(r.recipient, id)
		}
		req.Details = append(req.Details, r.block)
	}
	if s.cfg.Bouncer == nil || s.cfg.Sender == nil {
		return nil, seserr.TemporaryFailure().Wrap(errors.New("api: SendBounce needs a sender and a bouncer"))
	}
	// The DSN's From gets a submission's sender check (sending
	// authorization included: another account's identity by its policy).
	if err := s.cfg.Sender.SenderAllowed(ctx, p.AccountID, p.Region, sender.Address, q.Get("BounceSenderArn"),
		"BounceSenderArn", "ses:SendBounce"); err != nil {
		return nil, err
	}

	req.AccountID, req.Region = p.AccountID, p.Region
	req.To, req.OriginalHeader, req.OriginalMessageID = m.MailFrom, m.Header, m.ID
	if req.Arrival.IsZero() {
		req.Arrival = m.Received
	}
	msgID, err := s.cfg.Bouncer.Bounce(ctx, req)
	if err != nil {
		var se *seserr.Error
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, seserr.TemporaryFailure().Wrap(err)
	}
	return struct{ MessageId string }{msgID}, nil
}

// bouncedRecipientsV1 reads BouncedRecipientInfoList: each recipient's DSN
// block from its RecipientDsnFields, else from its BounceType's preset.
func bouncedRecipientsV1(q queryArgs) ([]bouncedRecipient, error) {
	members := q.Members("BouncedRecipientInfoList")
	if len(members) == 0 {
		return nil, seserr.MissingParameter("BouncedRecipientInfoList")
	}
	var out []bouncedRecipient
	for _, name := range members {
		info := q.Sub(name)
		rcpt := info.Get("Recipient")
		if rcpt == "" {
			return nil, seserr.MissingParameter(name + ".Recipient")
		}
		if sending.CheckAddress(rcpt) != nil {
			return nil, seserr.InvalidEmailAddress(rcpt)
		}
		r := bouncedRecipient{recipient: rcpt}
		fields := info.Sub("RecipientDsnFields")
		bt := info.Get("BounceType")
		preset, known := bounceTypes[bt]
		if bt != "" && !known {
			return nil, seserr.InvalidBounceType(name+".BounceType", bt)
		}
		switch {
		case len(fields.v) > 0:
			b, err := dsnFieldsV1(name+".RecipientDsnFields", fields, rcpt)
			if err != nil {
				return nil, err
			}
			r.block = b
		case known:
			r.block = mailmsg.DSNRecipient{FinalRecipient: rcpt, Action: "failed", Status: preset.status,
				DiagnosticCode: "smtp; " + preset.reply + " " + preset.status + " " + preset.text}
		default:
			return nil, seserr.BounceTypeOrDsnFields(rcpt)
		}
		out = append(out, r)
	}
	return out, nil
}

// dsnFieldsV1 reads a RecipientDsnFields structure: Action and Status are
// required; FinalRecipient defaults to the recipient.
func dsnFieldsV1(name string, f queryArgs, rcpt string) (mailmsg.DSNRecipient, error) {
	action, err := f.Required("Action")
	if err != nil {
		return mailmsg.DSNRecipient{}, seserr.MissingParameter(name + ".Action")
	}
	if !dsnActions[action] {
		return mailmsg.DSNRecipient{}, seserr.InvalidDsnAction(name+".Action", action)
	}
	status, err := f.Required("Status")
	if err != nil {
		return mailmsg.DSNRecipient{}, seserr.MissingParameter(name + ".Status")
	}
	b := mailmsg.DSNRecipient{FinalRecipient: rcpt, Action: action, Status: status,
		RemoteMTA: f.Get("RemoteMta"), DiagnosticCode: f.Get("DiagnosticCode"), Fields: extensionFieldsV1(f)}
	if v := f.Get("FinalRecipient"); v != "" {
		b.FinalRecipient = v
	}
	if v := f.Get("LastAttemptDate"); v != "" {
		t, err := parseDsnDate(v)
		if err != nil {
			return b, seserr.InvalidDsnDate(name+".LastAttemptDate", v)
		}
		b.LastAttempt = t
	}
	return b, nil
}

// extensionFieldsV1 reads ExtensionFields (Name, Value pairs) under q.
func extensionFieldsV1(q queryArgs) []mailmsg.Field {
	var out []mailmsg.Field
	for _, m := range q.Members("ExtensionFields") {
		f := q.Sub(m)
		if name := f.Get("Name"); name != "" && isFieldName(name) {
			out = append(out, mailmsg.Field{Name: name, Value: f.Get("Value")})
		}
	}
	return out
}

// isFieldName reports whether name is a header field name (RFC 5322
// §3.6.8: printable ASCII but colon), so an extension field cannot break
// the report's syntax.
func isFieldName(name string) bool {
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// parseDsnDate reads a Query timestamp (ISO 8601, as the SDKs send it).
func parseDsnDate(v string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, v)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
