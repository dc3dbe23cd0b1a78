package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const identityARN = "arn:aws:ses:us-east-1:888888888888:identity/example.com"

// sesGuideExample is the shape of SES's guide's example policy.
const sesGuideExample = `{
  "Id": "ExampleAuthorizationPolicy",
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "AuthorizeAccount",
    "Effect": "Allow",
    "Resource": "arn:aws:ses:us-east-1:888888888888:identity/example.com",
    "Principal": {"AWS": ["123456789012"]},
    "Action": ["ses:SendEmail", "ses:SendRawEmail"],
    "Condition": {"StringLike": {"ses:FromAddress": "invoicing*@example.com"}}
  }]
}`

func TestParseRefuses(t *testing.T) {
	stmt := func(body string) string {
		return `{"Version":"2012-10-17","Statement":[{` + body + `}]}`
	}
	okBody := `"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ses:SendEmail","Resource":"` + identityARN + `"`
	tests := []struct {
		name string
		doc  string
		kind Kind
		want string
	}{
		{"empty", "", Identity, "empty"},
		{"truncated", "{", Identity, "Policy is not valid JSON (it ends too early)"},
		{"not json", `{bad`, Identity, "Policy is not valid JSON (at byte 2)"},
		{"a list", `[{"Version":"2012-10-17"}]`, Identity, "Policy is not a JSON object"},
		{"too big", `{"Statement":[` + strings.Repeat(" ", MaxBytes) + `]}`, Identity, "the limit is 4096"},
		{"bad version", `{"Version":"2020-01-01","Statement":[{` + okBody + `}]}`, Identity, "Version"},
		{"no statement", `{"Version":"2012-10-17"}`, Identity, "no Statement"},
		{"unknown top element", `{"Version":"2012-10-17","Statment":[]}`, Identity, "unknown element"},
		{"effect", stmt(`"Effect":"Maybe","Principal":"*","Action":"ses:SendEmail","Resource":"` + identityARN + `"`), Identity, "Effect"},
		{"no principal", stmt(`"Effect":"Allow","Action":"ses:SendEmail","Resource":"` + identityARN + `"`), Identity, "Principal is required"},
		{"principal on a key", stmt(okBody), Key, "names no Principal"},
		{"bad principal", stmt(`"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"ses:SendEmail","Resource":"` + identityARN + `"`), Identity, "neither an account id"},
		{"not a send action", stmt(`"Effect":"Allow","Principal":"*","Action":"ses:DeleteIdentity","Resource":"` + identityARN + `"`), Identity, "not a sending action"},
		{"other service", stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":"*"`), Key, "not an SES action"},
		{"other identity", stmt(`"Effect":"Allow","Principal":"*","Action":"ses:SendEmail","Resource":"arn:aws:ses:us-east-1:888888888888:identity/other.com"`), Identity, "not this identity"},
		{"no resource", stmt(`"Effect":"Allow","Principal":"*","Action":"ses:SendEmail"`), Identity, "Resource is required"},
		{"both action forms", stmt(okBody + `,"NotAction":"ses:SendRawEmail"`), Identity, "both Action and NotAction"},
		{"unknown operator", stmt(okBody + `,"Condition":{"StringSorta":{"ses:FromAddress":"a"}}`), Identity, "StringSorta"},
		{"unknown ses key", stmt(okBody + `,"Condition":{"StringEquals":{"ses:FromAdress":"a"}}`), Identity, "not an SES condition key"},
		{"bad date", stmt(okBody + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), Identity, "not a date"},
		{"bad cidr", stmt(okBody + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`), Identity, "not an IP address"},
		{"duplicate sid", `{"Statement":[{"Sid":"a",` + okBody + `},{"Sid":"a",` + okBody + `}]}`, Identity, "unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.doc, tt.kind, identityARN)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse: %v, want a *policy.Error", err)
			}
			if !strings.Contains(pe.Why, tt.want) {
				t.Errorf("Parse: %q, want it to say %q", pe.Why, tt.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for name, doc := range map[string]string{
		"SES guide example":                           sesGuideExample,
		"single statement, root ARN, wildcard action": `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ses:Send*","Resource":"` + identityARN + `"}}`,
		"resource pattern":                            `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"arn:aws:ses:*:888888888888:identity/*"}]}`,
	} {
		d, err := Parse(doc, Identity, identityARN)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.String() != doc {
			t.Errorf("%s: String() does not give the document back", name)
		}
	}
}

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	send := Request{
		Principal: "123456789012", Action: "ses:SendRawEmail", Resource: identityARN,
		FromAddress: "invoicing-eu@example.com", FromDisplayName: "Billing",
		Recipients: []string{"a@customer.net", "b@customer.net"}, FeedbackAddress: "bounces@example.com",
		SourceIP: netip.MustParseAddr("192.0.2.7"), Time: now, SecureTransport: true,
	}
	with := func(f func(r *Request)) Request {
		r := send
		r.Recipients = append([]string(nil), send.Recipients...)
		f(&r)
		return r
	}
	cond := func(c string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"` + identityARN + `","Condition":` + c + `}]}`
	}
	tests := []struct {
		name string
		doc  string
		r    Request
		want Decision
	}{
		{"guide example, matching From", sesGuideExample, send, Allow},
		{"guide example, other From", sesGuideExample, with(func(r *Request) { r.FromAddress = "ceo@example.com" }), NoMatch},
		{"guide example, other account", sesGuideExample, with(func(r *Request) { r.Principal = "999999999999" }), NoMatch},
		{"guide example, other action", sesGuideExample, with(func(r *Request) { r.Action = "ses:SendTemplatedEmail" }), NoMatch},
		{"action names ignore case", sesGuideExample, with(func(r *Request) { r.Action = "SES:sendrawemail" }), Allow},
		{"recipients all match", cond(`{"ForAllValues:StringLike":{"ses:Recipients":["*@customer.net"]}}`), send, Allow},
		{"one recipient outside", cond(`{"ForAllValues:StringLike":{"ses:Recipients":["*@customer.net"]}}`), with(func(r *Request) { r.Recipients = append(r.Recipients, "x@elsewhere.org") }), NoMatch},
		{"any recipient", cond(`{"ForAnyValue:StringEquals":{"ses:Recipients":"b@customer.net"}}`), send, Allow},
		{"display name", cond(`{"StringEquals":{"ses:FromDisplayName":"Billing"}}`), send, Allow},
		{"display name differs", cond(`{"StringEquals":{"ses:FromDisplayName":"billing"}}`), send, NoMatch},
		{"display name ignoring case", cond(`{"StringEqualsIgnoreCase":{"ses:FromDisplayName":"billing"}}`), send, Allow},
		{"feedback address not like", cond(`{"StringNotLike":{"ses:FeedbackAddress":"*@example.com"}}`), send, NoMatch},
		{"before a date", cond(`{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}`), send, Allow},
		{"after the end date", cond(`{"DateLessThan":{"aws:CurrentTime":"2026-12-01T00:00:00Z"}}`), send, NoMatch},
		{"epoch time", cond(`{"DateGreaterThan":{"aws:EpochTime":1700000000}}`), send, Allow},
		{"source ip in range", cond(`{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}`), send, Allow},
		{"source ip outside", cond(`{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`), send, NoMatch},
		{"secure transport", cond(`{"Bool":{"aws:SecureTransport":"false"}}`), send, NoMatch},
		{"absent key, positive operator", cond(`{"StringEquals":{"ses:ApiVersion":"2"}}`), send, NoMatch},
		{"absent key, IfExists", cond(`{"StringEqualsIfExists":{"ses:ApiVersion":"2"}}`), send, Allow},
		{"absent key, negated operator", cond(`{"StringNotEquals":{"ses:ApiVersion":"2"}}`), send, Allow},
		{"null", cond(`{"Null":{"ses:ApiVersion":"true"}}`), send, Allow},
		{"two keys are ANDed", cond(`{"StringLike":{"ses:FromAddress":"invoicing*","ses:FeedbackAddress":"nobody@*"}}`), send, NoMatch},
		{"explicit deny wins", `{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"ses:*","Resource":"` + identityARN + `"},
			{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"ses:SendRawEmail","Resource":"` + identityARN + `"}]}`, send, Deny},
		{"NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"999999999999"},"Action":"ses:SendRawEmail","Resource":"` + identityARN + `"}]}`, send, Allow},
		{"service principal matches no account", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ses.amazonaws.com"},"Action":"ses:SendRawEmail","Resource":"` + identityARN + `"}]}`, send, NoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.doc, Identity, identityARN)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Evaluate(tt.r); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyPolicy(t *testing.T) {
	sendOnly, err := Parse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"arn:aws:ses:*:*:identity/example.com"},
		{"Effect":"Deny","Action":"ses:Send*","Resource":"*","Condition":{"ForAnyValue:StringNotLike":{"ses:Recipients":"*@example.com"}}}]}`, Key, "")
	if err != nil {
		t.Fatal(err)
	}
	r := Request{Principal: "123456789012", Action: "ses:SendEmail", Resource: identityARN, Recipients: []string{"a@example.com"}}
	if got := Decide([]*Document{sendOnly}, r); got != Allow {
		t.Errorf("send to an allowed recipient: %v", got)
	}
	r.Recipients = append(r.Recipients, "b@elsewhere.org")
	if got := Decide([]*Document{sendOnly}, r); got != Deny {
		t.Errorf("send with a recipient outside: %v, want Deny", got)
	}
	if got := Decide([]*Document{sendOnly}, Request{Action: "ses:CreateEmailIdentity", Resource: "*"}); got != NoMatch {
		t.Errorf("an action not granted: %v, want NoMatch", got)
	}
	if got := Decide(nil, r); got != NoMatch {
		t.Errorf("no documents: %v", got)
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*@example.com", "x@example.com", true}, {"*a*a*a*b", strings.Repeat("a", 50), false},
	} {
		if got := wildcardMatch(tt.p, tt.s, false); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}
