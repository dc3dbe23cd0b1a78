package sending

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzHeaderFields: the header reader and the address-list parser behind
// From, To, Cc, Reply-To and Return-Path take any bytes without panicking;
// an address they accept carries no CR, LF or NUL, so it cannot start a
// header of its own when it is written out again.
func FuzzHeaderFields(f *testing.F) {
	f.Add([]byte("From: \"a\\\"b\" <a@b.example>\r\nTo: x@y, \"q\r\n z\" <z@y>\r\n\r\nbody"), "a@b, <c@d>")
	f.Add([]byte("To: =?utf-8?q?x?= <u@c>\r\n\r\n"), "\"u@c\"@host")
	f.Add([]byte("Reply-To: a@b\r\nBcc: c@d\nX\r\n\r\n"), "u@c\r\nBcc: evil@x")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, msg []byte, field string) {
		buf := make([]byte, 0, 64)
		sec, err := readHeaderSection(bytes.NewReader(msg), &buf)
		if err == nil && !bytes.HasPrefix(msg, sec) {
			t.Fatalf("section %q is not a prefix of the message", sec)
		}
		for _, list := range []bool{false, true} {
			addrs, err := parseHeaderAddresses(field, list)
			if err != nil {
				continue
			}
			for _, a := range addrs {
				if strings.ContainsAny(a, "\r\n\x00") {
					t.Fatalf("accepted address %q from %q holds CR, LF or NUL", a, field)
				}
			}
		}
	})
}

// FuzzIdentityARN: the sending-authorization ARN parser takes any text
// without panicking; what it accepts names a 12-digit account and an
// identity, reads back the same from its canonical form, and covers only
// addresses at or under its name.
func FuzzIdentityARN(f *testing.F) {
	f.Add("arn:aws:ses:us-east-1:123456789012:identity/example.com", "a@example.com")
	f.Add("arn:aws:ses:us-east-1:123456789012:identity/Me+x@Example.COM", "me+x@example.com")
	f.Add("arn:aws-cn:ses:cn-north-1:123456789012:identity/", "a@b")
	f.Add("arn:aws:ses:r:1:identity/x:y/z", "x@y")
	f.Fuzz(func(t *testing.T, raw, addr string) {
		a, ok := parseIdentityARN(raw)
		if !ok {
			return
		}
		if len(a.account) != 12 || a.name == "" {
			t.Fatalf("%q parsed as account %q, identity %q", raw, a.account, a.name)
		}
		b, ok := parseIdentityARN(a.canonical())
		if !ok || b.account != a.account || b.region != a.region || b.canonical() != a.canonical() {
			t.Fatalf("%q: canonical %q reads back as %+v, %v", raw, a.canonical(), b, ok)
		}
		if covers(a.name, addr) && !strings.Contains(strings.ToLower(addr), strings.ToLower(strings.TrimSuffix(a.name, "."))) {
			t.Fatalf("identity %q covers %q", a.name, addr)
		}
	})
}
