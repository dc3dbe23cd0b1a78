package dkim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"sesame/internal/clock"
	"sesame/internal/store"
)

const (
	acct   = "111122223333"
	region = "us-east-1"
)

var (
	keyOnce sync.Once
	keys    [2][]byte // PKCS#8 DER, 1024-bit: fast to make, enough to test
)

func testKeys(t testing.TB) [2][]byte {
	t.Helper()
	keyOnce.Do(func() {
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				panic(err)
			}
			keys[i], _ = x509.MarshalPKCS8PrivateKey(k)
		}
	})
	return keys
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func easy(key []byte, tokens ...string) store.DKIM {
	return store.DKIM{Origin: store.DKIMOriginAWS, SigningEnabled: true, Status: store.StatusSuccess,
		Tokens: tokens, PrivateKey: key, KeyLength: "RSA_1024_BIT", KeyGenerated: time.Unix(1700000000, 0)}
}

func byo(key []byte, selector string) store.DKIM {
	return store.DKIM{Origin: store.DKIMOriginExternal, SigningEnabled: true, Status: store.StatusSuccess,
		Selector: selector, PrivateKey: key, KeyGenerated: time.Unix(1700000000, 0)}
}

func addIdentity(t testing.TB, st *store.Store, name string, d store.DKIM) {
	t.Helper()
	err := st.CreateIdentity(context.Background(), store.IdentityDetails{
		Identity: store.Identity{AccountID: acct, Region: region, Name: name, Status: store.StatusSuccess},
		DKIM:     d}, store.MaxIdentities)
	if err != nil {
		t.Fatal(err)
	}
}

// dnsOf answers TXT lookups for <selector>._domainkey.<domain> with the
// public halves of the keys given.
type dnsOf map[string][]byte

func (d dnsOf) lookup(name string) ([]string, error) {
	der, ok := d[name]
	if !ok {
		return nil, fmt.Errorf("no TXT at %s", name)
	}
	rec, err := PublicKeyRecord(der)
	if err != nil {
		return nil, err
	}
	return []string{rec}, nil
}

func message(from, extra string) string {
	return "From: " + from + "\r\n" +
		"To: Rcpt <rcpt@example.net>\r\n" +
		"Subject: hello\r\n" +
		"  folded subject\r\n" +
		"Message-ID: <0100-abc@us-east-1.amazonses.com>\r\n" +
		"Date: Mon, 23 Nov 2026 14:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n" +
		"X-Other: not signed\r\n" + extra +
		"\r\n" +
		"Body line one  \r\n" +
		"\r\n" +
		"Body line three\r\n\r\n\r\n"
}

func TestSign(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	st := openStore(t)
	addIdentity(t, st, "example.com", easy(k[0], "tok1aaaa", "tok2bbbb", "tok3cccc"))
	addIdentity(t, st, "byo.example.org", byo(k[1], "sel1"))
	addIdentity(t, st, "off.example.com", store.DKIM{Origin: store.DKIMOriginAWS, Status: store.StatusSuccess,
		Tokens: []string{"offtok"}, PrivateKey: k[1]})
	addIdentity(t, st, "pending.example", store.DKIM{Origin: store.DKIMOriginAWS, SigningEnabled: true,
		Status: store.StatusPending, Tokens: []string{"pend"}, PrivateKey: k[1]})
	addIdentity(t, st, "plain@off.example.com", store.DKIM{})                                                         // inherits: off
	addIdentity(t, st, "own@pending.example", byo(k[0], "addrsel"))                                                   // address overrides its domain
	addIdentity(t, st, "nodkim.example.com", store.DKIM{})                                                            // no DKIM: the parent signs
	addIdentity(t, st, "someone@example.com", store.DKIM{})                                                           // plain address: the domain signs
	addIdentity(t, st, "nosigning@example.com", store.DKIM{Origin: store.DKIMOriginAWS, Status: store.StatusSuccess}) // override: off
	addIdentity(t, st, "optout@example.com", store.DKIM{SigningSet: true})                                            // set off by its owner
	addIdentity(t, st, "optin@example.com", store.DKIM{SigningSet: true, SigningEnabled: true})                       // set on: the domain signs
	dns := dnsOf{
		"tok1aaaa._domainkey.example.com":        k[0],
		"sel1._domainkey.byo.example.org":        k[1],
		"tok1aaaa._domainkey.a.example.com":      k[0],
		"addrsel._domainkey.pending.example":     k[0],
		"tok1aaaa._domainkey.nodkim.example.com": k[0],
	}
	s := New(st, clock.NewFake(time.Now()), nil)
	tests := []struct {
		name, from, extra string
		wantD, wantS      string // "" = no signature
		wantH             string
	}{
		{"easy dkim", "Sender <someone@example.com>", "", "example.com", "tok1aaaa",
			"From:To:Subject:Message-ID:Date:MIME-Version:Content-Type"},
		{"upper-case domain", "x@EXAMPLE.com", "", "example.com", "tok1aaaa", ""},
		{"subdomain signs with the parent", "x@a.example.com", "Cc: c@example.net\r\nReply-To: r@example.net\r\nFeedback-ID: 1.us-east-1.abc=:AmazonSES\r\n",
			"example.com", "tok1aaaa", "From:To:Subject:Message-ID:Date:MIME-Version:Content-Type:Cc:Reply-To:Feedback-ID"},
		{"identity without dkim inherits", "x@nodkim.example.com", "", "example.com", "tok1aaaa", ""},
		{"byodkim", "x@byo.example.org", "", "byo.example.org", "sel1", ""},
		{"signing disabled", "x@off.example.com", "", "", "", ""},
		{"address inherits disabled", "plain@off.example.com", "", "", "", ""},
		{"dkim pending", "x@pending.example", "", "", "", ""},
		{"address override", "own@pending.example", "", "pending.example", "addrsel", ""},
		{"address override with a +label", "own+news@pending.example", "", "pending.example", "addrsel", ""},
		{"address override, domain in capitals", "own@PENDING.example", "", "pending.example", "addrsel", ""},
		{"address override off", "nosigning@example.com", "", "", "", ""},
		{"address override off with a +label", "nosigning+x@example.com", "", "", "", ""},
		{"address set off under a signing domain", "optout@example.com", "", "", "", ""},
		{"address set on signs with its domain", "optin@example.com", "", "example.com", "tok1aaaa", ""},
		{"no identity", "x@elsewhere.test", "", "", "", ""},
		{"encoded name", "=?x-unknown?q?Caf=E9?= <someone@example.com>", "", "example.com", "tok1aaaa", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := message(tc.from, tc.extra)
			sig, err := s.Sign(context.Background(), acct, region, strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantD == "" {
				if sig != nil {
					t.Fatalf("signed: %s", sig)
				}
				return
			}
			if !bytes.HasSuffix(sig, []byte("\r\n")) || !bytes.HasPrefix(sig, []byte("DKIM-Signature: ")) {
				t.Fatalf("signature field %q", sig)
			}
			vs, err := msgdkim.VerifyWithOptions(strings.NewReader(string(sig)+msg),
				&msgdkim.VerifyOptions{LookupTXT: dns.lookup})
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 || vs[0].Err != nil {
				t.Fatalf("verifications %+v (err %v)", vs, vs[0].Err)
			}
			v := vs[0]
			if v.Domain != tc.wantD {
				t.Errorf("d=%s, want %s", v.Domain, tc.wantD)
			}
			if !strings.Contains(string(sig), "s="+tc.wantS+";") {
				t.Errorf("want s=%s in %s", tc.wantS, sig)
			}
			if !strings.Contains(string(sig), "c=relaxed/relaxed") || !strings.Contains(string(sig), "a=rsa-sha256") {
				t.Errorf("want relaxed/relaxed rsa-sha256: %s", sig)
			}
			if tc.wantH != "" && strings.Join(v.HeaderKeys, ":") != tc.wantH {
				t.Errorf("h=%s, want %s", strings.Join(v.HeaderKeys, ":"), tc.wantH)
			}
			// Relaxed canonicalization survives the rewrapping relays do.
			rewrapped := strings.Replace(string(sig)+msg, "Subject: hello", "Subject:   hello", 1)
			vs, err = msgdkim.VerifyWithOptions(strings.NewReader(rewrapped), &msgdkim.VerifyOptions{LookupTXT: dns.lookup})
			if err != nil || vs[0].Err != nil {
				t.Errorf("relaxed header: %v %v", err, vs[0].Err)
			}
			// A changed body does not verify.
			tampered := strings.Replace(string(sig)+msg, "Body line one", "Body line 1", 1)
			vs, err = msgdkim.VerifyWithOptions(strings.NewReader(tampered), &msgdkim.VerifyOptions{LookupTXT: dns.lookup})
			if err != nil || vs[0].Err == nil {
				t.Errorf("tampered body verified: %v", err)
			}
		})
	}
}

// TestSignCache: a change to an identity is seen once the resolution cache
// expires (a second), and a new key is used at once then.
func TestSignCache(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	st := openStore(t)
	addIdentity(t, st, "example.com", easy(k[0], "tok1"))
	clk := clock.NewFake(time.Now())
	s := New(st, clk, nil)
	sign := func() string {
		t.Helper()
		sig, err := s.Sign(context.Background(), acct, region, strings.NewReader(message("a@example.com", "")))
		if err != nil {
			t.Fatal(err)
		}
		return string(sig)
	}
	verifyWith := func(sig string, der []byte) error {
		vs, err := msgdkim.VerifyWithOptions(strings.NewReader(sig+message("a@example.com", "")),
			&msgdkim.VerifyOptions{LookupTXT: dnsOf{"tok1._domainkey.example.com": der}.lookup})
		if err != nil {
			return err
		}
		return vs[0].Err
	}
	if err := verifyWith(sign(), k[0]); err != nil {
		t.Fatal(err)
	}
	_, err := st.UpdateIdentity(context.Background(), acct, region, "example.com", func(d *store.IdentityDetails) error {
		d.DKIM.PrivateKey = k[1]
		d.DKIM.KeyGenerated = d.DKIM.KeyGenerated.Add(time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyWith(sign(), k[0]); err != nil {
		t.Fatalf("within the cache second: %v", err)
	}
	clk.Advance(resolveTTL)
	if err := verifyWith(sign(), k[1]); err != nil {
		t.Fatalf("after the cache second: %v", err)
	}
}

func TestSignOddMessages(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	st := openStore(t)
	addIdentity(t, st, "example.com", easy(k[0], "tok1"))
	s := New(st, nil, nil)
	dns := dnsOf{"tok1._domainkey.example.com": k[0]}
	long := strings.Repeat("x", 100<<10)
	tests := []struct {
		name, msg string
		signed    bool
	}{
		{"no body", "From: a@example.com\r\nSubject: x\r\n", true},
		{"empty body", "From: a@example.com\r\n\r\n", true},
		{"LF line endings", "From: a@example.com\nSubject: x\n\nbody\n", true},
		{"long header line", "From: a@example.com\r\nX-Long: " + long + "\r\n\r\nbody\r\n", true},
		{"big body", "From: a@example.com\r\n\r\n" + strings.Repeat(long+"\r\n", 20), true},
		{"no From", "Subject: x\r\n\r\nbody\r\n", false},
		{"bad From", "From: not an address\r\n\r\nbody\r\n", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := s.Sign(context.Background(), acct, region, strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if (sig != nil) != tc.signed {
				t.Fatalf("signed = %v, want %v", sig != nil, tc.signed)
			}
			if sig == nil {
				return
			}
			msg := tc.msg
			if !strings.Contains(msg, "\n\n") && !strings.Contains(msg, "\n\r\n") {
				msg += "\r\n" // go-msgauth's verifier needs the empty line
			}
			vs, err := msgdkim.VerifyWithOptions(strings.NewReader(string(sig)+msg), &msgdkim.VerifyOptions{LookupTXT: dns.lookup})
			if err != nil || vs[0].Err != nil {
				t.Fatalf("verify: %v %v", err, vs[0].Err)
			}
		})
	}
}

// FuzzSign: whatever the message, Sign does not fail on it or panic, and a
// signature it returns verifies with go-msgauth's verifier.
func FuzzSign(f *testing.F) {
	for _, seed := range []string{
		message("a@example.com", ""),
		"From: a@example.com\n\nbody",
		"From: a@example.com\r\nSubject: x\r\n",
		"From: <a@example.com>, b@example.com\r\nTo: x\r\n\r\n\r\n",
		"From:a@example.com\r\n folded: no\r\n\r\nbody \t \r\n",
		"from: A <a@EXAMPLE.com>\r\nFROM: b@example.com\r\n\r\n",
	} {
		f.Add(seed)
	}
	k := testKeys(f)
	st := openStore(f)
	addIdentity(f, st, "example.com", easy(k[0], "tok1"))
	s := New(st, nil, nil)
	dns := dnsOf{"tok1._domainkey.example.com": k[0]}
	f.Fuzz(func(t *testing.T, msg string) {
		sig, err := s.Sign(context.Background(), acct, region, strings.NewReader(msg))
		if err != nil || sig == nil {
			return
		}
		if !strings.Contains(msg, "\n\n") && !strings.Contains(msg, "\n\r\n") {
			msg += "\r\n"
		}
		vs, err := msgdkim.VerifyWithOptions(strings.NewReader(string(sig)+msg), &msgdkim.VerifyOptions{LookupTXT: dns.lookup})
		if err != nil {
			t.Fatalf("verify: %v\n%q", err, msg)
		}
		if len(vs) != 1 || vs[0].Err != nil {
			t.Fatalf("verification %v\n%q", vs[0].Err, msg)
		}
	})
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
