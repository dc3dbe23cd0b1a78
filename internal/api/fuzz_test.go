package api

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
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
