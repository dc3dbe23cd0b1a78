package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"sesame/internal/listmgmt"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/template"
)

// The templates group: Create/Get/List/Update/DeleteEmailTemplate and
// TestRenderEmailTemplate (v2); Create/Get/List/Update/DeleteTemplate and
// TestRenderTemplate (v1). Both protocols call the core functions at the
// bottom; rendering for sends lives in send.go.

// SES's template limits.
const (
	maxTemplateBytes     = 500 << 10 // subject + text + html
	maxTemplatesInRegion = 10_000
	maxTemplateName      = 64
	maxTemplateDataChars = 262_144
	defaultTemplatePage  = 10
	maxTemplatePage      = 100
)

func (s *Server) registerTemplates() {
	s.handleV2("POST /v2/email/templates", s.createTemplateV2)
	s.handleV2("GET /v2/email/templates", s.listTemplatesV2)
	s.handleV2("GET /v2/email/templates/{TemplateName}", s.getTemplateV2)
	s.handleV2("PUT /v2/email/templates/{TemplateName}", s.updateTemplateV2)
	s.handleV2("DELETE /v2/email/templates/{TemplateName}", s.deleteTemplateV2)
	s.handleV2("POST /v2/email/templates/{TemplateName}/render", s.testRenderTemplateV2)
	s.handleV1("CreateTemplate", s.createTemplateV1)
	s.handleV1("UpdateTemplate", s.updateTemplateV1)
	s.handleV1("GetTemplate", s.getTemplateV1)
	s.handleV1("ListTemplates", s.listTemplatesV1)
	s.handleV1("DeleteTemplate", s.deleteTemplateV1)
	s.handleV1("TestRenderTemplate", s.testRenderTemplateV1)
}

// --- v2 ------------------------------------------------------------------

// templateContentV2 is v2's EmailTemplateContent.
type templateContentV2 struct {
	Subject *string `json:",omitempty"`
	Text    *string `json:",omitempty"`
	Html    *string `json:",omitempty"`
}

func (s *Server) createTemplateV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		TemplateName    string
		TemplateContent *templateContentV2
		Tags            []store.Tag
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.TemplateContent == nil {
		return nil, seserr.MissingParameter("TemplateContent")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	c := in.TemplateContent
	if err := s.createTemplate(ctx, in.TemplateName, c.Subject, c.Text, c.Html); err != nil {
		return nil, err
	}
	return nil, s.setCreatedTags(ctx, store.ResourceTemplate, in.TemplateName, in.Tags)
}

func (s *Server) updateTemplateV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ TemplateContent *templateContentV2 }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.TemplateContent == nil {
		return nil, seserr.MissingParameter("TemplateContent")
	}
	c := in.TemplateContent
	return nil, s.updateTemplate(ctx, r.PathValue("TemplateName"), c.Subject, c.Text, c.Html)
}

func (s *Server) getTemplateV2(ctx context.Context, r *http.Request) (any, error) {
	t, err := s.template(ctx, r.PathValue("TemplateName"))
	if err != nil {
		return nil, err
	}
	tags, err := s.resourceTags(ctx, store.ResourceTemplate, t.Name)
	if errors.Is(err, store.ErrNotFound) { // deleted since it was read
		return nil, seserr.TemplateDoesNotExist(t.Name)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"TemplateName":    t.Name,
		"TemplateContent": templateContentV2{Subject: t.Subject, Text: t.Text, Html: t.HTML},
		"Tags":            tags,
	}, nil
}

func (s *Server) listTemplatesV2(ctx context.Context, r *http.Request) (any, error) {
	size, given, err := queryInt(r, "PageSize")
	if err != nil {
		return nil, err
	}
	// v2 refuses a PageSize outside 1–100, as its other lists do; v1's
	// MaxItems is lenient (SES's reference: more than 100 is read as 100).
	if given && (size < 1 || size > maxTemplatePage) {
		return nil, seserr.PageSizeOutOfRange(maxTemplatePage)
	}
	list, next, err := s.listTemplates(ctx, r.URL.Query().Get("NextToken"), size)
	if err != nil {
		return nil, err
	}
	type meta struct {
		TemplateName     string
		CreatedTimestamp epochTime
	}
	out := struct {
		TemplatesMetadata []meta
		NextToken         string `json:",omitempty"`
	}{TemplatesMetadata: []meta{}, NextToken: next}
	for _, m := range list {
		out.TemplatesMetadata = append(out.TemplatesMetadata, meta{m.Name, epochTime(m.Created)})
	}
	return out, nil
}

func (s *Server) deleteTemplateV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, s.deleteTemplate(ctx, r.PathValue("TemplateName"), true)
}

func (s *Server) testRenderTemplateV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ TemplateData *string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.TemplateData == nil {
		return nil, seserr.MissingParameter("TemplateData")
	}
	out, err := s.testRender(ctx, r.PathValue("TemplateName"), *in.TemplateData)
	if err != nil {
		return nil, err
	}
	return map[string]string{"RenderedTemplate": out}, nil
}

// --- v1 ------------------------------------------------------------------

// optional reads an optional v1 string parameter (nil when absent).
func optional(q queryArgs, name string) *string {
	if !q.Has(name) {
		return nil
	}
	v := q.Get(name)
	return &v
}

func (s *Server) createTemplateV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("Template.TemplateName")
	if err != nil {
		return nil, err
	}
	return nil, s.createTemplate(ctx, name, optional(q, "Template.SubjectPart"),
		optional(q, "Template.TextPart"), optional(q, "Template.HtmlPart"))
}

func (s *Server) updateTemplateV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("Template.TemplateName")
	if err != nil {
		return nil, err
	}
	return nil, s.updateTemplate(ctx, name, optional(q, "Template.SubjectPart"),
		optional(q, "Template.TextPart"), optional(q, "Template.HtmlPart"))
}

func (s *Server) getTemplateV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	t, err := s.template(ctx, name)
	if err != nil {
		return nil, err
	}
	type tmpl struct {
		TemplateName string
		SubjectPart  *string `xml:",omitempty"`
		TextPart     *string `xml:",omitempty"`
		HtmlPart     *string `xml:",omitempty"`
	}
	return struct{ Template tmpl }{tmpl{t.Name, t.Subject, t.Text, t.HTML}}, nil
}

func (s *Server) listTemplatesV1(ctx context.Context, q queryArgs) (any, error) {
	size, _, err := q.Int("MaxItems")
	if err != nil {
		return nil, err
	}
	list, next, err := s.listTemplates(ctx, q.Get("NextToken"), size)
	if err != nil {
		return nil, err
	}
	type meta struct {
		Name             string
		CreatedTimestamp string
	}
	out := struct {
		TemplatesMetadata []meta `xml:"TemplatesMetadata>member"`
		NextToken         string `xml:",omitempty"`
	}{NextToken: next}
	for _, m := range list {
		out.TemplatesMetadata = append(out.TemplatesMetadata, meta{m.Name, isoTime(m.Created)})
	}
	return out, nil
}

func (s *Server) deleteTemplateV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	// SES v1's DeleteTemplate has no not-found error: deleting is idempotent.
	return nil, s.deleteTemplate(ctx, name, false)
}

func (s *Server) testRenderTemplateV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	data, err := q.Required("TemplateData")
	if err != nil {
		return nil, err
	}
	out, err := s.testRender(ctx, name, data)
	if err != nil {
		return nil, err
	}
	return struct{ RenderedTemplate string }{out}, nil
}

// --- the core, shared by both protocols ----------------------------------

// checkTemplate validates a template's name and parts: SES's size limit and
// valid Handlebars in every part (SES refuses an invalid template at
// creation: InvalidTemplate).
func checkTemplate(name string, parts ...*string) error {
	if name == "" {
		return seserr.MissingParameter("TemplateName")
	}
	if len(name) > maxTemplateName {
		return seserr.InvalidTemplate(name, "the name is longer than 64 characters")
	}
	return checkTemplateParts(name, parts...)
}

// checkTemplateParts is checkTemplate's check of the parts: SES's size
// limit and valid Handlebars.
func checkTemplateParts(name string, parts ...*string) error {
	size := 0
	for _, p := range parts {
		if p != nil {
			size += len(*p)
		}
	}
	if size > maxTemplateBytes {
		return seserr.InvalidTemplate(name, "the template is larger than 500 KB")
	}
	for _, p := range parts {
		if p == nil {
			continue
		}
		if _, err := template.Parse(*p); err != nil {
			return seserr.InvalidTemplate(name, err.Error())
		}
	}
	return nil
}

func (s *Server) createTemplate(ctx context.Context, name string, subject, text, html *string) error {
	if err := checkTemplate(name, subject, text, html); err != nil {
		return err
	}
	p := principal(ctx)
	err := s.cfg.Store.CreateTemplate(ctx, store.Template{AccountID: p.AccountID, Region: p.Region, Name: name,
		Subject: subject, Text: text, HTML: html, Created: s.clk.Now()}, maxTemplatesInRegion)
	switch {
	case errors.Is(err, store.ErrExists):
		return seserr.TemplateAlreadyExists(name)
	case errors.Is(err, store.ErrLimitExceeded):
		return seserr.TemplateLimitExceeded()
	}
	return err
}

func (s *Server) updateTemplate(ctx context.Context, name string, subject, text, html *string) error {
	if err := checkTemplate(name, subject, text, html); err != nil {
		return err
	}
	p := principal(ctx)
	err := s.cfg.Store.UpdateTemplate(ctx, store.Template{AccountID: p.AccountID, Region: p.Region, Name: name,
		Subject: subject, Text: text, HTML: html, Updated: s.clk.Now()})
	if errors.Is(err, store.ErrNotFound) {
		return seserr.TemplateDoesNotExist(name)
	}
	return err
}

func (s *Server) template(ctx context.Context, name string) (store.Template, error) {
	if name == "" {
		return store.Template{}, seserr.MissingParameter("TemplateName")
	}
	p := principal(ctx)
	t, err := s.cfg.Store.Template(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return t, seserr.TemplateDoesNotExist(name)
	}
	return t, err
}

// listTemplates pages through the region's templates by name; the token is
// the previous page's NextToken (its last name, opaque as the other lists'
// tokens, so a token that is not one is refused rather than read as a name).
func (s *Server) listTemplates(ctx context.Context, token string, size int) ([]store.TemplateMeta, string, error) {
	switch {
	case size <= 0:
		size = defaultTemplatePage
	case size > maxTemplatePage:
		size = maxTemplatePage
	}
	p := principal(ctx)
	return pageByName(token, size, func(after string, limit int) ([]store.TemplateMeta, error) {
		return s.cfg.Store.Templates(ctx, p.AccountID, p.Region, after, limit)
	}, func(t store.TemplateMeta) string { return t.Name })
}

func (s *Server) deleteTemplate(ctx context.Context, name string, mustExist bool) error {
	if name == "" {
		return seserr.MissingParameter("TemplateName")
	}
	p := principal(ctx)
	err := s.cfg.Store.DeleteTemplate(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		if mustExist {
			return seserr.TemplateDoesNotExist(name)
		}
		return nil
	}
	return err
}

// testRender renders a stored template as the full MIME message SES shows:
// a missing attribute fails here, synchronously (MissingRenderingAttribute).
func (s *Server) testRender(ctx context.Context, name, data string) (string, error) {
	t, err := s.template(ctx, name)
	if err != nil {
		return "", err
	}
	return renderTest(t, data, s.clk.Now())
}

// renderTest is TestRender*'s answer for t over data: the rendered MIME
// message, or SES's error.
func renderTest(t store.Template, data string, now time.Time) (string, error) {
	r, err := renderTemplate(t, data)
	if err != nil {
		return "", err
	}
	if r.failure != "" {
		return "", seserr.MissingRenderingAttribute(r.failure)
	}
	msg, err := sending.Compose(&sending.Simple{Subject: r.subject, Text: r.text, HTML: r.html})
	if err != nil {
		return "", err
	}
	return "Date: " + now.UTC().Format(time.RFC1123Z) + "\r\n" + string(msg), nil
}

// TestRenderContent renders template parts that are not stored (the web
// console's preview of an edit not yet saved) exactly as
// TestRenderEmailTemplate renders a stored template: the checks
// CreateEmailTemplate makes of the parts (InvalidTemplate), the same data
// decoding (InvalidRenderingParameter), the same missing-attribute failure
// (MissingRenderingAttribute) and the same MIME message. SES has no
// operation that renders content it does not store, so this is a function,
// not an API route. name only names the template in error texts.
func TestRenderContent(name string, subject, text, html *string, data string, now time.Time) (string, error) {
	if err := checkTemplateParts(name, subject, text, html); err != nil {
		return "", err
	}
	return renderTest(store.Template{Name: name, Subject: subject, Text: text, HTML: html}, data, now)
}

// rendered is a template rendered over one TemplateData; failure is SES's
// RenderingFailure errorMessage when an attribute was missing.
type rendered struct {
	subject    string
	text, html *string
	failure    string
}

// renderTemplate renders every part of t over data (a JSON string). Bad
// data is InvalidRenderingParameter (v2 BadRequest); an invalid template
// InvalidTemplate; a missing attribute is not an error but r.failure.
func renderTemplate(t store.Template, data string) (rendered, error) {
	var r rendered
	if len(data) > maxTemplateDataChars {
		return r, seserr.BadRequest("TemplateData exceeds the maximum length of 262144 characters.")
	}
	value, err := template.DecodeData(data)
	if err != nil {
		return r, seserr.TemplateDataNotJSON(err)
	}
	if _, ok := value.(*template.Object); !ok {
		return r, seserr.TemplateDataNotJSON(errors.New("template data is not a JSON object"))
	}
	render := func(part *string) (*string, error) {
		if part == nil || r.failure != "" {
			return nil, nil
		}
		// {{amazonSESUnsubscribeUrl}} is SES's, not the data's: it stays
		// in the rendered text (an escaped mustache renders it as
		// written) for sending to replace with the unsubscribe link.
		src := strings.ReplaceAll(*part, listmgmt.Placeholder, `\`+listmgmt.Placeholder)
		tm, err := template.Parse(src)
		if err != nil {
			return nil, seserr.InvalidTemplate(t.Name, err.Error())
		}
		out, err := tm.Render(value)
		var missing *template.MissingAttributeError
		switch {
		case errors.As(err, &missing):
			r.failure = missing.Error()
			return nil, nil
		case err != nil:
			return nil, seserr.InvalidTemplate(t.Name, err.Error())
		}
		return &out, nil
	}
	subject, err := render(t.Subject)
	if err != nil {
		return r, err
	}
	if subject != nil {
		r.subject = *subject
	}
	if r.text, err = render(t.Text); err != nil {
		return r, err
	}
	if r.html, err = render(t.HTML); err != nil {
		return r, err
	}
	return r, nil
}
