package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// scopedClients makes a key with policy doc in e's account and SDK clients
// signing with it.
func (e *sendEnv) scopedClients(t *testing.T, name, doc string) (*sesv2.Client, *ses.Client) {
	t.Helper()
	k, err := e.st.CreateScopedAccessKey(context.Background(), e.acct, name, doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: e.region, RetryMaxAttempts: 1, BaseEndpoint: e.v2.Options().BaseEndpoint,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}
	return sesv2.NewFromConfig(cfg), ses.NewFromConfig(cfg)
}

// TestKeyPolicyAPICalls: every call of a key with a policy is decided by
// it, v2 and v1 alike, with the operation as action and the ARN it acts on
// as resource (or "*"); the refusal is IAM's, 403 AccessDeniedException
// (v2) or AccessDenied (v1); sends are decided on the sending identity.
func TestKeyPolicyAPICalls(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	arn := func(typ, name string) string {
		return "arn:aws:ses:" + e.region + ":" + e.acct + ":" + typ + "/" + name
	}
	v2, v1 := e.scopedClients(t, "app", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ses:GetAccount","ses:GetSendQuota"],"Resource":"*"},
		{"Effect":"Allow","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"`+arn("identity", "verified.com")+`"},
		{"Effect":"Allow","Action":["ses:Get*","ses:CreateEmailIdentity"],"Resource":"`+arn("identity", "me@example.org")+`"},
		{"Effect":"Allow","Action":"ses:*","Resource":"`+arn("configuration-set", "*")+`"},
		{"Effect":"Deny","Action":"ses:DeleteConfigurationSet","Resource":"*"}]}`)
	user := "arn:aws:iam::" + e.acct + ":user/app"
	denied := func(action, resource string, explicit bool) string {
		why := " because no identity-based policy allows the " + action + " action"
		if explicit {
			why = " with an explicit deny in an identity-based policy"
		}
		return "User: " + user + " is not authorized to perform: " + action + " on resource: " + resource + why
	}
	simple := func(from string) *sesv2.SendEmailInput {
		return &sesv2.SendEmailInput{FromEmailAddress: aws.String(from),
			Destination: &v2types.Destination{ToAddresses: []string{"rcpt@elsewhere.net"}},
			Content: &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: aws.String("s")},
				Body: &v2types.Body{Text: &v2types.Content{Data: aws.String("b")}}}}}
	}
	v1send := func(from string) *ses.SendEmailInput {
		return &ses.SendEmailInput{Source: aws.String(from), Destination: &v1types.Destination{ToAddresses: []string{"rcpt@elsewhere.net"}},
			Message: &v1types.Message{Subject: &v1types.Content{Data: aws.String("s")}, Body: &v1types.Body{Text: &v1types.Content{Data: aws.String("b")}}}}
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string // "" = allowed; else the refusal's message
		v1   bool
	}{
		{"v2 GetAccount on *", func() error { _, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{}); return err }, "", false},
		{"v1 GetSendQuota on *", func() error { _, err := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{}); return err }, "", true},
		{"v2 ListEmailIdentities: no Allow on *", func() error {
			_, err := v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{})
			return err
		}, denied("ses:ListEmailIdentities", "*", false), false},
		{"v2 CreateEmailIdentity names its resource in the body", func() error {
			_, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("new.example")})
			return err
		}, denied("ses:CreateEmailIdentity", arn("identity", "new.example"), false), false},
		{"v2 GetEmailIdentity of the allowed identity", func() error {
			_, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("me@example.org")})
			return err
		}, "", false},
		{"v2 GetEmailIdentity of another", func() error {
			_, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("verified.com")})
			return err
		}, denied("ses:GetEmailIdentity", arn("identity", "verified.com"), false), false},
		{"v1 VerifyEmailIdentity", func() error {
			_, err := v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("x@new.example")})
			return err
		}, denied("ses:VerifyEmailIdentity", arn("identity", "x@new.example"), false), true},
		{"v2 CreateConfigurationSet (ses:* on configuration-set/*)", func() error {
			_, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs1")})
			return err
		}, "", false},
		{"v2 CreateConfigurationSet with Tags needs ses:TagResource too", func() error {
			_, err := v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs2"),
				Tags: []v2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "", false},
		{"v2 CreateEmailIdentity with Tags: no ses:TagResource on identities", func() error {
			_, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("me@example.org"),
				Tags: []v2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, denied("ses:TagResource", arn("identity", "me@example.org"), false), false},
		{"v1 DescribeConfigurationSet", func() error {
			_, err := v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("cs1")})
			return err
		}, "", true},
		{"v2 DeleteConfigurationSet: the explicit Deny wins", func() error {
			_, err := v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("cs1")})
			return err
		}, denied("ses:DeleteConfigurationSet", arn("configuration-set", "cs1"), true), false},
		{"v2 SendEmail as the allowed identity", func() error { _, err := v2.SendEmail(ctx, simple("a@verified.com")); return err }, "", false},
		{"v2 SendEmail as another", func() error { _, err := v2.SendEmail(ctx, simple("me@example.org")); return err },
			denied("ses:SendEmail", arn("identity", "me@example.org"), false), false},
		{"v1 SendEmail as the allowed identity", func() error { _, err := v1.SendEmail(ctx, v1send("a@verified.com")); return err }, "", true},
		{"v1 SendEmail as another", func() error { _, err := v1.SendEmail(ctx, v1send("me@example.org")); return err },
			denied("ses:SendEmail", arn("identity", "me@example.org"), false), true},
	} {
		err := tc.call()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		code, msg, status := apiFailure(err)
		wantCode := "AccessDeniedException"
		if tc.v1 {
			wantCode = "AccessDenied"
		}
		if code != wantCode || status != http.StatusForbidden || msg != tc.want {
			t.Errorf("%s: %s %d %q; want %s 403 %q", tc.name, code, status, msg, wantCode, tc.want)
		}
	}
	// The configuration set the key may not delete is still there.
	if _, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs1")}); err != nil {
		t.Errorf("after the refused delete: %v", err)
	}
	// The account's own key (no policy) still may do everything.
	if _, err := e.v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{}); err != nil {
		t.Errorf("key without a policy: %v", err)
	}
}

// TestV2OperationsTable: v2Operations names every operation of SES v2's
// model, and every route the server serves maps to the operation of its
// route in the table (so a scoped key's Action is always the right one).
func TestV2OperationsTable(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, op := range v2Operations {
		names[op] = true
	}
	for op := range sdkOperations(&sesv2.Client{}) {
		if !names[op] {
			t.Errorf("v2Operations lacks %s", op)
		}
	}
	s := New(Config{Regions: []string{"us-east-1"}})
	served := 0
	for route, op := range v2Operations {
		method, path, _ := strings.Cut(route, " ")
		r := httptest.NewRequest(method, strings.ReplaceAll(path, "{}", "x"), nil)
		_, pattern := s.v2.Handler(r)
		if pattern == "" || pattern == "/" {
			continue // not served (yet): answered UnknownOperation for everyone
		}
		served++
		if got := v2Operations[normalizeRoute(pattern)]; got != op {
			t.Errorf("%s is served by %q, which the table names %q; want %q", route, pattern, got, op)
		}
	}
	if served < 100 {
		t.Errorf("only %d of the table's routes are served; the test finds no patterns", served)
	}
}

func TestNormalizeRoute(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"GET /v2/email/insights/{MessageId}/{$}":                         "GET /v2/email/insights/{}",
		"PUT /v1/email/identities/{EmailIdentity}/dkim/signing":          "PUT /v2/email/identities/{}/dkim/signing",
		"DELETE /v2/email/configuration-sets/{A}/event-destinations/{B}": "DELETE /v2/email/configuration-sets/{}/event-destinations/{}",
		"POST /v2/email/outbound-emails":                                 "POST /v2/email/outbound-emails",
	} {
		if got := normalizeRoute(in); got != want {
			t.Errorf("normalizeRoute(%q) = %q; want %q", in, got, want)
		}
	}
}

// The SNS-compatible API is closed to a key with a policy (its grammar
// grants ses: actions only): SNS's AuthorizationError, with the key's ARN.
func TestKeyPolicySNSClosed(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	k, err := e.st.CreateScopedAccessKey(context.Background(), e.acct, "", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:*","Resource":"*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	client := sns.NewFromConfig(aws.Config{Region: e.region, RetryMaxAttempts: 1, BaseEndpoint: e.v2.Options().BaseEndpoint,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")})
	_, err = client.ListTopics(context.Background(), &sns.ListTopicsInput{})
	code, msg, status := apiFailure(err)
	want := "User: arn:aws:iam::" + e.acct + ":user/" + k.ID + " is not authorized to perform: SNS:ListTopics on resource: *"
	if code != "AuthorizationError" || status != http.StatusForbidden || msg != want {
		t.Errorf("SNS ListTopics with a scoped key: %s %d %q; want AuthorizationError 403 %q", code, status, msg, want)
	}
}

// SendBulkEmail is decided per destination: the one the Deny's recipient
// condition refuses is FAILED with IAM's message, the other is sent.
func TestKeyPolicyBulkPerDestination(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	if _, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("t"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s"), Text: aws.String("x")}}); err != nil {
		t.Fatal(err)
	}
	v2, _ := e.scopedClients(t, "bulk", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ses:SendBulkEmail","Resource":"*"},
		{"Effect":"Deny","Action":"ses:Send*","Resource":"*","Condition":{"ForAnyValue:StringNotLike":{"ses:Recipients":"*@example.com"}}}]}`)
	dest := func(to string) v2types.BulkEmailEntry {
		return v2types.BulkEmailEntry{Destination: &v2types.Destination{ToAddresses: []string{to}}}
	}
	out, err := v2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{FromEmailAddress: aws.String("me@example.org"),
		DefaultContent:   &v2types.BulkEmailContent{Template: &v2types.Template{TemplateName: aws.String("t"), TemplateData: aws.String("{}")}},
		BulkEmailEntries: []v2types.BulkEmailEntry{dest("in@example.com"), dest("out@example.net")}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.BulkEmailEntryResults
	want := "User: arn:aws:iam::" + e.acct + ":user/bulk is not authorized to perform: ses:SendBulkEmail on resource: arn:aws:ses:" +
		e.region + ":" + e.acct + ":identity/me@example.org with an explicit deny in an identity-based policy"
	if len(r) != 2 || r[0].Status != v2types.BulkEmailStatusSuccess || r[1].Status != v2types.BulkEmailStatusFailed ||
		aws.ToString(r[1].Error) != want {
		t.Errorf("results = %+v; want SUCCESS, then FAILED %q", r, want)
	}
	if got := e.claim(t, 1); len(got) != 1 {
		t.Errorf("spooled %d messages; want 1", len(got))
	}
}

// ses:ApiVersion is the API the call came by: a key allowed only v2 is
// refused every v1 call.
func TestKeyPolicyAPIVersion(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	v2, v1 := e.scopedClients(t, "v2-only", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ses:*","Resource":"*","Condition":{"StringEquals":{"ses:ApiVersion":"2"}}}]}`)
	if _, err := v2.GetAccount(ctx, &sesv2.GetAccountInput{}); err != nil {
		t.Errorf("v2 GetAccount: %v", err)
	}
	_, err := v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if code, _, status := apiFailure(err); code != "AccessDenied" || status != http.StatusForbidden {
		t.Errorf("v1 GetSendQuota: %v; want 403 AccessDenied", err)
	}
}
