package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"sesame/internal/api"
	"sesame/internal/seserr"
)

// The email templates pages: the list (ListEmailTemplates), an editor
// (Get/Create/Update/DeleteEmailTemplate) with a live render of the
// template over sample data (TestRenderEmailTemplate).
func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /templates":                s.templates,
			"GET /templates/new":            s.newTemplate,
			"POST /templates":               s.createTemplate,
			"POST /templates/render":        s.renderTemplatePreview,
			"GET /templates/{name}":         s.editTemplate,
			"POST /templates/{name}":        s.updateTemplate,
			"POST /templates/{name}/delete": s.deleteTemplate,
		}
	})
}

// templateListPage is how many templates one page of the list shows (v2's
// largest PageSize).
const templateListPage = 100

// templatesData fills templates.html.
type templatesData struct {
	Templates []templateRow
	Next      string // the next page's token
}

type templateRow struct {
	Name, Path string // Path: the editor's, below the region
	Created    *time.Time
}

// templates lists the region's templates, a page at a time.
func (s *Server) templates(w http.ResponseWriter, r *http.Request, v *view) error {
	in := &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(templateListPage)}
	if t := r.URL.Query().Get("next"); t != "" {
		in.NextToken = aws.String(t)
	}
	out, err := v.SESv2().ListEmailTemplates(r.Context(), in)
	if err != nil {
		return err
	}
	d := templatesData{Next: aws.ToString(out.NextToken)}
	for _, m := range out.TemplatesMetadata {
		name := aws.ToString(m.TemplateName)
		d.Templates = append(d.Templates, templateRow{Name: name, Path: "/templates/" + url.PathEscape(name),
			Created: m.CreatedTimestamp})
	}
	return v.Render(w, "templates", "Email templates", d)
}

// templateEditor fills template.html: the editor's fields and the render.
type templateEditor struct {
	New                         bool   // creating: the name is editable
	Name                        string // the template's name
	Subject, Text, HTML         string
	SampleData                  string
	Render                      *templateRender
	SaveAction, RenderAction    string
	DeleteAction, DeleteConfirm string
}

// templateRender is one render of the editor's template over its sample
// data: the parts of the MIME message TestRenderEmailTemplate answers, or
// SES's error text.
type templateRender struct {
	Unsaved             bool // rendered from the editor's content, not the stored template
	Subject, Text, HTML string
	HasText, HasHTML    bool
	Error               string
}

func (s *Server) newTemplate(w http.ResponseWriter, r *http.Request, v *view) error {
	ed := &templateEditor{New: true, SampleData: "{}"}
	return s.showEditor(w, v, http.StatusOK, ed)
}

// editTemplate shows a stored template, rendered over sample data built
// from its variables (or the data carried over from the last save).
func (s *Server) editTemplate(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	out, err := v.SESv2().GetEmailTemplate(r.Context(), &sesv2.GetEmailTemplateInput{TemplateName: aws.String(name)})
	if err != nil {
		return err
	}
	ed := &templateEditor{Name: name}
	if c := out.TemplateContent; c != nil {
		ed.Subject, ed.Text, ed.HTML = aws.ToString(c.Subject), aws.ToString(c.Text), aws.ToString(c.Html)
	}
	ed.SampleData = r.URL.Query().Get("data")
	if ed.SampleData == "" {
		ed.SampleData = sampleData(ed.Subject, ed.Text, ed.HTML)
	}
	ed.Render = s.renderEditor(r, v, ed)
	return s.showEditor(w, v, http.StatusOK, ed)
}

func (s *Server) showEditor(w http.ResponseWriter, v *view, status int, ed *templateEditor) error {
	v.Nav = "templates"
	ed.RenderAction = v.URL("/templates/render")
	title := "Create template"
	if ed.New {
		ed.SaveAction = v.URL("/templates")
	} else {
		title = "Template " + ed.Name
		ed.SaveAction = v.URL("/templates/" + url.PathEscape(ed.Name))
		ed.DeleteAction = ed.SaveAction + "/delete"
		ed.DeleteConfirm = "Delete the template " + ed.Name + "? Sends that name it will fail."
	}
	return v.RenderStatus(w, status, "template", title, ed)
}

// editorForm reads the editor's fields. Browsers send a textarea's lines
// with CRLF; the template is kept with the LF it was typed with.
func editorForm(r *http.Request) *templateEditor {
	f := func(k string) string { return strings.ReplaceAll(r.PostFormValue(k), "\r\n", "\n") }
	return &templateEditor{Name: strings.TrimSpace(r.PostFormValue("name")), Subject: f("subject"), Text: f("text"),
		HTML: f("html"), SampleData: f("data")}
}

// content is the editor's parts as SES's EmailTemplateContent: an empty
// field is a part the template does not have.
func (ed *templateEditor) content() *types.EmailTemplateContent {
	part := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	return &types.EmailTemplateContent{Subject: part(ed.Subject), Text: part(ed.Text), Html: part(ed.HTML)}
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, v *view) error {
	ed := editorForm(r)
	_, err := v.SESv2().CreateEmailTemplate(r.Context(), &sesv2.CreateEmailTemplateInput{
		TemplateName: aws.String(ed.Name), TemplateContent: ed.content()})
	if err != nil {
		ed.New = true
		v.Error = errorText(err)
		return s.showEditor(w, v, errorStatus(err), ed)
	}
	return v.Redirect(w, r, savedTemplateURL(ed), "Template "+ed.Name+" created.")
}

func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request, v *view) error {
	ed := editorForm(r)
	ed.Name = r.PathValue("name")
	if ed.Name == "" { // through renderTemplatePreview
		ed.Name = r.PostFormValue("stored")
	}
	_, err := v.SESv2().UpdateEmailTemplate(r.Context(), &sesv2.UpdateEmailTemplateInput{
		TemplateName: aws.String(ed.Name), TemplateContent: ed.content()})
	if err != nil {
		v.Error = errorText(err)
		return s.showEditor(w, v, errorStatus(err), ed)
	}
	return v.Redirect(w, r, savedTemplateURL(ed), "Template "+ed.Name+" saved.")
}

// savedTemplateURL is the editor of a template just saved, keeping the
// sample data the user had typed when it is short enough for a URL.
func savedTemplateURL(ed *templateEditor) string {
	p := "/templates/" + url.PathEscape(ed.Name)
	if d := strings.TrimSpace(ed.SampleData); d != "" && len(d) <= 2000 {
		p += "?" + url.Values{"data": {ed.SampleData}}.Encode()
	}
	return p
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	if _, err := v.SESv2().DeleteEmailTemplate(r.Context(), &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String(name)}); err != nil {
		return err
	}
	return v.Redirect(w, r, "/templates", "Template "+name+" deleted.")
}

// renderTemplatePreview answers the editor's Render button and, through
// htmx, its live render while typing: the render alone for htmx, the whole
// editor for a plain form post.
func (s *Server) renderTemplatePreview(w http.ResponseWriter, r *http.Request, v *view) error {
	if r.PostFormValue("action") == "save" {
		// The Save button of a template named "render": its form posts
		// to /templates/render, which this route answers.
		return s.updateTemplate(w, r, v)
	}
	ed := editorForm(r)
	ed.New = r.PostFormValue("stored") == ""
	if !ed.New {
		ed.Name = r.PostFormValue("stored")
	}
	ed.Render = s.renderEditor(r, v, ed)
	if r.Header.Get("HX-Request") != "" {
		return v.Fragment(w, "template", "render", ed)
	}
	return s.showEditor(w, v, http.StatusOK, ed)
}

// renderEditor renders the editor's template over its sample data.
//
// SES's only render operation, TestRenderEmailTemplate, renders a stored
// template by name. When the editor shows a stored template unchanged,
// that is what is called, through the API as every other page does. An
// edit not yet saved (or a new template) has nothing stored to name, and
// saving it to a scratch template would be seen by the account (the list,
// the 10,000-template limit, a template another session might be using).
// So the edit is rendered by api.TestRenderContent: the very code behind
// TestRenderEmailTemplate (the parts' checks, the data's decoding, the
// missing-attribute failure and the MIME message), given the editor's
// parts instead of the stored ones. Its errors are SES's errors, in SES's
// words, as the operation would answer them once the edit is saved.
func (s *Server) renderEditor(r *http.Request, v *view, ed *templateEditor) *templateRender {
	c := ed.content()
	if c.Subject == nil && c.Text == nil && c.Html == nil {
		return nil // nothing typed yet
	}
	data := ed.SampleData
	if strings.TrimSpace(data) == "" {
		data = "{}"
	}
	var (
		mime string
		err  error
		out  = &templateRender{}
	)
	if !ed.New && s.storedUnchanged(r, v, ed) {
		var res *sesv2.TestRenderEmailTemplateOutput
		res, err = v.SESv2().TestRenderEmailTemplate(r.Context(), &sesv2.TestRenderEmailTemplateInput{
			TemplateName: aws.String(ed.Name), TemplateData: aws.String(data)})
		if err == nil {
			mime = aws.ToString(res.RenderedTemplate)
		}
	} else {
		out.Unsaved = true
		name := ed.Name
		if name == "" {
			name = "(unnamed)"
		}
		mime, err = api.TestRenderContent(name, c.Subject, c.Text, c.Html, data, s.clk.Now())
		if err != nil {
			err = sesError(err)
		}
	}
	if err != nil {
		out.Error = errorText(err)
		return out
	}
	msg, perr := parseRendered(mime)
	if perr != nil {
		out.Error = "The rendered message could not be read: " + perr.Error()
		return out
	}
	out.Subject, out.Text, out.HTML = msg.Subject, msg.Text, msg.HTML
	out.HasText, out.HasHTML = msg.HasText, msg.HasHTML
	return out
}

// storedUnchanged says whether the editor's parts are the stored
// template's (GetEmailTemplate), so TestRenderEmailTemplate renders them.
func (s *Server) storedUnchanged(r *http.Request, v *view, ed *templateEditor) bool {
	out, err := v.SESv2().GetEmailTemplate(r.Context(), &sesv2.GetEmailTemplateInput{TemplateName: aws.String(ed.Name)})
	if err != nil || out.TemplateContent == nil {
		return false
	}
	norm := func(p *string) string { return strings.ReplaceAll(aws.ToString(p), "\r\n", "\n") }
	c := out.TemplateContent
	return norm(c.Subject) == ed.Subject && norm(c.Text) == ed.Text && norm(c.Html) == ed.HTML
}

// apiError is a sesame API error as the SDK would have decoded it: its
// code and message (what errorText shows for an error of the API).
type apiError struct{ code, msg string }

func (e apiError) Error() string                 { return e.code + ": " + e.msg }
func (e apiError) ErrorCode() string             { return e.code }
func (e apiError) ErrorMessage() string          { return e.msg }
func (e apiError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// sesError gives an error of the API package called directly the form of
// one the SDK decoded, so errorText shows v2's code and message.
func sesError(err error) error {
	var se *seserr.Error
	if errors.As(err, &se) && se.APICode != "" {
		return apiError{code: se.APICode, msg: se.Message}
	}
	return err
}

// variable matches a template's {{var}} and {{{var}}} (a dotted path), not
// block tags ({{#each}}, {{/if}}, {{else}}, {{> partial}}, comments).
var variable = regexp.MustCompile(`\{\{\{?~?\s*([A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*)\s*~?\}?\}\}`)

// sampleData is sample TemplateData for a template: each top-level
// {{variable}} it uses, with its own name as its value ("contact.name"
// nests as SES's data would). It is a starting point for the user to edit
// (variables inside #each or #with blocks are relative to the block and
// may need moving), so that the first render shows the template filled.
func sampleData(parts ...string) string {
	root := map[string]any{}
	for _, p := range parts {
		for _, m := range variable.FindAllStringSubmatch(p, -1) {
			name := m[1]
			if name == "else" || name == "this" || name == "amazonSESUnsubscribeUrl" {
				continue
			}
			keys := strings.Split(name, ".")
			node := root
			for i, k := range keys {
				if i == len(keys)-1 {
					if _, ok := node[k]; !ok {
						node[k] = name
					}
					break
				}
				next, ok := node[k].(map[string]any)
				if !ok {
					next = map[string]any{}
					node[k] = next
				}
				node = next
			}
		}
	}
	if len(root) == 0 {
		return "{}"
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return "{}"
	}
	return string(b)
}
