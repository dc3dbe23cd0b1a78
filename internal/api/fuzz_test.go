package api

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"sesame/internal/receipt"
	"sesame/internal/seserr"
)

// FuzzQueryForm: the SES v1 / SNS Query parser and its typed readers take
// any body and any URL query without panicking, and a parameter the body
// gives is never replaced by the URL's.
func FuzzQueryForm(f *testing.F) {
	f.Add("Action=SendEmail&Destination.ToAddresses.member.1=a%40b&Message.Subject.Data=x", "Action=GetSendQuota")
	f.Add("Tags.member.1.Name=a&Tags.member.1.Value=b&Attributes.entry.1.key=k&Attributes.entry.1.value=v", "")
	f.Add("MaxItems=abc&Enabled=maybe&%zz", "X-Amz-Signature=00")
	f.Add("a=1&a=2;b", "Destination.ToAddresses.member.99999999999999999999=x")
	f.Fuzz(func(t *testing.T, body, query string) {
		r := httptest.NewRequest("POST", "/", nil)
		r.URL.RawQuery = query
		form, err := queryForm(r, []byte(body))
		if err != nil {
			return
		}
		signed, _ := url.ParseQuery(body)
		for k, v := range signed {
			if !slices.Equal(form[k], v) {
				t.Fatalf("%q: body says %q, form has %q", k, v, form[k])
			}
		}
		q := queryArgs{v: form}
		for k := range form {
			q.Get(k)
			q.Has(k)
			_, _ = q.Required(k)
			q.Members(k)
			q.List(k)
			q.Map(k)
			_, _, _ = q.Bool(k)
			_, _, _ = q.Int(k)
			q.Sub(k).Members("member")
		}
	})
}

// FuzzReceiptRule: any Rule.* parameters read as a rule that either fails
// validation with an SES error or is one SES would accept, and a valid
// rule's XML reads back as the same rule.
func FuzzReceiptRule(f *testing.F) {
	f.Add("Rule.Name=r&Rule.Enabled=true&Rule.Recipients.member.1=a%40example.com&Rule.Actions.member.1.SNSAction.TopicArn=t")
	f.Add("Rule.Name=r&Rule.Actions.member.1.StopAction.Scope=RuleSet&Rule.Actions.member.2.AddHeaderAction.HeaderName=X")
	f.Add("Rule.Name=-r&Rule.TlsPolicy=Always&Rule.Actions.member.3.BounceAction.SmtpReplyCode=5")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r, err := ruleFromQuery(queryArgs{v: form}.Sub("Rule"))
		if err != nil {
			return
		}
		if err := receipt.ValidateRule(&r); err != nil {
			if e := seserr.As(err); e.QueryCode == "" || e.HTTPStatus != 400 && e.HTTPStatus != 404 {
				t.Fatalf("ValidateRule: %v is not a client error", err)
			}
			return
		}
		if r.TLSPolicy == "" || len(r.Actions) > receipt.MaxActions {
			t.Fatalf("a valid rule without SES's defaults or over the limit: %+v", r)
		}
		x := toRuleXML(r)
		if x.Name != r.Name || (x.Actions == nil) != (len(r.Actions) == 0) {
			t.Fatalf("XML %+v of %+v", x, r)
		}
	})
}
