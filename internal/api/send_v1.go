package api

import (
	"context"
	"encoding/base64"
	"strings"

	"sesame/internal/sending"
	"sesame/internal/seserr"
)

// SES v1 (Query) sending actions. v1 limits a message to 10 MB.

// sendResultV1 is the Result of SendEmail, SendRawEmail and SendTemplatedEmail.
type sendResultV1 struct {
	MessageId string
}

// commonV1 reads the parameters the v1 send actions share.
func commonV1(q queryArgs) *outbound {
	o := &outbound{
		from:       q.Get("Source"),
		returnPath: q.Get("ReturnPath"),
		to:         q.List("Destination.ToAddresses"),
		cc:         q.List("Destination.CcAddresses"),
		bcc:        q.List("Destination.BccAddresses"),
		replyTo:    q.List("ReplyToAddresses"),
		configSet:  q.Get("ConfigurationSetName"),
		tags:       tagsV1(q, "Tags"),
		maxBytes:   maxV1MessageBytes,
		operation:  q.Get("Action"),
		// FromArn is SendRawEmail's only; the others do not have it.
		sourceArn: q.Get("SourceArn"), fromArn: q.Get("FromArn"), returnPathArn: q.Get("ReturnPathArn"),
	}
	return o
}

func tagsV1(q queryArgs, list string) []messageTag {
	var out []messageTag
	for _, m := range q.Members(list) {
		sub := q.Sub(m)
		out = append(out, messageTag{Name: sub.Get("Name"), Value: sub.Get("Value")})
	}
	return out
}

func (s *Server) sendEmailV1(ctx context.Context, q queryArgs) (any, error) {
	if _, err := q.Required("Source"); err != nil {
		return nil, err
	}
	subject, err := q.Required("Message.Subject.Data")
	if err != nil {
		return nil, err
	}
	o := commonV1(q)
	o.simple = &sending.Simple{Subject: subject,
		Text: optional(q, "Message.Body.Text.Data"), HTML: optional(q, "Message.Body.Html.Data")}
	if o.simple.Text == nil && o.simple.HTML == nil {
		return nil, seserr.MissingParameter("Message.Body")
	}
	id, err := s.send(ctx, o)
	if err != nil {
		return nil, err
	}
	return sendResultV1{id}, nil
}

func (s *Server) sendRawEmailV1(ctx context.Context, q queryArgs) (any, error) {
	data, err := q.Required("RawMessage.Data")
	if err != nil {
		return nil, err
	}
	o := commonV1(q)
	o.raw = decodeRawV1(data)
	if len(o.raw) == 0 {
		return nil, seserr.MissingParameter("RawMessage.Data")
	}
	o.rawDestinations = q.List("Destinations")
	id, err := s.send(ctx, o)
	if err != nil {
		return nil, err
	}
	return sendResultV1{id}, nil
}

// decodeRawV1 decodes RawMessage.Data, a base64 blob. A message that is not
// base64 (a hand-made request sending the MIME text itself) is taken as it
// is: MIME text is never valid base64 (it has ':' and spaces).
func decodeRawV1(data string) []byte {
	clean := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, data)
	if b, err := base64.StdEncoding.DecodeString(clean); err == nil {
		return b
	}
	return []byte(data)
}

func (s *Server) sendTemplatedEmailV1(ctx context.Context, q queryArgs) (any, error) {
	if _, err := q.Required("Source"); err != nil {
		return nil, err
	}
	name := q.Get("Template")
	if name == "" {
		name = arnName(q.Get("TemplateArn"))
	}
	if name == "" {
		return nil, seserr.MissingParameter("Template")
	}
	data, err := q.Required("TemplateData")
	if err != nil {
		return nil, err
	}
	o := commonV1(q)
	o.template = &templateContent{data: data}
	o.template.t.Name = name
	id, err := s.send(ctx, o)
	if err != nil {
		return nil, err
	}
	return sendResultV1{id}, nil
}

func (s *Server) sendBulkTemplatedEmailV1(ctx context.Context, q queryArgs) (any, error) {
	if _, err := q.Required("Source"); err != nil {
		return nil, err
	}
	name := q.Get("Template")
	if name == "" {
		name = arnName(q.Get("TemplateArn"))
	}
	if name == "" {
		return nil, seserr.MissingParameter("Template")
	}
	base := *commonV1(q)
	base.tags = tagsV1(q, "DefaultTags")
	base.template = &templateContent{data: q.Get("DefaultTemplateData")}
	base.template.t.Name = name
	if base.template.data == "" {
		base.template.data = "{}"
	}
	var entries []bulkEntry
	for _, m := range q.Members("Destinations") {
		d := q.Sub(m)
		entries = append(entries, bulkEntry{
			to:   d.List("Destination.ToAddresses"),
			cc:   d.List("Destination.CcAddresses"),
			bcc:  d.List("Destination.BccAddresses"),
			tags: tagsV1(d, "ReplacementTags"),
			data: d.Get("ReplacementTemplateData"),
		})
	}
	results, err := s.sendBulk(ctx, base, entries)
	if err != nil {
		return nil, err
	}
	type statusV1 struct {
		Status    string
		Error     string `xml:",omitempty"`
		MessageId string `xml:",omitempty"`
	}
	out := struct {
		Status []statusV1 `xml:"Status>member"`
	}{}
	for _, r := range results {
		out.Status = append(out.Status, statusV1{v1Status(r.Status), r.Error, r.MessageID})
	}
	return out, nil
}

// arnName is the name at the end of a resource ARN (…:template/NAME).
func arnName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}
