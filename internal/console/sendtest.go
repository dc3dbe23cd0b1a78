package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// The send test email page, as the SES console's "Send test email": from
// one of the account's identities to the mailbox simulator (or any
// address), with SendEmail (v2), so every rule of a real send holds
// (sandbox, quotas, suppression, the configuration set's events).
func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /send-test":  s.sendTestPage,
			"POST /send-test": s.sendTest,
		}
	})
}

// simulatorScenarios are the mailbox simulator's addresses, as the SES
// console offers them.
var simulatorScenarios = []struct{ Address, Label string }{
	{"success@simulator.amazonses.com", "Successful delivery"},
	{"bounce@simulator.amazonses.com", "Bounce"},
	{"complaint@simulator.amazonses.com", "Complaint"},
	{"ooto@simulator.amazonses.com", "Automatic response (out of the office)"},
	{"suppressionlist@simulator.amazonses.com", "Suppression list"},
}

// customTo is the To select's value for an address the user types.
const customTo = "custom"

// sendTestForm is the form's fields.
type sendTestForm struct {
	From         string // an identity's name
	FromLocal    string // the local part, when From is a domain
	To           string // a simulator address or customTo
	CustomTo     string
	Subject      string
	Body         string
	ConfigSet    string
	UseTemplate  bool
	Template     string
	TemplateData string
}

// sendTestData fills sendtest.html.
type sendTestData struct {
	Verified, Unverified []types.IdentityInfo
	ConfigSets           []string
	Templates            []string
	Scenarios            any
	CustomTo             string
	Form                 sendTestForm
	Sent                 string // the MessageId of the send just made
	Capture              bool
}

func (s *Server) sendTestPage(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	f := sendTestForm{From: q.Get("from"), FromLocal: q.Get("local"), To: q.Get("to"), CustomTo: q.Get("custom"),
		Subject: "Test email", Body: "This is a test email sent from the sesame console.", TemplateData: "{}"}
	if f.To == "" {
		f.To = simulatorScenarios[0].Address
	}
	return s.showSendTest(w, r, v, http.StatusOK, f, q.Get("sent"))
}

// showSendTest shows the form with the choices the account has: its
// identities, configuration sets and templates (each list's first page of
// the API's largest size; a test send needs no more).
func (s *Server) showSendTest(w http.ResponseWriter, r *http.Request, v *view, status int, f sendTestForm, sent string) error {
	ctx := r.Context()
	c := v.SESv2()
	d := sendTestData{Scenarios: simulatorScenarios, CustomTo: customTo, Form: f, Sent: sent, Capture: v.Capture}
	ids, err := c.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(1000)})
	if err != nil {
		return err
	}
	for _, id := range ids.EmailIdentities {
		if id.VerificationStatus == types.VerificationStatusSuccess {
			d.Verified = append(d.Verified, id)
		} else {
			d.Unverified = append(d.Unverified, id)
		}
	}
	sets, err := c.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(1000)})
	if err != nil {
		return err
	}
	d.ConfigSets = sets.ConfigurationSets
	tpls, err := c.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(templateListPage)})
	if err != nil {
		return err
	}
	for _, t := range tpls.TemplatesMetadata {
		d.Templates = append(d.Templates, aws.ToString(t.TemplateName))
	}
	v.Nav = "sendtest"
	return v.RenderStatus(w, status, "sendtest", "Send test email", d)
}

// sendTest sends the form's message with SendEmail; SES's refusal (an
// unverified address in the sandbox, a paused account) shows the form
// again with SES's words.
func (s *Server) sendTest(w http.ResponseWriter, r *http.Request, v *view) error {
	f := sendTestForm{From: r.PostFormValue("from"), FromLocal: strings.TrimSpace(r.PostFormValue("from_local")),
		To: r.PostFormValue("to"), CustomTo: strings.TrimSpace(r.PostFormValue("custom_to")),
		Subject: r.PostFormValue("subject"), Body: strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n"),
		ConfigSet: r.PostFormValue("configuration_set"), UseTemplate: r.PostFormValue("content") == "template",
		Template: r.PostFormValue("template"), TemplateData: r.PostFormValue("template_data")}
	in := &sesv2.SendEmailInput{FromEmailAddress: aws.String(f.fromAddress()),
		Destination: &types.Destination{ToAddresses: []string{f.toAddress()}}}
	if f.ConfigSet != "" {
		in.ConfigurationSetName = aws.String(f.ConfigSet)
	}
	if f.UseTemplate {
		in.Content = &types.EmailContent{Template: &types.Template{TemplateName: aws.String(f.Template),
			TemplateData: aws.String(f.TemplateData)}}
	} else {
		in.Content = &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(f.Subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(f.Body), Charset: aws.String("UTF-8")}}}}
	}
	out, err := v.SESv2().SendEmail(r.Context(), in)
	if err != nil {
		v.Error = errorText(err)
		return s.showSendTest(w, r, v, errorStatus(err), f, "")
	}
	id := aws.ToString(out.MessageId)
	q := url.Values{"sent": {id}, "from": {f.From}, "to": {f.To}}
	if f.FromLocal != "" {
		q.Set("local", f.FromLocal)
	}
	if f.To == customTo {
		q.Set("custom", f.CustomTo)
	}
	return v.Redirect(w, r, "/send-test?"+q.Encode(), "")
}

// fromAddress is the From address: the identity itself, or the local part
// typed at a domain identity.
func (f sendTestForm) fromAddress() string {
	if !strings.Contains(f.From, "@") && f.FromLocal != "" {
		return strings.TrimSuffix(f.FromLocal, "@") + "@" + f.From
	}
	return f.From
}

func (f sendTestForm) toAddress() string {
	if f.To == customTo || f.To == "" {
		return f.CustomTo
	}
	return f.To
}
