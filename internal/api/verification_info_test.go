package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/miekg/dns"
)

// GetEmailIdentity's VerificationInfo follows the verifier's checks of a
// domain through a real DNS server: each failure's SES error type, the
// time of the last check, the time of the success, and the zone's SOA.
func TestEmailIdentityVerificationInfo(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	const domain = "info.example"
	created, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(domain)})
	if err != nil {
		t.Fatal(err)
	}
	toks := created.DkimAttributes.Tokens
	info := func() *v2types.VerificationInfo {
		t.Helper()
		got, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(domain)})
		if err != nil {
			t.Fatal(err)
		}
		return got.VerificationInfo
	}
	if got := info(); got != nil {
		t.Fatalf("never checked: %+v", got)
	}
	e.dns.SetSOA(domain, "ns1.info.example", "hostmaster.info.example", 2026120601)
	sameTime := func(got *time.Time, want time.Time) bool {
		return got != nil && got.Sub(want).Abs() < time.Millisecond
	}
	for _, step := range []struct {
		name  string
		setup func()
		want  v2types.VerificationError
	}{
		{"no records", func() {}, v2types.VerificationErrorHostNotFound},
		{"a name without a CNAME", func() { e.dns.SetTXT(toks[0]+"._domainkey."+domain, "x") }, v2types.VerificationErrorTypeNotFound},
		{"CNAMEs pointing elsewhere", func() {
			for _, tok := range toks {
				e.dns.Remove(tok + "._domainkey." + domain)
				e.dns.SetCNAME(tok+"._domainkey."+domain, tok+".dkim.elsewhere.example")
			}
		}, v2types.VerificationErrorInvalidValue},
		{"SERVFAIL", func() { e.dns.Fail(toks[1]+"._domainkey."+domain, dns.RcodeServerFailure) }, v2types.VerificationErrorDnsServerError},
	} {
		e.vclk.Advance(time.Minute)
		step.setup()
		e.checkNow(t)
		got := info()
		if got == nil || got.ErrorType != step.want || !sameTime(got.LastCheckedTimestamp, e.vclk.Now()) || got.LastSuccessTimestamp != nil {
			t.Fatalf("%s: %+v; want %s, checked at %v, never succeeded", step.name, got, step.want, e.vclk.Now())
		}
	}

	e.vclk.Advance(time.Minute)
	for _, tok := range toks {
		e.dns.Remove(tok + "._domainkey." + domain)
		e.dns.SetCNAME(tok+"._domainkey."+domain, tok+".dkim.mail.example.net")
	}
	e.checkNow(t)
	verified := e.vclk.Now()
	got := info()
	if got == nil || got.ErrorType != "" || !sameTime(got.LastCheckedTimestamp, verified) || !sameTime(got.LastSuccessTimestamp, verified) {
		t.Fatalf("verified: %+v; want checked and succeeded at %v, no error", got, verified)
	}
	if soa := got.SOARecord; soa == nil || aws.ToString(soa.PrimaryNameServer) != "ns1.info.example" ||
		aws.ToString(soa.AdminEmail) != "hostmaster@info.example" || soa.SerialNumber != 2026120601 {
		t.Errorf("SOARecord = %+v", soa)
	}
	// A verified domain is not checked again: the times stay.
	e.vclk.Advance(time.Hour)
	e.checkNow(t)
	if got := info(); !sameTime(got.LastCheckedTimestamp, verified) || !sameTime(got.LastSuccessTimestamp, verified) {
		t.Fatalf("after another pass: %+v", got)
	}
}

// An address's check is its link: followed, it is checked and succeeded.
func TestEmailAddressVerificationInfo(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	const addr = "info@example.com"
	if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(addr)}); err != nil {
		t.Fatal(err)
	}
	link := e.verificationLink(t, addr)
	e.vclk.Advance(time.Minute)
	if code, body := follow(t, link); code != http.StatusOK {
		t.Fatalf("link: %d %s", code, body)
	}
	got, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(addr)})
	if err != nil {
		t.Fatal(err)
	}
	i := got.VerificationInfo
	if i == nil || i.ErrorType != "" || i.LastCheckedTimestamp == nil || i.LastSuccessTimestamp == nil ||
		i.LastCheckedTimestamp.Sub(e.vclk.Now()).Abs() >= time.Millisecond || !i.LastSuccessTimestamp.Equal(*i.LastCheckedTimestamp) {
		t.Fatalf("after the link: %+v; want checked and succeeded at %v", i, e.vclk.Now())
	}
}
