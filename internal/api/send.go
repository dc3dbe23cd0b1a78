package api

import (
	"bytes"
	"context"
	"errors"
	"net/mail"

	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// The sending group: SendEmail and SendBulkEmail (v2); SendEmail,
// SendRawEmail, SendTemplatedEmail and SendBulkTemplatedEmail (v1). Each
// request becomes an outbound (protocol-neutral), whose message is built
// here — composed from Simple content, rendered from a template, or taken
// raw — and handed to sending.Sender.Submit, the one policy path SMTP uses
// too (identities, sandbox, quotas, recipient count, headers, paused).
//
// A template that names an attribute the data lacks does not fail the call,
// as in SES: the send is checked and counted like any other, the call
// returns a MessageId, only the message's header is spooled, marked with
// the failure (SES never delivers such a message; delivery turns it into
// the Rendering Failure event), and the failure (template name and SES's
// errorMessage) is logged at Warn.

// maxV1MessageBytes is SES v1's message size limit (v2 and SMTP: 40 MB).
const maxV1MessageBytes = 10 << 20

func (s *Server) registerSending() {
	s.handleV2("POST /v2/email/outbound-emails", s.sendEmailV2)
	s.handleV2("POST /v2/email/outbound-bulk-emails", s.sendBulkEmailV2)
	s.handleV1("SendEmail", s.sendEmailV1)
	s.handleV1("SendRawEmail", s.sendRawEmailV1)
	s.handleV1("SendTemplatedEmail", s.sendTemplatedEmailV1)
	s.handleV1("SendBulkTemplatedEmail", s.sendBulkTemplatedEmailV1)
}

// messageTag is an EmailTag (v2) / MessageTag (v1).
type messageTag struct{ Name, Value string }

// outbound is one send request, whatever the protocol.
type outbound struct {
	from       string // header From as given; may be "" only for raw content
	returnPath string // FeedbackForwardingEmailAddress / ReturnPath: the envelope sender
	to, cc     []string
	bcc        []string
	replyTo    []string
	configSet  string
	tags       []messageTag
	operation  string // SES's ses:operation: the v1 Action or the v2 operation
	maxBytes   int64
	listMgmt   *spool.ListManagement    // v2 ListManagementOptions
	tracking   sending.TrackingOverride // v2 ConfigurationOverrides.Tracking

	// The content: exactly one of these.
	simple   *sending.Simple // Subject, parts, Headers, Attachments; send adds the addresses
	raw      []byte
	template *templateContent

	rawDestinations []string // v1 SendRawEmail's Destinations

	// Sending authorization: the identity ARNs the call names (v1
	// SourceArn, FromArn, ReturnPathArn; v2 FromEmailAddressIdentityArn
	// fills the first two, FeedbackForwardingEmailAddressIdentityArn the
	// third). Each beats its X-SES-*-ARN header.
	sourceArn, fromArn, returnPathArn string
}

// templateContent is Template content: a stored template or an inline one.
type templateContent struct {
	t           store.Template // Name only (to look up) unless inline
	inline      bool
	data        string
	headers     []sending.Header
	attachments []sending.Attachment
}

// send checks, builds and submits one message and returns its MessageId.
func (s *Server) send(ctx context.Context, o *outbound) (string, error) {
	if s.cfg.Sender == nil {
		return "", seserr.TemporaryFailure().Wrap(errors.New("api: no sender configured"))
	}
	// A raw message goes as given: SES's control headers are read by
	// Submit and its Message-ID and Date overridden, as for SMTP (one path;
	// delivery removes what SES removes).
	if err := s.checkSendOptions(ctx, o); err != nil {
		return "", err
	}
	if o.template != nil && !o.template.inline {
		t, err := s.template(ctx, o.template.t.Name)
		if err != nil {
			return "", err
		}
		o.template.t = t
	}
	return s.submit(ctx, o)
}

// checkSendOptions checks what does not depend on the content: the
// configuration set and the tags.
func (s *Server) checkSendOptions(ctx context.Context, o *outbound) error {
	// Checked once before any content work (a bulk call fails as a whole);
	// sending checks it again per message, through its cache.
	if s.cfg.Sender != nil {
		p := principal(ctx)
		if err := s.cfg.Sender.CheckConfigurationSet(ctx, p.AccountID, p.Region, o.configSet); err != nil {
			return err
		}
	}
	return checkMessageTags(o.tags)
}

func checkMessageTags(tags []messageTag) error {
	for _, t := range tags {
		if err := sending.ValidateMessageTag(t.Name, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// submit builds the message (the template is loaded) and submits it.
func (s *Server) submit(ctx context.Context, o *outbound) (string, error) {
	p := principal(ctx)
	rcpts, err := envelopeRecipients(o)
	if err != nil {
		return "", err
	}
	var msg []byte
	headerFrom := o.from
	switch {
	case o.raw != nil:
		// The line-ending rule SMTP's DATA follows, one for both.
		if msg, err = s.cfg.Sender.RawContent(o.raw); err != nil {
			return "", err
		}
		if headerFrom == "" || len(rcpts) == 0 {
			hf, hr, err := rawAddresses(msg)
			if err != nil {
				return "", err
			}
			if headerFrom == "" {
				headerFrom = hf
			}
			if len(rcpts) == 0 {
				rcpts = hr
			}
		}
	case o.simple != nil, o.template != nil:
		if o.from == "" {
			return "", seserr.MissingParameter("FromEmailAddress")
		}
		content := o.simple
		if o.template != nil {
			r, err := renderTemplate(o.template.t, o.template.data)
			if err != nil {
				return "", err
			}
			if r.failure != "" {
				return s.renderingFailure(ctx, o, rcpts, r.failure)
			}
			content = &sending.Simple{Subject: r.subject, Text: r.text, HTML: r.html,
				Headers: o.template.headers, Attachments: o.template.attachments}
		}
		m := *content
		m.From, m.To, m.Cc, m.ReplyTo = o.from, o.to, o.cc, o.replyTo
		if msg, err = sending.Compose(&m); err != nil {
			return "", err
		}
	default:
		return "", seserr.BadRequest("Content must contain exactly one of Simple, Raw or Template.")
	}

	mailFrom, feedbackTo := "", ""
	switch {
	case o.returnPath != "":
		if mailFrom, err = sending.AddrSpec("ReturnPath", o.returnPath); err != nil {
			return "", err
		}
		feedbackTo = mailFrom // the call's ReturnPath beats a Return-Path header
	case headerFrom != "":
		if mailFrom, err = sending.AddrSpec("From", headerFrom); err != nil {
			return "", err
		}
	}

	d, err := s.cfg.Sender.DraftOf(msg)
	if err != nil {
		return "", err
	}
	sub := &sending.Submission{
		AccountID: p.AccountID, Region: p.Region, MailFrom: mailFrom, Recipients: rcpts,
		Draft: d, Via: spool.ViaAPI, MaxBytes: o.maxBytes, Meta: sendMeta(ctx, o, feedbackTo),
		Secure: s.secure(), APIVersion: apiVersion(ctx), Tracking: o.tracking,
	}
	o.authorization(sub)
	return s.cfg.Sender.Submit(ctx, sub)
}

// authorization puts the call's sending-authorization ARNs in sub (the
// IAM action the owner's policies are asked about is ses: and the
// operation, Meta.Operation).
func (o *outbound) authorization(sub *sending.Submission) {
	sub.SourceArn, sub.FromArn, sub.ReturnPathArn = o.sourceArn, o.fromArn, o.returnPathArn
}

// envelopeRecipients: To + Cc + Bcc (or v1 raw's Destinations), each an
// addr-spec; none for raw content means "the message's own header".
func envelopeRecipients(o *outbound) ([]string, error) {
	var out []string
	for _, list := range []struct {
		field string
		addrs []string
	}{{"To", o.to}, {"Cc", o.cc}, {"Bcc", o.bcc}, {"Destinations", o.rawDestinations}} {
		for _, a := range list.addrs {
			spec, err := sending.AddrSpec(list.field, a)
			if err != nil {
				return nil, err
			}
			out = append(out, spec)
		}
	}
	return out, nil
}

// rawAddresses reads a raw message's From (its first address) and its
// To, Cc and Bcc recipients.
func rawAddresses(msg []byte) (from string, rcpts []string, err error) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return "", nil, seserr.BadRequest("Could not parse the raw message: " + err.Error())
	}
	// An unparsable From leaves the envelope sender empty: Submit checks
	// the header itself and gives SES's exact refusal.
	if list, err := m.Header.AddressList("From"); err == nil && len(list) > 0 {
		from = list[0].Address
	}
	for _, h := range []string{"To", "Cc", "Bcc"} {
		if m.Header.Get(h) == "" {
			continue
		}
		list, err := m.Header.AddressList(h)
		if err != nil {
			return "", nil, seserr.IllegalAddressInHeader(h)
		}
		for _, a := range list {
			rcpts = append(rcpts, a.Address)
		}
	}
	return from, rcpts, nil
}

// sendMeta is what the spool keeps of a send call beside the message.
func sendMeta(ctx context.Context, o *outbound, feedbackTo string) spool.Meta {
	p := principal(ctx)
	m := spool.Meta{ConfigurationSet: o.configSet, FeedbackTo: feedbackTo, Operation: o.operation,
		SourceIP: clientIP(ctx), CallerIdentity: p.AccessKeyID, ListManagement: o.listMgmt}
	for _, t := range o.tags {
		m.Tags = append(m.Tags, spool.Tag{Name: t.Name, Value: t.Value})
	}
	if o.template != nil && !o.template.inline {
		m.Template = o.template.t.Name
	}
	return m
}

// renderingFailure is SES's answer to a template that misses an attribute:
// the send is checked and counted like any other (so an unverified sender
// or a paused account fails as usual), then it succeeds with a MessageId;
// the message (its header only) is spooled marked with the failure, never
// delivered, and becomes a Rendering Failure event.
func (s *Server) renderingFailure(ctx context.Context, o *outbound, rcpts []string, failure string) (string, error) {
	msg, err := sending.Compose(&sending.Simple{From: o.from, To: o.to, Cc: o.cc, ReplyTo: o.replyTo})
	if err != nil {
		return "", err
	}
	mailFrom := o.returnPath
	if mailFrom == "" {
		mailFrom = o.from
	}
	if mailFrom, err = sending.AddrSpec("From", mailFrom); err != nil {
		return "", err
	}
	d, err := s.cfg.Sender.DraftOf(msg)
	if err != nil {
		return "", err
	}
	p := principal(ctx)
	meta := sendMeta(ctx, o, "")
	meta.RenderingFailure = failure
	sub := &sending.Submission{AccountID: p.AccountID, Region: p.Region,
		MailFrom: mailFrom, Recipients: rcpts, Draft: d, Via: spool.ViaAPI, Meta: meta,
		Secure: s.secure(), APIVersion: apiVersion(ctx)}
	o.authorization(sub)
	id, err := s.cfg.Sender.Submit(ctx, sub)
	if err != nil {
		return "", err
	}
	s.log.Warn("api: rendering failure", "account", p.AccountID, "region", p.Region, "message_id", id,
		"template", o.template.t.Name, "error_message", failure, "configuration_set", o.configSet)
	return id, nil
}
