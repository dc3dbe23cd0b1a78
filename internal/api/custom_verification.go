package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	xhtml "golang.org/x/net/html"

	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/verify"
)

// The custom verification email group: Create/Get/Update/Delete/
// ListCustomVerificationEmailTemplate(s) and SendCustomVerificationEmail,
// in v2 and v1. Both protocols call the core at the bottom; the mail and
// its link are internal/verify's (the default verification mail's path,
// with the template's From, Subject and HTML), and verifyEmailLink hands a
// link that names a template to customVerificationRedirect.

// SES's custom verification template limits (developer guide FAQ).
const (
	maxCustomVerificationTemplates = 50       // per account
	maxCustomVerificationContent   = 10 << 20 // "less than 10 MB"
	maxCustomVerificationPage      = 50       // PageSize / MaxResults
)

func (s *Server) registerCustomVerification() {
	const base = "/v2/email/custom-verification-email-templates"
	s.handleV2("POST "+base, s.createCustomVerificationV2)
	s.handleV2("GET "+base, s.listCustomVerificationV2)
	s.handleV2("GET "+base+"/{TemplateName}", s.getCustomVerificationV2)
	s.handleV2("PUT "+base+"/{TemplateName}", s.updateCustomVerificationV2)
	s.handleV2("DELETE "+base+"/{TemplateName}", s.deleteCustomVerificationV2)
	s.handleV2("POST /v2/email/outbound-custom-verification-emails", s.sendCustomVerificationV2)
	s.handleV1("CreateCustomVerificationEmailTemplate", s.createCustomVerificationV1)
	s.handleV1("UpdateCustomVerificationEmailTemplate", s.updateCustomVerificationV1)
	s.handleV1("GetCustomVerificationEmailTemplate", s.getCustomVerificationV1)
	s.handleV1("ListCustomVerificationEmailTemplates", s.listCustomVerificationV1)
	s.handleV1("DeleteCustomVerificationEmailTemplate", s.deleteCustomVerificationV1)
	s.handleV1("SendCustomVerificationEmail", s.sendCustomVerificationV1)
}

// customVerificationFields are the template's fields as both protocols
// name them; nil is absent.
type customVerificationFields struct {
	FromEmailAddress      *string
	TemplateSubject       *string
	TemplateContent       *string
	SuccessRedirectionURL *string
	FailureRedirectionURL *string
}

// apply sets the fields present onto t.
func (f customVerificationFields) apply(t *store.CustomVerificationTemplate) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&t.FromEmailAddress, f.FromEmailAddress)
	set(&t.Subject, f.TemplateSubject)
	set(&t.Content, f.TemplateContent)
	set(&t.SuccessURL, f.SuccessRedirectionURL)
	set(&t.FailureURL, f.FailureRedirectionURL)
}

// missing names the first absent field (create, and v2's update, need all).
func (f customVerificationFields) missing() string {
	for _, c := range []struct {
		name string
		v    *string
	}{{"FromEmailAddress", f.FromEmailAddress}, {"TemplateSubject", f.TemplateSubject},
		{"TemplateContent", f.TemplateContent}, {"SuccessRedirectionURL", f.SuccessRedirectionURL},
		{"FailureRedirectionURL", f.FailureRedirectionURL}} {
		if c.v == nil {
			return c.name
		}
	}
	return ""
}

// --- v2 ------------------------------------------------------------------

func (s *Server) createCustomVerificationV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		TemplateName string
		customVerificationFields
		Tags []store.Tag
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.createCustomVerification(ctx, in.TemplateName, in.customVerificationFields); err != nil {
		return nil, err
	}
	return nil, s.setCreatedTags(ctx, store.ResourceCustomVerificationTemplate, in.TemplateName, in.Tags)
}

func (s *Server) updateCustomVerificationV2(ctx context.Context, r *http.Request) (any, error) {
	var in customVerificationFields
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	// v2's model requires every field of an update.
	if name := in.missing(); name != "" {
		return nil, seserr.MissingParameter(name)
	}
	return nil, s.updateCustomVerification(ctx, r.PathValue("TemplateName"), in)
}

func (s *Server) getCustomVerificationV2(ctx context.Context, r *http.Request) (any, error) {
	t, err := s.customVerification(ctx, r.PathValue("TemplateName"))
	if err != nil {
		return nil, err
	}
	tags, err := s.resourceTags(ctx, store.ResourceCustomVerificationTemplate, t.Name)
	if errors.Is(err, store.ErrNotFound) { // deleted since it was read
		return nil, seserr.CustomVerificationTemplateDoesNotExist(t.Name)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"TemplateName": t.Name, "FromEmailAddress": t.FromEmailAddress, "TemplateSubject": t.Subject,
		"TemplateContent": t.Content, "SuccessRedirectionURL": t.SuccessURL, "FailureRedirectionURL": t.FailureURL,
		"Tags": tags,
	}, nil
}

// customVerificationMeta is CustomVerificationEmailTemplateMetadata (v1 and v2).
type customVerificationMeta struct {
	TemplateName          string
	FromEmailAddress      string
	TemplateSubject       string
	SuccessRedirectionURL string
	FailureRedirectionURL string
}

func metaOf(t store.CustomVerificationTemplate) customVerificationMeta {
	return customVerificationMeta{t.Name, t.FromEmailAddress, t.Subject, t.SuccessURL, t.FailureURL}
}

func (s *Server) listCustomVerificationV2(ctx context.Context, r *http.Request) (any, error) {
	size, given, err := queryInt(r, "PageSize")
	if err != nil {
		return nil, err
	}
	if given && (size < 1 || size > maxCustomVerificationPage) {
		return nil, seserr.PageSizeOutOfRange(maxCustomVerificationPage)
	}
	list, next, err := s.listCustomVerification(ctx, r.URL.Query().Get("NextToken"), size)
	if err != nil {
		return nil, err
	}
	out := struct {
		CustomVerificationEmailTemplates []customVerificationMeta
		NextToken                        string `json:",omitempty"`
	}{CustomVerificationEmailTemplates: []customVerificationMeta{}, NextToken: next}
	for _, t := range list {
		out.CustomVerificationEmailTemplates = append(out.CustomVerificationEmailTemplates, metaOf(t))
	}
	return out, nil
}

func (s *Server) deleteCustomVerificationV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, s.deleteCustomVerification(ctx, r.PathValue("TemplateName"), true)
}

func (s *Server) sendCustomVerificationV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ EmailAddress, TemplateName, ConfigurationSetName string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	id, err := s.sendCustomVerification(ctx, in.EmailAddress, in.TemplateName, in.ConfigurationSetName)
	if err != nil {
		return nil, err
	}
	return map[string]string{"MessageId": id}, nil
}

// --- v1 ------------------------------------------------------------------

func customVerificationFieldsV1(q queryArgs) customVerificationFields {
	return customVerificationFields{
		FromEmailAddress: optional(q, "FromEmailAddress"), TemplateSubject: optional(q, "TemplateSubject"),
		TemplateContent: optional(q, "TemplateContent"), SuccessRedirectionURL: optional(q, "SuccessRedirectionURL"),
		FailureRedirectionURL: optional(q, "FailureRedirectionURL"),
	}
}

func (s *Server) createCustomVerificationV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	return nil, s.createCustomVerification(ctx, name, customVerificationFieldsV1(q))
}

func (s *Server) updateCustomVerificationV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	// v1 updates only the fields given.
	return nil, s.updateCustomVerification(ctx, name, customVerificationFieldsV1(q))
}

func (s *Server) getCustomVerificationV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	t, err := s.customVerification(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		customVerificationMeta
		TemplateContent string
	}{metaOf(t), t.Content}, nil
}

func (s *Server) listCustomVerificationV1(ctx context.Context, q queryArgs) (any, error) {
	size, _, err := q.Int("MaxResults")
	if err != nil {
		return nil, err
	}
	// v1: "a value less than 1 or greater than 50 returns up to 50 results".
	if size < 1 || size > maxCustomVerificationPage {
		size = maxCustomVerificationPage
	}
	list, next, err := s.listCustomVerification(ctx, q.Get("NextToken"), size)
	if err != nil {
		return nil, err
	}
	out := struct {
		CustomVerificationEmailTemplates []customVerificationMeta `xml:"CustomVerificationEmailTemplates>member"`
		NextToken                        string                   `xml:",omitempty"`
	}{NextToken: next}
	for _, t := range list {
		out.CustomVerificationEmailTemplates = append(out.CustomVerificationEmailTemplates, metaOf(t))
	}
	return out, nil
}

func (s *Server) deleteCustomVerificationV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	// v1's DeleteCustomVerificationEmailTemplate has no not-found error.
	return nil, s.deleteCustomVerification(ctx, name, false)
}

func (s *Server) sendCustomVerificationV1(ctx context.Context, q queryArgs) (any, error) {
	addr, err := q.Required("EmailAddress")
	if err != nil {
		return nil, err
	}
	name, err := q.Required("TemplateName")
	if err != nil {
		return nil, err
	}
	id, err := s.sendCustomVerification(ctx, addr, name, q.Get("ConfigurationSetName"))
	if err != nil {
		return nil, err
	}
	return struct{ MessageId string }{id}, nil
}

// --- the core, shared by both protocols ----------------------------------

func (s *Server) createCustomVerification(ctx context.Context, name string, f customVerificationFields) error {
	if name == "" {
		return seserr.MissingParameter("TemplateName")
	}
	if missing := f.missing(); missing != "" {
		return seserr.MissingParameter(missing)
	}
	p := principal(ctx)
	t := store.CustomVerificationTemplate{AccountID: p.AccountID, Region: p.Region, Name: name, Created: s.clk.Now()}
	f.apply(&t)
	if err := s.checkCustomVerification(ctx, t); err != nil {
		return err
	}
	err := s.cfg.Store.CreateCustomVerificationTemplate(ctx, t, maxCustomVerificationTemplates)
	switch {
	case errors.Is(err, store.ErrExists):
		return seserr.CustomVerificationTemplateAlreadyExists(name)
	case errors.Is(err, store.ErrLimitExceeded):
		return seserr.CustomVerificationTemplateLimitExceeded(maxCustomVerificationTemplates)
	}
	return err
}

func (s *Server) updateCustomVerification(ctx context.Context, name string, f customVerificationFields) error {
	if name == "" {
		return seserr.MissingParameter("TemplateName")
	}
	p := principal(ctx)
	_, err := s.cfg.Store.UpdateCustomVerificationTemplate(ctx, p.AccountID, p.Region, name, func(t *store.CustomVerificationTemplate) error {
		f.apply(t)
		t.Updated = s.clk.Now()
		return s.checkCustomVerification(ctx, *t)
	})
	if errors.Is(err, store.ErrNotFound) {
		return seserr.CustomVerificationTemplateDoesNotExist(name)
	}
	return err
}

// checkCustomVerification holds a template to SES's rules: a name, a
// subject fit for a header line, http(s) redirection URLs, content within
// the size and HTML limits, and a From that is a verified identity (or on a
// verified domain) of the account.
func (s *Server) checkCustomVerification(ctx context.Context, t store.CustomVerificationTemplate) error {
	if len(t.Name) > maxTemplateName {
		return seserr.InvalidCustomVerificationTemplate("the name is longer than 64 characters.")
	}
	if strings.TrimSpace(t.Subject) == "" {
		return seserr.InvalidCustomVerificationTemplate("TemplateSubject is empty.")
	}
	if strings.ContainsAny(t.Subject, "\r\n") {
		return seserr.HeaderInjection("TemplateSubject")
	}
	for _, u := range []struct{ name, url string }{{"SuccessRedirectionURL", t.SuccessURL}, {"FailureRedirectionURL", t.FailureURL}} {
		if parsed, err := url.Parse(u.url); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return seserr.InvalidCustomVerificationTemplate(fmt.Sprintf("%s %q is not an http or https URL.", u.name, u.url))
		}
	}
	if err := checkCustomVerificationContent(t.Content); err != nil {
		return err
	}
	if err := sending.CheckAddress(t.FromEmailAddress); err != nil {
		return seserr.InvalidEmailAddress(t.FromEmailAddress)
	}
	if s.cfg.Sender == nil {
		return seserr.TemporaryFailure().Wrap(errors.New("api: custom verification templates need a sender"))
	}
	ok, err := s.cfg.Sender.SenderVerified(ctx, t.AccountID, t.Region, t.FromEmailAddress)
	if err != nil {
		return err
	}
	if !ok {
		return seserr.FromEmailAddressNotVerified(t.FromEmailAddress)
	}
	return nil
}

// customVerificationTags are the HTML tags SES allows in a custom
// verification template, each with its attributes beyond class, id, style
// and title (developer guide, custom verification FAQ Q5).
var customVerificationTags = map[string][]string{
	"abbr": nil, "acronym": nil, "address": nil, "area": nil, "b": nil, "bdo": nil, "big": nil,
	"blockquote": {"cite"}, "body": nil, "br": nil, "button": nil, "caption": nil, "center": nil,
	"cite": nil, "code": nil, "col": {"span", "width"}, "colgroup": {"span", "width"}, "dd": nil,
	"del": nil, "dfn": nil, "dir": nil, "div": nil, "dl": nil, "dt": nil, "em": nil, "fieldset": nil,
	"font": nil, "form": nil, "h1": nil, "h2": nil, "h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"head": nil, "hr": nil, "html": nil, "i": nil, "img": {"align", "alt", "height", "src", "width"},
	"input": nil, "ins": nil, "kbd": nil, "label": nil, "legend": nil, "li": nil, "map": nil,
	"menu": nil, "ol": {"start", "type"}, "optgroup": nil, "option": nil, "p": nil, "pre": nil,
	"q": {"cite"}, "s": nil, "samp": nil, "select": nil, "small": nil, "span": nil, "strike": nil,
	"strong": nil, "sub": nil, "sup": nil, "table": {"summary", "width"}, "tbody": nil,
	"td": {"abbr", "axis", "colspan", "rowspan", "width"}, "textarea": nil, "tfoot": nil,
	"th": {"abbr", "axis", "colspan", "rowspan", "scope", "width"}, "thead": nil, "tr": nil,
	"tt": nil, "u": nil, "ul": {"type"}, "var": nil,
}

// checkCustomVerificationContent applies SES's content rules: under 10 MB,
// no comments, only the tags and attributes of customVerificationTags.
func checkCustomVerificationContent(content string) error {
	if content == "" {
		return seserr.CustomVerificationInvalidContent("TemplateContent is empty.")
	}
	if len(content) >= maxCustomVerificationContent {
		return seserr.CustomVerificationInvalidContent("the content is 10 MB or larger.")
	}
	z := xhtml.NewTokenizer(strings.NewReader(content))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return nil
			}
			return seserr.CustomVerificationInvalidContent("the HTML does not parse.").Wrap(z.Err())
		case xhtml.CommentToken:
			return seserr.CustomVerificationInvalidContent("comment tags are not allowed.")
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			extra, ok := customVerificationTags[tok.Data]
			if !ok {
				return seserr.CustomVerificationInvalidContent(fmt.Sprintf("the tag <%s> is not allowed.", tok.Data))
			}
			for _, a := range tok.Attr {
				switch a.Key {
				case "class", "id", "style", "title":
					continue
				}
				if !slices.Contains(extra, a.Key) {
					return seserr.CustomVerificationInvalidContent(fmt.Sprintf("the attribute %s of <%s> is not allowed.", a.Key, tok.Data))
				}
			}
		}
	}
}

func (s *Server) customVerification(ctx context.Context, name string) (store.CustomVerificationTemplate, error) {
	if name == "" {
		return store.CustomVerificationTemplate{}, seserr.MissingParameter("TemplateName")
	}
	p := principal(ctx)
	t, err := s.cfg.Store.CustomVerificationTemplate(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return t, seserr.CustomVerificationTemplateDoesNotExist(name)
	}
	return t, err
}

// listCustomVerification pages through the region's templates by name with
// the page tokens of the other lists; size 0 is SES's default page (50).
func (s *Server) listCustomVerification(ctx context.Context, token string, size int) ([]store.CustomVerificationTemplate, string, error) {
	if size <= 0 {
		size = maxCustomVerificationPage
	}
	p := principal(ctx)
	return pageByName(token, size, func(after string, limit int) ([]store.CustomVerificationTemplate, error) {
		return s.cfg.Store.CustomVerificationTemplates(ctx, p.AccountID, p.Region, after, limit)
	}, func(t store.CustomVerificationTemplate) string { return t.Name })
}

func (s *Server) deleteCustomVerification(ctx context.Context, name string, mustExist bool) error {
	if name == "" {
		return seserr.MissingParameter("TemplateName")
	}
	p := principal(ctx)
	err := s.cfg.Store.DeleteCustomVerificationTemplate(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		if mustExist {
			return seserr.CustomVerificationTemplateDoesNotExist(name)
		}
		return nil
	}
	return err
}

// sendCustomVerification is SendCustomVerificationEmail, SES's checks in
// order: the address, the template, the configuration set, production
// access (SES sends custom verification mail only out of the sandbox), the
// template's From still verified; then verify's own (the sending switch,
// the verification mail rate) as for VerifyEmailIdentity.
func (s *Server) sendCustomVerification(ctx context.Context, addr, name, configSet string) (string, error) {
	if addr == "" {
		return "", seserr.MissingParameter("EmailAddress")
	}
	if store.TypeOf(addr) != store.EmailAddress {
		return "", seserr.InvalidEmailAddress(addr)
	}
	if _, err := verify.CanonicalName(addr); err != nil {
		return "", err
	}
	t, err := s.customVerification(ctx, name)
	if err != nil {
		return "", err
	}
	if s.cfg.Sender == nil {
		return "", seserr.TemporaryFailure().Wrap(errors.New("api: SendCustomVerificationEmail needs a sender"))
	}
	p := principal(ctx)
	if configSet != "" {
		if err := s.cfg.Sender.CheckConfigurationSet(ctx, p.AccountID, p.Region, configSet); err != nil {
			return "", err
		}
	}
	production, err := s.cfg.Sender.Production(ctx, p.AccountID, p.Region)
	if err != nil {
		return "", err
	}
	if !production {
		return "", seserr.ProductionAccessNotGranted()
	}
	ok, err := s.cfg.Sender.SenderVerified(ctx, p.AccountID, p.Region, t.FromEmailAddress)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", seserr.FromEmailAddressNotVerified(t.FromEmailAddress)
	}
	return s.cfg.Verifier.SendCustom(ctx, p.AccountID, p.Region, addr, s.cfg.BaseURL, verify.CustomMail{
		From: t.FromEmailAddress, Subject: t.Subject, HTML: t.Content, LinkID: t.LinkID, ConfigurationSet: configSet,
	})
}

// customVerificationRedirect answers a verification link that names a
// custom verification template: 302 to its SuccessRedirectionURL when the
// address is verified, to its FailureRedirectionURL when the link is
// wrong, replaced or expired. It reports false, leaving the answer to the
// default page, when the template is gone or belongs to another account
// than the identity the link verified.
func (s *Server) customVerificationRedirect(w http.ResponseWriter, r *http.Request, d store.IdentityDetails, res verify.Confirmation) bool {
	t, err := s.cfg.Store.CustomVerificationTemplateByLink(r.Context(), r.URL.Query().Get(verify.LinkTemplateParam))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("api: custom verification link", "err", err)
		}
		return false
	}
	target := t.FailureURL
	if res == verify.Verified {
		if d.AccountID != t.AccountID || d.Region != t.Region {
			return false
		}
		target = t.SuccessURL
	}
	http.Redirect(w, r, target, http.StatusFound)
	return true
}
