package policy

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzPolicy: any document, valid or not, is parsed without panicking, and
// one that parses evaluates without panicking; a document either parses
// with no error or fails with a *policy.Error (never another error type,
// which the API would turn into a 500).
func FuzzPolicy(f *testing.F) {
	f.Add(sesGuideExample, true)
	f.Add(`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAllValues:StringNotLikeIfExists":{"ses:Recipients":["*?*"]},"IpAddress":{"aws:SourceIp":"::/0"}}}}`, false)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"ses:SendEmail","NotResource":"arn:*"}]}`, true)
	r := Request{
		Principal: "123456789012", Action: "ses:SendRawEmail", Resource: identityARN,
		FromAddress: "a@example.com", Recipients: []string{"b@example.net"},
		SourceIP: netip.MustParseAddr("10.1.2.3"), Time: time.Unix(1e9, 0),
	}
	f.Fuzz(func(t *testing.T, doc string, identity bool) {
		kind := Key
		if identity {
			kind = Identity
		}
		d, err := Parse(doc, kind, identityARN)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error %T %v, want *policy.Error", err, err)
			}
			return
		}
		d.Evaluate(r)
	})
}
