package api

import (
	"context"
	"net/http"

	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/spool"
)

// SES v2 shapes of the sending operations (REST-JSON; blobs are base64,
// which encoding/json decodes into []byte).
type (
	destinationV2 struct {
		ToAddresses, CcAddresses, BccAddresses []string
	}
	contentV2 struct {
		Data    *string
		Charset string
	}
	headerV2 struct {
		Name, Value string
	}
	attachmentV2 struct {
		RawContent              []byte
		FileName                string
		ContentType             string
		ContentDisposition      string
		ContentId               string
		ContentDescription      string
		ContentTransferEncoding string
	}
	simpleV2 struct {
		Subject *contentV2
		Body    *struct {
			Text, Html *contentV2
		}
		Headers     []headerV2
		Attachments []attachmentV2
	}
	templateV2 struct {
		TemplateName    string
		TemplateArn     string
		TemplateData    *string
		TemplateContent *templateContentV2
		Headers         []headerV2
		Attachments     []attachmentV2
	}
)

func (s *Server) sendEmailV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		FromEmailAddress               string
		Destination                    *destinationV2
		ReplyToAddresses               []string
		FeedbackForwardingEmailAddress string
		ConfigurationSetName           string
		EmailTags                      []messageTag
		ListManagementOptions          *listManagementV2
		// Sending authorization.
		FromEmailAddressIdentityArn               string
		FeedbackForwardingEmailAddressIdentityArn string
		Content                                   *struct {
			Simple   *simpleV2
			Raw      *struct{ Data []byte }
			Template *templateV2
		}

		sendOptionsV2
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.Content == nil {
		return nil, seserr.MissingParameter("Content")
	}
	o := &outbound{from: in.FromEmailAddress, returnPath: in.FeedbackForwardingEmailAddress,
		replyTo: in.ReplyToAddresses, configSet: in.ConfigurationSetName, tags: in.EmailTags,
		operation: "SendEmail", listMgmt: in.ListManagementOptions.spool()}
	// FromEmailAddressIdentityArn authorizes the From address and the
	// envelope sender: it overrides X-SES-SOURCE-ARN and X-SES-FROM-ARN.
	o.sourceArn, o.fromArn, o.returnPathArn = in.FromEmailAddressIdentityArn, in.FromEmailAddressIdentityArn, in.FeedbackForwardingEmailAddressIdentityArn
	if d := in.Destination; d != nil {
		o.to, o.cc, o.bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	n := 0
	if c := in.Content.Simple; c != nil {
		n++
		simple, err := c.simple()
		if err != nil {
			return nil, err
		}
		o.simple = simple
	}
	if c := in.Content.Raw; c != nil {
		n++
		if len(c.Data) == 0 {
			return nil, seserr.MissingParameter("Content.Raw.Data")
		}
		o.raw = c.Data
	}
	if c := in.Content.Template; c != nil {
		n++
		tc, err := c.content()
		if err != nil {
			return nil, err
		}
		o.template = tc
	}
	if n != 1 {
		return nil, seserr.BadRequest("Content must contain exactly one of Simple, Raw or Template.")
	}
	if o.raw == nil && o.from == "" {
		return nil, seserr.MissingParameter("FromEmailAddress")
	}
	if err := in.apply(o); err != nil {
		return nil, err
	}
	id, err := s.send(ctx, o)
	if err != nil {
		return nil, err
	}
	return map[string]string{"MessageId": id}, nil
}

func (s *Server) sendBulkEmailV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		FromEmailAddress               string
		ReplyToAddresses               []string
		FeedbackForwardingEmailAddress string
		ConfigurationSetName           string
		DefaultEmailTags               []messageTag
		// Sending authorization.
		FromEmailAddressIdentityArn               string
		FeedbackForwardingEmailAddressIdentityArn string
		DefaultContent                            *struct{ Template *templateV2 }
		BulkEmailEntries                          []struct {
			Destination             *destinationV2
			ReplacementTags         []messageTag
			ReplacementHeaders      []headerV2
			ReplacementEmailContent *struct {
				ReplacementTemplate *struct{ ReplacementTemplateData string }
			}
		}

		sendOptionsV2
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.DefaultContent == nil || in.DefaultContent.Template == nil {
		return nil, seserr.MissingParameter("DefaultContent")
	}
	tc, err := in.DefaultContent.Template.content()
	if err != nil {
		return nil, err
	}
	base := outbound{from: in.FromEmailAddress, returnPath: in.FeedbackForwardingEmailAddress,
		replyTo: in.ReplyToAddresses, configSet: in.ConfigurationSetName, tags: in.DefaultEmailTags, template: tc,
		operation: "SendBulkEmail"}
	base.sourceArn, base.fromArn, base.returnPathArn = in.FromEmailAddressIdentityArn, in.FromEmailAddressIdentityArn, in.FeedbackForwardingEmailAddressIdentityArn
	entries := make([]bulkEntry, len(in.BulkEmailEntries))
	for i, e := range in.BulkEmailEntries {
		if e.Destination != nil {
			entries[i].to, entries[i].cc, entries[i].bcc = e.Destination.ToAddresses, e.Destination.CcAddresses, e.Destination.BccAddresses
		}
		entries[i].tags = e.ReplacementTags
		entries[i].headers = headersV2(e.ReplacementHeaders)
		if c := e.ReplacementEmailContent; c != nil && c.ReplacementTemplate != nil {
			entries[i].data = c.ReplacementTemplate.ReplacementTemplateData
		}
	}
	if err := in.apply(&base); err != nil {
		return nil, err
	}
	results, err := s.sendBulk(ctx, base, entries)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BulkEmailEntryResults": results}, nil
}

// listManagementV2 is ListManagementOptions: the contact list (required)
// and topic the message is sent for.
type listManagementV2 struct {
	ContactListName string
	TopicName       string
}

// spool is the options as the spool keeps them (nil when absent); sending
// checks them (a missing ContactListName is its MissingParameter).
func (o *listManagementV2) spool() *spool.ListManagement {
	if o == nil {
		return nil
	}
	return &spool.ListManagement{ContactList: o.ContactListName, Topic: o.TopicName}
}

// simple converts v2 Simple content. SES requires a Subject and a Body;
// every part is sent as UTF-8 whatever its Charset (JSON strings are
// Unicode already).
func (c *simpleV2) simple() (*sending.Simple, error) {
	if c.Subject == nil || c.Subject.Data == nil {
		return nil, seserr.MissingParameter("Content.Simple.Subject.Data")
	}
	if c.Body == nil || (c.Body.Text == nil && c.Body.Html == nil) {
		return nil, seserr.MissingParameter("Content.Simple.Body")
	}
	m := &sending.Simple{Subject: *c.Subject.Data, Headers: headersV2(c.Headers), Attachments: attachmentsV2(c.Attachments)}
	if c.Body.Text != nil {
		m.Text = orEmpty(c.Body.Text.Data)
	}
	if c.Body.Html != nil {
		m.HTML = orEmpty(c.Body.Html.Data)
	}
	return m, nil
}

func orEmpty(p *string) *string {
	if p == nil {
		return new(string)
	}
	return p
}

// content converts v2 Template content: a stored template by name (or
// ARN) or inline TemplateContent; TemplateData defaults to "{}".
func (c *templateV2) content() (*templateContent, error) {
	tc := &templateContent{data: "{}", headers: headersV2(c.Headers), attachments: attachmentsV2(c.Attachments)}
	if c.TemplateData != nil {
		tc.data = *c.TemplateData
	}
	name := c.TemplateName
	if name == "" {
		name = arnName(c.TemplateArn)
	}
	switch {
	case c.TemplateContent != nil:
		t := c.TemplateContent
		if err := checkTemplate("inline", t.Subject, t.Text, t.Html); err != nil {
			return nil, err
		}
		tc.inline = true
		tc.t.Subject, tc.t.Text, tc.t.HTML = t.Subject, t.Text, t.Html
	case name != "":
		tc.t.Name = name
	default:
		return nil, seserr.MissingParameter("Content.Template.TemplateName")
	}
	return tc, nil
}

func headersV2(in []headerV2) []sending.Header {
	if len(in) == 0 {
		return nil
	}
	out := make([]sending.Header, len(in))
	for i, h := range in {
		out[i] = sending.Header{Name: h.Name, Value: h.Value}
	}
	return out
}

func attachmentsV2(in []attachmentV2) []sending.Attachment {
	if len(in) == 0 {
		return nil
	}
	out := make([]sending.Attachment, len(in))
	for i, a := range in {
		out[i] = sending.Attachment{Content: a.RawContent, FileName: a.FileName, ContentType: a.ContentType,
			Disposition: a.ContentDisposition, ContentID: a.ContentId, Description: a.ContentDescription,
			TransferEncoding: a.ContentTransferEncoding}
	}
	return out
}
