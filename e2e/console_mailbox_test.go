package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
	"sesame/internal/waitfor"
)

// mailboxRaw is a message with a text part, an HTML part and a PDF
// attachment, as an application would send it raw.
const mailboxRaw = "From: Sender <sender@example.com>\r\n" +
	"To: rcpt@example.com\r\n" +
	"Subject: Your invoice 42\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=\"inner\"\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Plain words of invoice 42.\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<html><body><h1 id=\"hello\">Invoice 42 in HTML</h1><p style=\"color:#c00\">Thank you.</p></body></html>\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/pdf; name=\"invoice-42.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"invoice-42.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQKJcfsj6IKJSVFT0YK\r\n" +
	"--outer--\r\n"

// The mailbox shows an account its own captured mail: the list, the HTML
// part in a sandboxed frame, the text, headers, raw message and
// attachments; message search finds the message by id and by recipient
// with its events; another account sees none of it.
func TestConsoleMailbox(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	s.Verify("sender@example.com")
	s.Verify("rcpt@example.com")
	out, err := s.SESv2Client(t).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("sender@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"rcpt@example.com"}},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: []byte(mailboxRaw)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)

	b := testenv.StartBrowser(t)
	consoleSignIn(t, b, s)
	consoleGo(b, s, "/us-east-1/mailbox")
	list := b.Text("table.mailbox tbody")
	for _, want := range []string{"Sender <sender@example.com>", "rcpt@example.com", "Your invoice 42", "delivered"} {
		if !strings.Contains(list, want) {
			t.Errorf("mailbox list lacks %q:\n%s", want, list)
		}
	}
	b.Screenshot("mailbox-list")

	// The message opens on its HTML part, in a sandboxed frame.
	b.ClickAndWait("table.mailbox tbody a", "iframe.message")
	var src string
	var sandboxed bool
	b.Run(chromedp.AttributeValue("iframe.message", "src", &src, &sandboxed, chromedp.ByQuery))
	if want := "/us-east-1/mailbox/" + id + "/html"; src != want || !sandboxed {
		t.Errorf("iframe src = %q (sandbox attribute %v); want %q", src, sandboxed, want)
	}
	// The sandboxed frame's document lives in a process of its own (an
	// opaque origin): the test finds it among the browser's targets and
	// reads it there. A frame the browser refused would log an error,
	// which fails the test.
	var frameID target.ID
	waitfor.True(t, "the message's HTML frame to load", func() bool {
		targets, err := chromedp.Targets(b.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range targets {
			if ti.Type == "iframe" && strings.HasSuffix(ti.URL, src) {
				frameID = ti.TargetID
				return true
			}
		}
		return false
	})
	fctx, cancel := chromedp.NewContext(b.Ctx, chromedp.WithTargetID(frameID))
	defer cancel()
	var frameText string
	tctx, tcancel := context.WithTimeout(fctx, 30*time.Second)
	defer tcancel()
	if err := chromedp.Run(tctx, chromedp.Text("#hello", &frameText, chromedp.ByQuery)); err != nil {
		t.Fatalf("reading the HTML frame: %v", err)
	}
	b.Screenshot("mailbox-html")
	if frameText != "Invoice 42 in HTML" {
		t.Errorf("the frame shows %q", frameText)
	}

	consoleGo(b, s, "/us-east-1/mailbox/"+id+"?tab=text")
	if got := b.Text("pre.message-text"); !strings.Contains(got, "Plain words of invoice 42.") {
		t.Errorf("text tab = %q", got)
	}
	consoleGo(b, s, "/us-east-1/mailbox/"+id+"?tab=headers")
	if got := b.Text("table.headers"); !strings.Contains(got, "Subject") || !strings.Contains(got, "Your invoice 42") {
		t.Errorf("headers tab lacks the subject:\n%s", got)
	}
	b.Screenshot("mailbox-headers")
	consoleGo(b, s, "/us-east-1/mailbox/"+id+"?tab=raw")
	if got := b.Text("pre.message-raw"); !strings.Contains(got, "JVBERi0xLjQKJcfsj6IKJSVFT0YK") {
		t.Errorf("raw tab lacks the message's bytes:\n%s", got)
	}
	consoleGo(b, s, "/us-east-1/mailbox/"+id+"?tab=attachments")
	if got := b.Text("table.attachments"); !strings.Contains(got, "invoice-42.pdf") || !strings.Contains(got, "application/pdf") {
		t.Errorf("attachments tab:\n%s", got)
	}
	var href string
	var ok bool
	b.Run(chromedp.AttributeValue("table.attachments a", "href", &href, &ok, chromedp.ByQuery))

	// Downloads, with the browser's session: the attachment, the raw
	// message, and the HTML part under its own policy.
	get := consoleFetch(t, b, s)
	resp, body := get(href)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "%PDF-1.4") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("attachment download: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = get("/us-east-1/mailbox/" + id + "/raw")
	if resp.Header.Get("Content-Type") != "message/rfc822" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(string(body), "Subject: Your invoice 42") {
		t.Errorf("raw download: %v", resp.Header)
	}
	resp, _ = get("/us-east-1/mailbox/" + id + "/html")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'") {
		t.Errorf("the HTML part's policy is %q", csp)
	}

	// Message search, by id and by recipient.
	consoleGo(b, s, "/us-east-1/messages?q="+id)
	res := b.Text(".message-result")
	for _, want := range []string{"Your invoice 42", "sender@example.com", "rcpt@example.com", "Send", "Delivery", "Open in captured mail"} {
		if !strings.Contains(res, want) {
			t.Errorf("search by id lacks %q:\n%s", want, res)
		}
	}
	consoleGo(b, s, "/us-east-1/messages?q=RCPT@example.com")
	res = b.Text("main")
	for _, want := range []string{id, "Your invoice 42", "Send", "Delivery"} {
		if !strings.Contains(res, want) {
			t.Errorf("search by recipient lacks %q:\n%s", want, res)
		}
	}
	b.Screenshot("messages-search")
	b.ClickAndWait(".message-result h2 a", "table.events")
	if got := b.Text("main"); !strings.Contains(got, id) || !strings.Contains(got, "Delivery") {
		t.Errorf("message page:\n%s", got)
	}
	b.Screenshot("message")

	consoleGo(b, s, "/us-east-1/mailbox")
	b.Phone()
	b.Screenshot("mailbox-list-phone")
	b.Desktop()

	// Another account, signed in in the same browser, sees none of it.
	var other struct {
		AccountID   string `json:"account_id"`
		AccessKeyID string `json:"access_key_id"`
		Secret      string `json:"secret_access_key"`
	}
	s.Admin(&other, "account", "create")
	b.ClickAndWait(`form[action="/signout"] button`, "#access_key_id")
	consoleSignInAs(t, b, s, other.AccessKeyID, other.Secret)
	if got := b.Text("main h1"); !strings.Contains(got, "Account dashboard") {
		t.Fatalf("the other account's sign-in shows %q", got)
	}
	consoleGo(b, s, "/us-east-1/mailbox")
	if got := b.Text("main"); !strings.Contains(got, "No captured mail yet") || strings.Contains(got, "invoice") {
		t.Errorf("the other account's mailbox:\n%s", got)
	}
	b.Run(chromedp.Navigate(consoleURL(s)+"/us-east-1/mailbox/"+id), chromedp.WaitVisible(".alert", chromedp.ByQuery))
	b.ExpectErrors("404")
	if got := b.Text(".alert"); !strings.Contains(got, "not found") {
		t.Errorf("the other account opens %s: %q", id, got)
	}
	get = consoleFetch(t, b, s)
	for _, p := range []string{"/html", "/raw", "/attachments/1"} {
		if resp, body := get("/us-east-1/mailbox/" + id + p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the other account gets %s%s: %d %q", id, p, resp.StatusCode, body)
		}
	}
	consoleGo(b, s, "/us-east-1/messages?q=rcpt@example.com")
	if got := b.Text("main"); strings.Contains(got, id) || !strings.Contains(got, "No messages to") {
		t.Errorf("the other account's search by recipient:\n%s", got)
	}

	// The other account's "Delete all" (confirmed in the browser's dialog)
	// deletes its own message, not the first account's.
	s.Admin(nil, "identity", "verify", "--account", other.AccountID, "--region", "us-east-1", "other@example.com")
	if _, err := s.SESv2Client(t, func(o *sesv2.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(other.AccessKeyID, other.Secret, "")
	}).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("other@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"other@example.com"}},
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("The other account's")},
			Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}},
	}); err != nil {
		t.Fatal(err)
	}
	consoleGo(b, s, "/us-east-1/mailbox")
	if got := b.Text("table.mailbox tbody"); !strings.Contains(got, "The other account's") || strings.Contains(got, "invoice") {
		t.Errorf("the other account's mailbox with its message:\n%s", got)
	}
	b.ClickAndWait(`form[action$="/mailbox/delete"] button`, ".flash")
	if got := b.Text(".flash"); got != "Deleted 1 captured message." {
		t.Errorf("delete all says %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "No captured mail yet") {
		t.Errorf("after delete all:\n%s", got)
	}
	if left := s.Captured(""); len(left) != 1 || left[0].ID != id {
		t.Errorf("captured mail after the other account's delete all: %+v", left)
	}
}

// consoleFetch returns a GET of a console path with b's cookies: what the
// browser would download, read by the test.
func consoleFetch(t *testing.T, b *testenv.Browser, s *testenv.Server) func(path string) (*http.Response, []byte) {
	t.Helper()
	var cookies []*network.Cookie
	b.Run(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().WithURLs([]string{consoleURL(s)}).Do(ctx)
		return err
	}))
	return func(path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", consoleURL(s)+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
}
