package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// consoleWaitText waits until the text of the first node matching sel
// contains want (an htmx swap that lands a moment after the input).
func consoleWaitText(t *testing.T, b *testenv.Browser, sel, want string) {
	t.Helper()
	var last string
	ok := func() bool {
		ctx, cancel := context.WithTimeout(b.Ctx, time.Second)
		defer cancel()
		if err := chromedp.Run(ctx, chromedp.Text(sel, &last, chromedp.ByQuery)); err != nil {
			return false
		}
		return strings.Contains(last, want)
	}
	deadline := time.Now().Add(15 * time.Second)
	waitfor.Within(t, sel+" to say "+want, time.Minute, func() bool {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			t.Fatalf("%s says %q, want %q", sel, last, want)
		}
		return false
	})
}

// consoleRetype replaces a field's value by typing, so the page sees the
// input events a person's typing makes (the live render listens to them).
func consoleRetype(sel, text string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Clear(sel, chromedp.ByQuery),
		chromedp.SendKeys(sel, text, chromedp.ByQuery),
	}
}

// The templates pages: an empty list, a new template rendered live over
// sample data while it is typed (SES's missing-attribute and bad-JSON
// errors in SES's words), created, edited and saved.
func TestConsoleTemplates(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)

	consoleGo(b, s, "/us-east-1/templates")
	if got := b.Text("main"); !strings.Contains(got, "No templates yet") {
		t.Fatalf("empty templates list says:\n%s", got)
	}
	b.Run(chromedp.Click(`main a[href$="/templates/new"]`, chromedp.ByQuery), chromedp.WaitVisible("#tpl-name", chromedp.ByQuery))

	// Typing the template renders it live: {} lacks the variable, as SES says.
	b.Run(
		chromedp.SendKeys("#tpl-name", "welcome", chromedp.ByQuery),
		chromedp.SendKeys("#tpl-subject", "Hello {{name}}", chromedp.ByQuery),
		chromedp.SendKeys("#tpl-text", "Hi {{name}}, welcome aboard.", chromedp.ByQuery),
		chromedp.SendKeys("#tpl-html", "<h1>Hi {{name}}</h1><p>Welcome aboard.</p>", chromedp.ByQuery),
	)
	consoleWaitText(t, b, "#render", "Attribute 'name' is not present in the rendering data.")
	b.Run(consoleRetype("#tpl-data", `{"name":"Ada"}`))
	consoleWaitText(t, b, "#render-text", "Hi Ada, welcome aboard.")
	if got := b.Text("#render-subject"); got != "Hello Ada" {
		t.Errorf("rendered subject %q, want Hello Ada", got)
	}
	var srcdoc string
	var ok bool
	b.Run(chromedp.AttributeValue("#render iframe.message[sandbox]", "srcdoc", &srcdoc, &ok, chromedp.ByQuery))
	if !strings.Contains(srcdoc, "<h1>Hi Ada</h1>") {
		t.Errorf("the HTML part's sandboxed frame shows %q, want <h1>Hi Ada</h1>", srcdoc)
	}

	// Create: the stored template, rendered by TestRenderEmailTemplate
	// over the sample data typed before.
	b.ClickAndWait(`#template-form button.primary`, ".flash")
	if got := b.Text(".flash"); !strings.Contains(got, "Template welcome created") {
		t.Errorf("flash after create: %q", got)
	}
	consoleWaitText(t, b, "#render", "The stored template")
	consoleWaitText(t, b, "#render-text", "Hi Ada, welcome aboard.")

	// An edit renders live before it is saved, then saves.
	// (The caret goes to the end first: focus puts it at the start of a textarea.)
	b.Run(chromedp.SendKeys("#tpl-text", kb.End+" See you soon.", chromedp.ByQuery))
	consoleWaitText(t, b, "#render-text", "welcome aboard. See you soon.")
	consoleWaitText(t, b, "#render", "once saved")
	b.ClickAndWait(`#template-form button.primary`, ".flash")
	if got := b.Text(".flash"); !strings.Contains(got, "Template welcome saved") {
		t.Errorf("flash after save: %q", got)
	}
	tpl, err := s.SESv2Client(t).GetEmailTemplate(context.Background(), &sesv2.GetEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(tpl.TemplateContent.Text); got != "Hi {{name}}, welcome aboard. See you soon." {
		t.Errorf("stored text part %q", got)
	}
	// (A page load waits for the rendered HTML's frame; a swap does not.)
	consoleGo(b, s, `/us-east-1/templates/welcome?data={"name":"Ada"}`)
	consoleWaitText(t, b, "#render-text", "Hi Ada, welcome aboard. See you soon.")
	b.Screenshot("template-editor")

	// Sample data that is not JSON: SES's own error, from TestRenderEmailTemplate.
	b.Run(consoleRetype("#tpl-data", `{"name":`))
	consoleWaitText(t, b, "#render-error", "Unable to parse template data (invalid JSON).")

	// The Render button renders on demand.
	b.Run(chromedp.SetValue("#tpl-data", `{"name":"Grace"}`, chromedp.ByQuery), chromedp.Click("#render-button", chromedp.ByQuery))
	consoleWaitText(t, b, "#render-text", "Hi Grace")

	consoleGo(b, s, "/us-east-1/templates")
	if got := b.Text("main table"); !strings.Contains(got, "welcome") {
		t.Errorf("templates list lacks welcome:\n%s", got)
	}
	b.Screenshot("templates-list")
	b.Phone()
	consoleGo(b, s, "/us-east-1/templates/welcome")
	consoleWaitText(t, b, "#render-text", "Hi name")
	// A frame outside the viewport is not painted in a full-page shot.
	b.Run(chromedp.ScrollIntoView("#render iframe", chromedp.ByQuery))
	b.Screenshot("template-editor-phone")
	b.Desktop()

	// Without JavaScript the Render button posts the form and answers the
	// whole editor; deleting needs no confirm dialog then.
	b.Run(emulation.SetScriptExecutionDisabled(true))
	consoleGo(b, s, "/us-east-1/templates/welcome")
	b.Run(
		chromedp.SetValue("#tpl-data", `{"name":"Linus"}`, chromedp.ByQuery),
		chromedp.Click("#render-button", chromedp.ByQuery),
	)
	consoleWaitText(t, b, "#render-text", "Hi Linus")
	b.Run(
		chromedp.SetAttributeValue("html", "data-stale", "1", chromedp.ByQuery),
		chromedp.Click(`form[data-confirm] button.danger`, chromedp.ByQuery),
		chromedp.WaitVisible("html:not([data-stale]) .flash", chromedp.ByQuery),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "Template welcome deleted") {
		t.Errorf("flash after delete: %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "No templates yet") {
		t.Errorf("after deleting the only template the list says:\n%s", got)
	}
	b.Run(emulation.SetScriptExecutionDisabled(false))
}

// Send test email: from a verified address to the mailbox simulator, the
// message captured; from an address not verified, SES's MessageRejected.
func TestConsoleTemplatesSendTest(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	var out any
	s.Admin(&out, "identity", "verify", "--account", s.Account, "--region", s.Regions[0], "sender@example.com")
	// The sends follow each other within the sandbox's one per second.
	s.Admin(&out, "account", "set", "--account", s.Account, "--region", s.Regions[0], "--max-send-rate", "100")
	c := s.SESv2Client(t)
	ctx := context.Background()
	if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("pending@example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("hello"),
		TemplateContent: &sesv2types.EmailTemplateContent{Subject: aws.String("Hello {{name}}"), Text: aws.String("Hi {{name}}")}}); err != nil {
		t.Fatal(err)
	}
	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)
	consoleGo(b, s, "/us-east-1/send-test")
	b.Screenshot("send-test")

	b.Run(
		chromedp.SetValue("#st-from", "sender@example.com", chromedp.ByQuery),
		chromedp.SetValue("#st-to", "success@simulator.amazonses.com", chromedp.ByQuery),
		consoleRetype("#st-subject", "Console test send"),
		chromedp.Click(`form.card button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible("#sent", chromedp.ByQuery),
	)
	id := strings.TrimSpace(b.Text("#sent code"))
	m := waitID(t, s, id)
	if m.Subject != "Console test send" || m.Source != "sender@example.com" ||
		len(m.Destination.ToAddresses) != 1 || m.Destination.ToAddresses[0] != "success@simulator.amazonses.com" {
		t.Errorf("captured %+v", m)
	}
	if n := b.NodeCount(`#sent a[href="/us-east-1/messages?q=` + id + `"]`); n != 1 {
		t.Errorf("no message search link for %s", id)
	}
	if n := b.NodeCount(`#sent a[href="/us-east-1/mailbox/` + id + `"]`); n != 1 {
		t.Errorf("no captured mail link for %s", id)
	}
	b.Screenshot("send-test-sent")

	// With a template instead of subject and body.
	consoleGo(b, s, "/us-east-1/send-test")
	b.Run(
		chromedp.SetValue("#st-from", "sender@example.com", chromedp.ByQuery),
		chromedp.Click(`input[name=content][value=template]`, chromedp.ByQuery),
		chromedp.SetValue("#st-template", "hello", chromedp.ByQuery),
		consoleRetype("#st-data", `{"name":"Ada"}`),
		chromedp.Click(`form.card button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible("#sent", chromedp.ByQuery),
	)
	id2 := strings.TrimSpace(b.Text("#sent code"))
	if id2 == id {
		t.Fatalf("the second send shows the first's id %s", id)
	}
	if m := waitID(t, s, id2); m.Subject != "Hello Ada" {
		t.Errorf("templated send captured with subject %q", m.Subject)
	}

	// From an identity still pending: SES refuses, in its words, and the form keeps what was typed.
	consoleGo(b, s, "/us-east-1/send-test")
	b.Run(
		chromedp.SetValue("#st-from", "pending@example.com", chromedp.ByQuery),
		chromedp.Click(`input[name=content][value=simple]`, chromedp.ByQuery),
		consoleRetype("#st-subject", "Should not go"),
		chromedp.Click(`form.card button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(".alert", chromedp.ByQuery),
	)
	if got := b.Text(".alert"); !strings.Contains(got, "MessageRejected") || !strings.Contains(got, "not verified") {
		t.Errorf("send from a pending identity says %q, want SES's MessageRejected", got)
	}
	var subject string
	b.Run(chromedp.Value("#st-subject", &subject, chromedp.ByQuery))
	if subject != "Should not go" {
		t.Errorf("the form lost its subject: %q", subject)
	}
	b.Screenshot("send-test-rejected")
	b.Phone()
	consoleGo(b, s, "/us-east-1/send-test")
	b.Screenshot("send-test-phone")
	b.Desktop()
}
