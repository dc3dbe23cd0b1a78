package dnsx_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sesame/internal/dnsx"
	"sesame/internal/testenv"
)

func TestClient(t *testing.T) {
	srv := testenv.StartDNS(t)
	srv.SetCNAME("abc._domainkey.example.com", "abc.dkim.amazonses.com")
	srv.SetTXT("_amazonses.example.com", "tok123")
	srv.SetTXT("_amazonses.example.com", "other")
	long := strings.Repeat("k", 400)
	srv.SetTXT("sel._domainkey.example.com", "p="+long)
	srv.SetMX("mail.example.com", 10, "feedback-smtp.us-east-1.amazonses.com")
	srv.SetTXT("txtonly.example.com", "x")
	srv.Fail("broken.example.com", dns.RcodeServerFailure)
	r := dnsx.New(srv.Addr)
	ctx := context.Background()

	tests := []struct {
		name     string
		lookup   func() (string, error)
		want     string
		notFound bool
		temp     bool
	}{
		{name: "cname", lookup: func() (string, error) { return r.CNAME(ctx, "ABC._domainkey.example.com") }, want: "abc.dkim.amazonses.com"},
		{name: "txt several", lookup: func() (string, error) {
			v, err := r.TXT(ctx, "_amazonses.example.com")
			slices.Sort(v)
			return strings.Join(v, ","), err
		}, want: "other,tok123"},
		{name: "txt long joined", lookup: func() (string, error) {
			v, err := r.TXT(ctx, "sel._domainkey.example.com")
			return strings.Join(v, ","), err
		}, want: "p=" + long},
		{name: "mx", lookup: func() (string, error) {
			v, err := r.MX(ctx, "mail.example.com")
			if err != nil || len(v) != 1 {
				return "", err
			}
			return v[0].Host, nil
		}, want: "feedback-smtp.us-east-1.amazonses.com"},
		{name: "nxdomain", lookup: func() (string, error) { return r.CNAME(ctx, "nope.example.com") }, notFound: true},
		{name: "no record of the type", lookup: func() (string, error) { return r.CNAME(ctx, "txtonly.example.com") }, notFound: true},
		{name: "servfail", lookup: func() (string, error) {
			v, err := r.TXT(ctx, "broken.example.com")
			return strings.Join(v, ","), err
		}, temp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.lookup()
			switch {
			case tt.notFound:
				if !dnsx.IsNotFound(err) {
					t.Fatalf("err = %v, want not found", err)
				}
			case tt.temp:
				if err == nil || dnsx.IsNotFound(err) {
					t.Fatalf("err = %v, want a temporary failure", err)
				}
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientUnreachable(t *testing.T) {
	r := &dnsx.Client{Server: "127.0.0.1:1", Timeout: 200e6}
	_, err := r.TXT(context.Background(), "example.com")
	if err == nil || dnsx.IsNotFound(err) {
		t.Fatalf("err = %v, want a temporary failure", err)
	}
}

func TestClientSOA(t *testing.T) {
	srv := testenv.StartDNS(t)
	srv.SetSOA("example.com", "NS1.Example.com", `john\.doe.example.com`, 2026120601)
	srv.SetMX("mail.example.com", 10, "mx.example.com")
	srv.Fail("broken.example.com", dns.RcodeServerFailure)
	r := dnsx.New(srv.Addr).(dnsx.SOAResolver)
	ctx := context.Background()
	soa, err := r.SOA(ctx, "example.com")
	if err != nil || soa != (dnsx.SOA{PrimaryNS: "ns1.example.com", AdminEmail: "john.doe@example.com", Serial: 2026120601}) {
		t.Errorf("SOA = %+v, %v", soa, err)
	}
	for _, name := range []string{"mail.example.com", "nope.example.com"} {
		if _, err := r.SOA(ctx, name); !dnsx.IsNotFound(err) {
			t.Errorf("SOA %s: %v, want not found", name, err)
		}
	}
	if _, err := r.SOA(ctx, "broken.example.com"); err == nil || dnsx.IsNotFound(err) {
		t.Errorf("SOA of a SERVFAIL name: %v, want a temporary error", err)
	}
	if _, ok := dnsx.New("").(dnsx.SOAResolver); ok {
		t.Error("the system resolver claims to find SOA records")
	}
}
