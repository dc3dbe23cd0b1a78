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
