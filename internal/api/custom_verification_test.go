package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/store"
	"sesame/internal/verify"
)

const cvFrom = "welcome@brand.example"

// cvEnv is an idEnv whose account has cvFrom's domain verified and, with
// production, is out of the sandbox.
func newCVEnv(t *testing.T, production bool) *idEnv {
	t.Helper()
	e := newIDEnv(t)
	ctx := context.Background()
	key, err := e.st.AccessKey(ctx, e.creds.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutIdentity(ctx, store.Identity{AccountID: key.AccountID, Region: idRegion, Name: "brand.example",
		Status: store.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	if production {
		set := store.DefaultSettings(key.AccountID, idRegion)
		set.Production = true
		if err := e.st.PutAccountSettings(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func cvInputV2(name string) *sesv2.CreateCustomVerificationEmailTemplateInput {
	return &sesv2.CreateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String(name), FromEmailAddress: aws.String(cvFrom),
		TemplateSubject: aws.String("Please confirm " + name), TemplateContent: aws.String("<html><body><h1>Hello</h1><p>Click below.</p></body></html>"),
		SuccessRedirectionURL: aws.String("https://brand.example/ok"), FailureRedirectionURL: aws.String("https://brand.example/fail"),
	}
}

func TestCustomVerificationTemplatesV2(t *testing.T) {
	t.Parallel()
	e := newCVEnv(t, false)
	ctx := context.Background()
	if _, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2("welcome")); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2("welcome"))
	wantErrCode(t, err, "AlreadyExistsException")

	got, err := e.v2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.FromEmailAddress) != cvFrom || aws.ToString(got.TemplateSubject) != "Please confirm welcome" ||
		!strings.Contains(aws.ToString(got.TemplateContent), "<h1>Hello</h1>") ||
		aws.ToString(got.SuccessRedirectionURL) != "https://brand.example/ok" || aws.ToString(got.FailureRedirectionURL) != "https://brand.example/fail" {
		t.Fatalf("get: %+v", got)
	}

	// Update replaces every field (v2 requires them all).
	up := cvInputV2("welcome")
	_, err = e.v2.UpdateCustomVerificationEmailTemplate(ctx, &sesv2.UpdateCustomVerificationEmailTemplateInput{
		TemplateName: up.TemplateName, FromEmailAddress: aws.String("team@mail.brand.example"), TemplateSubject: aws.String("New subject"),
		TemplateContent: up.TemplateContent, SuccessRedirectionURL: aws.String("https://brand.example/ok2"), FailureRedirectionURL: up.FailureRedirectionURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil || aws.ToString(got.TemplateSubject) != "New subject" || aws.ToString(got.FromEmailAddress) != "team@mail.brand.example" ||
		aws.ToString(got.SuccessRedirectionURL) != "https://brand.example/ok2" {
		t.Fatalf("after update: %+v %v", got, err)
	}
	_, err = e.v2.UpdateCustomVerificationEmailTemplate(ctx, &sesv2.UpdateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("nope"), FromEmailAddress: up.FromEmailAddress, TemplateSubject: up.TemplateSubject,
		TemplateContent: up.TemplateContent, SuccessRedirectionURL: up.SuccessRedirectionURL, FailureRedirectionURL: up.FailureRedirectionURL,
	})
	wantErrCode(t, err, "NotFoundException")

	// Paging: 5 templates, pages of 2, in name order.
	for _, n := range []string{"b", "c", "d", "e"} {
		if _, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2(n)); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var token *string
	for pages := 0; ; pages++ {
		out, err := e.v2.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{PageSize: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.CustomVerificationEmailTemplates {
			names = append(names, aws.ToString(m.TemplateName))
			if aws.ToString(m.FromEmailAddress) == "" || aws.ToString(m.FailureRedirectionURL) != "https://brand.example/fail" {
				t.Fatalf("metadata: %+v", m)
			}
		}
		if token = out.NextToken; token == nil {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
	}
	if want := []string{"b", "c", "d", "e", "welcome"}; !slices.Equal(names, want) {
		t.Fatalf("listed %v, want %v", names, want)
	}
	_, err = e.v2.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{NextToken: aws.String("garbage!")})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{PageSize: aws.Int32(51)})
	wantErrCode(t, err, "BadRequestException")

	if _, err := e.v2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("b")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("b")})
	wantErrCode(t, err, "NotFoundException")
}

func TestCustomVerificationTemplateChecks(t *testing.T) {
	t.Parallel()
	e := newCVEnv(t, false)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		edit func(*sesv2.CreateCustomVerificationEmailTemplateInput)
		want string
	}{
		{"unverified from", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.FromEmailAddress = aws.String("x@other.example")
		}, "FromEmailAddressNotVerified"},
		{"comment", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateContent = aws.String("<p>hi</p><!-- x -->")
		}, "CustomVerificationEmailInvalidContent"},
		{"script tag", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateContent = aws.String("<p>hi</p><script>alert(1)</script>")
		}, "CustomVerificationEmailInvalidContent"},
		{"attribute", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateContent = aws.String(`<p onclick="x">hi</p>`)
		}, "CustomVerificationEmailInvalidContent"},
		{"10 MB", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateContent = aws.String("<p>" + strings.Repeat("a", maxCustomVerificationContent) + "</p>")
		}, "CustomVerificationEmailInvalidContent"},
		{"redirect scheme", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.SuccessRedirectionURL = aws.String("javascript:alert(1)")
		}, "InvalidParameterValue"},
		{"subject", func(in *sesv2.CreateCustomVerificationEmailTemplateInput) {
			in.TemplateSubject = aws.String("a\r\nBcc: x@y.example")
		}, "InvalidParameterValue"},
	} {
		in := cvInputV2("t")
		c.edit(in)
		_, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, in)
		wantErrCode(t, err, "BadRequestException")
		// v1 names the failure.
		_, err = e.v1.CreateCustomVerificationEmailTemplate(ctx, &ses.CreateCustomVerificationEmailTemplateInput{
			TemplateName: in.TemplateName, FromEmailAddress: in.FromEmailAddress, TemplateSubject: in.TemplateSubject,
			TemplateContent: in.TemplateContent, SuccessRedirectionURL: in.SuccessRedirectionURL, FailureRedirectionURL: in.FailureRedirectionURL,
		})
		if errCode(err) != c.want {
			t.Errorf("%s: v1 error %q, want %q (%v)", c.name, errCode(err), c.want, err)
		}
	}

	// SES's limit: 50 per account.
	for i := range maxCustomVerificationTemplates {
		if _, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2(fmt.Sprintf("t%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2("one-too-many"))
	wantErrCode(t, err, "LimitExceededException")
	_, err = e.v1.CreateCustomVerificationEmailTemplate(ctx, &ses.CreateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("one-too-many"), FromEmailAddress: aws.String(cvFrom), TemplateSubject: aws.String("s"),
		TemplateContent: aws.String("<p>x</p>"), SuccessRedirectionURL: aws.String("https://a.example/"), FailureRedirectionURL: aws.String("https://a.example/")})
	wantErrCode(t, err, "LimitExceeded")
	// v1 lists at most 50 a page, whatever MaxResults says.
	out, err := e.v1.ListCustomVerificationEmailTemplates(ctx, &ses.ListCustomVerificationEmailTemplatesInput{MaxResults: aws.Int32(500)})
	if err != nil || len(out.CustomVerificationEmailTemplates) != 50 || out.NextToken != nil {
		t.Fatalf("v1 list: %d %v %v", len(out.CustomVerificationEmailTemplates), out.NextToken, err)
	}
}

func TestCustomVerificationTemplatesV1(t *testing.T) {
	t.Parallel()
	e := newCVEnv(t, false)
	ctx := context.Background()
	in := &ses.CreateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("v1"), FromEmailAddress: aws.String(cvFrom), TemplateSubject: aws.String("Subject one"),
		TemplateContent: aws.String("<p>Welcome</p>"), SuccessRedirectionURL: aws.String("https://brand.example/ok"),
		FailureRedirectionURL: aws.String("https://brand.example/fail"),
	}
	if _, err := e.v1.CreateCustomVerificationEmailTemplate(ctx, in); err != nil {
		t.Fatal(err)
	}
	_, err := e.v1.CreateCustomVerificationEmailTemplate(ctx, in)
	wantErrCode(t, err, "CustomVerificationEmailTemplateAlreadyExists")

	// v1 updates only what it is given.
	if _, err := e.v1.UpdateCustomVerificationEmailTemplate(ctx, &ses.UpdateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("v1"), TemplateSubject: aws.String("Subject two")}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v1.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("v1")})
	if err != nil || aws.ToString(got.TemplateSubject) != "Subject two" || aws.ToString(got.TemplateContent) != "<p>Welcome</p>" ||
		aws.ToString(got.FromEmailAddress) != cvFrom || aws.ToString(got.SuccessRedirectionURL) != "https://brand.example/ok" {
		t.Fatalf("get: %+v %v", got, err)
	}
	_, err = e.v1.UpdateCustomVerificationEmailTemplate(ctx, &ses.UpdateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("v1"), FromEmailAddress: aws.String("someone@else.example")})
	wantErrCode(t, err, "FromEmailAddressNotVerified")
	_, err = e.v1.UpdateCustomVerificationEmailTemplate(ctx, &ses.UpdateCustomVerificationEmailTemplateInput{
		TemplateName: aws.String("gone"), TemplateSubject: aws.String("x")})
	wantErrCode(t, err, "CustomVerificationEmailTemplateDoesNotExist")

	list, err := e.v1.ListCustomVerificationEmailTemplates(ctx, &ses.ListCustomVerificationEmailTemplatesInput{})
	if err != nil || len(list.CustomVerificationEmailTemplates) != 1 || aws.ToString(list.CustomVerificationEmailTemplates[0].TemplateSubject) != "Subject two" {
		t.Fatalf("list: %+v %v", list, err)
	}
	for range 2 { // idempotent in v1
		if _, err := e.v1.DeleteCustomVerificationEmailTemplate(ctx, &ses.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("v1")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.v1.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("v1")})
	wantErrCode(t, err, "CustomVerificationEmailTemplateDoesNotExist")
}

var cvLinkRE = regexp.MustCompile(`href="([^"]+/_sesame/verify-email\?[^"]+)"`)

// customVerificationMail waits for the mail to addr from cvFrom in
// /_aws/ses and returns it with its link (the last one when several came).
func (e *idEnv) customVerificationMail(t *testing.T, addr string, count int) (capturedMessage, string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(e.url + "/_aws/ses?email=" + url.QueryEscape(addr))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Messages []capturedMessage }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) >= count {
			m := out.Messages[count-1]
			if m.Body.HTMLPart == nil {
				t.Fatalf("no HTML part: %+v", m)
			}
			link := cvLinkRE.FindStringSubmatch(*m.Body.HTMLPart)
			if link == nil {
				t.Fatalf("no link in %q", *m.Body.HTMLPart)
			}
			return m, strings.ReplaceAll(link[1], "&amp;", "&")
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails to %s in /_aws/ses, want %d", len(out.Messages), addr, count)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noRedirect is a client that shows redirects rather than following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func location(t *testing.T, link string) string {
	t.Helper()
	resp, err := noRedirect.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %d, want 302", link, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestSendCustomVerificationEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const addr = "new.user@customer.example"

	sandbox := newCVEnv(t, false)
	if _, err := sandbox.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2("welcome")); err != nil {
		t.Fatal(err)
	}
	_, err := sandbox.v1.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String(addr), TemplateName: aws.String("welcome")})
	wantErrCode(t, err, "ProductionAccessNotGranted")

	e := newCVEnv(t, true)
	if _, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2("welcome")); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String(addr), TemplateName: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v1.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String(addr), TemplateName: aws.String("nope")})
	wantErrCode(t, err, "CustomVerificationEmailTemplateDoesNotExist")
	_, err = e.v1.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String(addr),
		TemplateName: aws.String("welcome"), ConfigurationSetName: aws.String("missing")})
	wantErrCode(t, err, "ConfigurationSetDoesNotExist")

	out, err := e.v2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: aws.String(addr), TemplateName: aws.String("welcome")})
	if err != nil || aws.ToString(out.MessageId) == "" {
		t.Fatalf("send: %+v %v", out, err)
	}
	m, link := e.customVerificationMail(t, addr, 1)
	if m.ID != aws.ToString(out.MessageId) || m.Source != cvFrom || m.Subject != "Please confirm welcome" ||
		!strings.Contains(*m.Body.HTMLPart, "<h1>Hello</h1>") || !strings.Contains(*m.Body.HTMLPart, verify.CustomDisclaimer) {
		t.Fatalf("mail: %+v", m)
	}
	// SES puts the link after the template's content.
	if strings.Index(*m.Body.HTMLPart, "/_sesame/verify-email") < strings.Index(*m.Body.HTMLPart, "Click below.") {
		t.Fatalf("link before the content: %s", *m.Body.HTMLPart)
	}
	id, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil || id.VerificationStatus != v2types.VerificationStatusPending {
		t.Fatalf("identity after send: %+v %v", id, err)
	}
	if got := location(t, strings.Replace(link, "token=", "token=x", 1)); got != "https://brand.example/fail" {
		t.Fatalf("wrong token redirects to %q", got)
	}
	if got := location(t, link); got != "https://brand.example/ok" {
		t.Fatalf("link redirects to %q", got)
	}
	id, err = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil || id.VerificationStatus != v2types.VerificationStatusSuccess {
		t.Fatalf("identity after the link: %+v %v", id, err)
	}

	// A link replaced by a newer mail, and an expired one, fail.
	const late = "late@customer.example"
	for range 2 {
		if _, err := e.v1.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: aws.String(late), TemplateName: aws.String("welcome")}); err != nil {
			t.Fatal(err)
		}
	}
	_, first := e.customVerificationMail(t, late, 1)
	_, second := e.customVerificationMail(t, late, 2)
	if first == second {
		t.Fatal("the second mail has the first one's link")
	}
	if got := location(t, first); got != "https://brand.example/fail" {
		t.Fatalf("replaced link redirects to %q", got)
	}
	e.vclk.Advance(verify.EmailLinkTTL + time.Minute)
	if got := location(t, second); got != "https://brand.example/fail" {
		t.Fatalf("expired link redirects to %q", got)
	}
	id, err = e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(late)})
	if err != nil || id.VerificationStatus != v2types.VerificationStatusFailed {
		t.Fatalf("identity after expiry: %+v %v", id, err)
	}

	// A template deleted since: the default pages answer.
	if _, err := e.v2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")}); err != nil {
		t.Fatal(err)
	}
	if code, body := follow(t, link); code != http.StatusOK || !strings.Contains(body, "Congratulations") {
		t.Fatalf("link after the template's deletion: %d %s", code, body)
	}
}
