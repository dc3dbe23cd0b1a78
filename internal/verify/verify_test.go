package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/clock"
	"sesame/internal/dnsx"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

const (
	acct   = "123456789012"
	region = "us-east-1"
)

type fakeSender struct {
	mu     sync.Mutex
	msgs   []sending.SystemMessage
	refuse error // what CheckSending answers
}

func (f *fakeSender) CheckSending(ctx context.Context, account, region string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refuse
}

func (f *fakeSender) sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

func (f *fakeSender) SubmitSystem(ctx context.Context, m sending.SystemMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, m)
	return "id", nil
}

type harness struct {
	v      *Verifier
	st     *store.Store
	dns    *testenv.DNS
	clk    *clock.Fake
	sender *fakeSender
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := testenv.StartDNS(t)
	clk := clock.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	fs := &fakeSender{}
	v := New(Config{Store: st, Resolver: dnsx.New(srv.Addr), Sender: fs, Clock: clk, Hostname: "mail.test", Logger: slog.New(slog.DiscardHandler),
		DKIMCNAMEDomain: "dkim.mail.example.net", MailFromMXDomain: "mail.example.net"})
	return &harness{v: v, st: st, dns: srv, clk: clk, sender: fs}
}

func (h *harness) check(t *testing.T) {
	t.Helper()
	if err := h.v.CheckNow(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) details(t *testing.T, name string) store.IdentityDetails {
	t.Helper()
	d, err := h.st.IdentityDetails(context.Background(), acct, region, name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (h *harness) publishDKIM(d store.IdentityDetails) {
	for _, tok := range d.DKIM.Tokens {
		h.dns.SetCNAME(tok+"._domainkey."+d.Name, tok+".dkim.mail.example.net")
	}
}

func TestEasyDKIMTransitions(t *testing.T) {
	tests := []struct {
		name       string
		dns        func(h *harness, d store.IdentityDetails)
		advance    time.Duration
		wantStatus string
		wantDKIM   string
	}{
		{name: "no records yet", dns: func(*harness, store.IdentityDetails) {}, wantStatus: store.StatusPending, wantDKIM: store.StatusPending},
		{name: "all three CNAMEs", dns: (*harness).publishDKIM, wantStatus: store.StatusSuccess, wantDKIM: store.StatusSuccess},
		{name: "two of three", dns: func(h *harness, d store.IdentityDetails) {
			d.DKIM.Tokens = d.DKIM.Tokens[:2]
			h.publishDKIM(d)
		}, wantStatus: store.StatusPending, wantDKIM: store.StatusPending},
		{name: "CNAME to the wrong domain", dns: func(h *harness, d store.IdentityDetails) {
			for _, tok := range d.DKIM.Tokens {
				h.dns.SetCNAME(tok+"._domainkey."+d.Name, tok+".dkim.amazonses.com")
			}
		}, wantStatus: store.StatusPending, wantDKIM: store.StatusPending},
		{name: "SERVFAIL", dns: func(h *harness, d store.IdentityDetails) {
			h.dns.Fail(d.DKIM.Tokens[0]+"._domainkey."+d.Name, dns.RcodeServerFailure)
		}, wantStatus: store.StatusTemporaryFailure, wantDKIM: store.StatusTemporaryFailure},
		{name: "absent for 72 hours", dns: func(*harness, store.IdentityDetails) {}, advance: 72 * time.Hour,
			wantStatus: store.StatusFailed, wantDKIM: store.StatusFailed},
		{name: "published after 71 hours", dns: (*harness).publishDKIM, advance: 71 * time.Hour,
			wantStatus: store.StatusSuccess, wantDKIM: store.StatusSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			d, err := h.v.CreateDomain(context.Background(), acct, region, "Example.com", DKIMOptions{KeyLength: RSA1024})
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != "example.com" || d.Status != store.StatusPending || d.DKIM.Status != store.StatusPending ||
				len(d.DKIM.Tokens) != 3 || d.DKIM.KeyLength != RSA1024 || d.DKIM.Origin != store.DKIMOriginAWS {
				t.Fatalf("created %+v", d)
			}
			for _, tok := range d.DKIM.Tokens {
				if !regexp.MustCompile(`^[a-z2-7]{32}$`).MatchString(tok) {
					t.Fatalf("token %q is not 32 base32 characters", tok)
				}
			}
			tt.dns(h, d)
			h.clk.Advance(tt.advance)
			h.check(t)
			got := h.details(t, "example.com")
			if got.Status != tt.wantStatus || got.DKIM.Status != tt.wantDKIM {
				t.Fatalf("status %s, DKIM %s; want %s, %s", got.Status, got.DKIM.Status, tt.wantStatus, tt.wantDKIM)
			}
		})
	}
}

func TestTemporaryFailureRecovers(t *testing.T) {
	h := newHarness(t)
	d, err := h.v.CreateDomain(context.Background(), acct, region, "example.org", DKIMOptions{KeyLength: RSA1024})
	if err != nil {
		t.Fatal(err)
	}
	h.dns.Fail(d.DKIM.Tokens[1]+"._domainkey.example.org", dns.RcodeServerFailure)
	h.check(t)
	if got := h.details(t, "example.org"); got.DKIM.Status != store.StatusTemporaryFailure {
		t.Fatalf("DKIM %s", got.DKIM.Status)
	}
	h.dns.Remove(d.DKIM.Tokens[1] + "._domainkey.example.org")
	h.publishDKIM(d)
	h.check(t)
	if got := h.details(t, "example.org"); got.Status != store.StatusSuccess || got.DKIM.Status != store.StatusSuccess {
		t.Fatalf("after recovery: %s / %s", got.Status, got.DKIM.Status)
	}
}

func TestV1DomainTokenAndDKIM(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok, err := h.v.VerifyDomain(ctx, acct, region, "v1.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 44 {
		t.Fatalf("token %q", tok)
	}
	again, err := h.v.VerifyDomain(ctx, acct, region, "v1.example")
	if err != nil || again != tok {
		t.Fatalf("second VerifyDomainIdentity: %q %v, want the same token", again, err)
	}
	if d := h.details(t, "v1.example"); d.DKIM.Status != store.StatusNotStarted || d.DKIM.Origin != "" {
		t.Fatalf("v1 domain has DKIM: %+v", d.DKIM)
	}
	h.check(t)
	if d := h.details(t, "v1.example"); d.Status != store.StatusPending {
		t.Fatalf("status %s", d.Status)
	}
	h.dns.SetTXT("_amazonses.v1.example", "unrelated")
	h.dns.SetTXT("_amazonses.v1.example", tok)
	h.check(t)
	if d := h.details(t, "v1.example"); d.Status != store.StatusSuccess {
		t.Fatalf("status %s after TXT", d.Status)
	}
	toks, err := h.v.VerifyDomainDKIM(ctx, acct, region, "v1.example")
	if err != nil || len(toks) != 3 {
		t.Fatalf("VerifyDomainDkim: %v %v", toks, err)
	}
	toks2, _ := h.v.VerifyDomainDKIM(ctx, acct, region, "v1.example")
	if strings.Join(toks, ",") != strings.Join(toks2, ",") {
		t.Fatal("VerifyDomainDkim twice gave new tokens")
	}
	// VerifyDomainDkim creates an absent domain.
	if toks, err := h.v.VerifyDomainDKIM(ctx, acct, region, "new.example"); err != nil || len(toks) != 3 {
		t.Fatalf("VerifyDomainDkim on a new domain: %v %v", toks, err)
	}
}

func byodkimKey(t *testing.T, bits int) (string, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	return base64.StdEncoding.EncodeToString(der), pkcs8
}

func TestBYODKIM(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	key, der := byodkimKey(t, 1024)
	other, otherDER := byodkimKey(t, 1024)
	_ = other
	d, err := h.v.CreateDomain(ctx, acct, region, "byo.example", DKIMOptions{Selector: "Sel1", PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if d.DKIM.Origin != store.DKIMOriginExternal || d.DKIM.Selector != "sel1" || len(d.DKIM.Tokens) != 0 || d.DKIM.KeyLength != RSA1024 {
		t.Fatalf("BYODKIM %+v", d.DKIM)
	}
	wrong, _ := PublicKeyRecord(otherDER)
	h.dns.SetTXT("sel1._domainkey.byo.example", wrong)
	h.check(t)
	if got := h.details(t, "byo.example"); got.DKIM.Status != store.StatusPending {
		t.Fatalf("wrong key: DKIM %s", got.DKIM.Status)
	}
	h.dns.Remove("sel1._domainkey.byo.example")
	right, _ := PublicKeyRecord(der)
	h.dns.SetTXT("sel1._domainkey.byo.example", right)
	h.check(t)
	if got := h.details(t, "byo.example"); got.DKIM.Status != store.StatusSuccess || got.Status != store.StatusSuccess {
		t.Fatalf("right key: %s / %s", got.Status, got.DKIM.Status)
	}

	bad := []DKIMOptions{
		{Selector: "s", PrivateKey: "not base64!"},
		{Selector: "s", PrivateKey: base64.StdEncoding.EncodeToString([]byte("not a key"))},
		{Selector: "", PrivateKey: key},
		{Selector: "bad selector", PrivateKey: key},
		{KeyLength: "RSA_4096_BIT"},
	}
	for _, o := range bad {
		_, err := h.v.CreateDomain(ctx, acct, region, "bad.example", o)
		if e := seserr.As(err); err == nil || e.APICode != "BadRequestException" {
			t.Errorf("%+v: %v, want BadRequest", o, err)
		}
	}
}

func TestMailFrom(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.v.CreateDomain(ctx, acct, region, "mf.example", DKIMOptions{KeyLength: RSA1024}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.PutMailFrom(ctx, acct, region, "mf.example", "bounce.other.example", ""); seserr.As(err).APICode != "BadRequestException" {
		t.Fatalf("foreign MAIL FROM: %v", err)
	}
	if _, err := h.v.PutMailFrom(ctx, acct, region, "mf.example", "bounce.mf.example", "SOMETIMES"); seserr.As(err).APICode != "BadRequestException" {
		t.Fatalf("bad behaviour: %v", err)
	}
	d, err := h.v.PutMailFrom(ctx, acct, region, "mf.example", "Bounce.MF.example", store.MailFromReject)
	if err != nil || d.MailFrom.Status != store.StatusPending || d.MailFrom.Domain != "bounce.mf.example" {
		t.Fatalf("%+v %v", d.MailFrom, err)
	}
	h.dns.SetMX("bounce.mf.example", 10, "feedback-smtp.eu-west-1.mail.example.net")
	h.check(t)
	if got := h.details(t, "mf.example"); got.MailFrom.Status != store.StatusPending {
		t.Fatalf("MX for another region: %s", got.MailFrom.Status)
	}
	h.dns.Remove("bounce.mf.example")
	h.dns.SetMX("bounce.mf.example", 10, "feedback-smtp.us-east-1.mail.example.net")
	h.check(t)
	if got := h.details(t, "mf.example"); got.MailFrom.Status != store.StatusSuccess {
		t.Fatalf("MX right: %s", got.MailFrom.Status)
	}
	d, err = h.v.PutMailFrom(ctx, acct, region, "mf.example", "", "")
	if err != nil || d.MailFrom.Domain != "" || d.MailFrom.Status != "" {
		t.Fatalf("removing: %+v %v", d.MailFrom, err)
	}
}

var linkRE = regexp.MustCompile(`https?://\S+/_sesame/verify-email\?token=(\S+)`)

func (h *harness) lastToken(t *testing.T) string {
	t.Helper()
	h.sender.mu.Lock()
	defer h.sender.mu.Unlock()
	if len(h.sender.msgs) == 0 {
		t.Fatal("no verification mail")
	}
	m := h.sender.msgs[len(h.sender.msgs)-1]
	found := linkRE.FindStringSubmatch(string(m.Message))
	if found == nil {
		t.Fatalf("no link in\n%s", m.Message)
	}
	return found[1]
}

func TestEmailLink(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	d, err := h.v.CreateEmail(ctx, acct, "eu-west-1", "Someone@Example.com", "http://127.0.0.1:8787")
	if err != nil || d.Status != store.StatusPending {
		t.Fatalf("%+v %v", d, err)
	}
	m := h.sender.msgs[0]
	msg := string(m.Message)
	// The subject is longer than a line: read it unfolded, as a client does.
	parsed, err := mail.ReadMessage(strings.NewReader(msg))
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || m.MailFrom != "no-reply@mail.test" || m.Recipients[0] != "Someone@Example.com" || m.AccountID != acct || m.Region != "eu-west-1" ||
		subject != "Amazon Web Services - Email Address Verification Request in region Europe (Ireland)" {
		t.Fatalf("mail %+v\n%s", m, msg)
	}
	if _, err := h.v.CreateEmail(ctx, acct, "eu-west-1", "Someone@Example.com", "http://x"); seserr.As(err).APICode != "AlreadyExistsException" {
		t.Fatalf("second create: %v", err)
	}
	tok := h.lastToken(t)
	if _, res, err := h.v.ConfirmEmail(ctx, tok+"x"); err != nil || res != Invalid {
		t.Fatalf("bad token: %v %v", res, err)
	}
	h.clk.Advance(23 * time.Hour)
	got, res, err := h.v.ConfirmEmail(ctx, tok)
	if err != nil || res != Verified || got.Status != store.StatusSuccess {
		t.Fatalf("confirm: %v %v %+v", res, err, got)
	}
}

func TestEmailLinkExpires(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, addr := range []string{"late@example.com", "never@example.com"} {
		if err := h.v.VerifyEmail(ctx, acct, region, addr, "http://h"); err != nil {
			t.Fatal(err)
		}
	}
	tok := h.sender.msgs[0]
	late := linkRE.FindStringSubmatch(string(tok.Message))[1]
	h.clk.Advance(EmailLinkTTL + time.Second)
	if _, res, err := h.v.ConfirmEmail(ctx, late); err != nil || res != Expired {
		t.Fatalf("late click: %v %v", res, err)
	}
	if d := h.details(t, "late@example.com"); d.Status != store.StatusFailed {
		t.Fatalf("late: %s", d.Status)
	}
	h.check(t)
	if d := h.details(t, "never@example.com"); d.Status != store.StatusFailed {
		t.Fatalf("never clicked: %s", d.Status)
	}
	// Verifying again sends a new link that works.
	if err := h.v.VerifyEmail(ctx, acct, region, "late@example.com", "http://h"); err != nil {
		t.Fatal(err)
	}
	if d := h.details(t, "late@example.com"); d.Status != store.StatusPending {
		t.Fatalf("re-verify: %s", d.Status)
	}
	if _, res, _ := h.v.ConfirmEmail(ctx, late); res != Invalid {
		t.Fatalf("old link after a new one: %v", res)
	}
	if _, res, _ := h.v.ConfirmEmail(ctx, h.lastToken(t)); res != Verified {
		t.Fatalf("new link: %v", res)
	}
}

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM.", "example.com"},
		{"User@Example.com", "User@Example.com"},
		{"nodot", ""},
		{"bad domain.com", ""},
		{"a@", ""},
		{"a@b@c.com", ""},
	}
	for _, tt := range tests {
		got, err := CanonicalName(tt.in)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRunChecksWhenKicked(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.v.Run(ctx) }()
	h.dns.SetTXT("_amazonses.kick.example", "x")
	tok, err := h.v.VerifyDomain(ctx, acct, region, "kick.example")
	if err != nil {
		t.Fatal(err)
	}
	h.dns.SetTXT("_amazonses.kick.example", tok)
	// Publishing needs another pass: kick it through a second change.
	if _, err := h.v.VerifyDomain(ctx, acct, region, "kick.example"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.details(t, "kick.example").Status != store.StatusSuccess {
		if time.Now().After(deadline) {
			t.Fatal("Run never verified the domain")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
