package sending

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestHasVirus(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(append([]byte("some bytes before "), eicar...))
	var wrapped strings.Builder // base64 at 76 columns, as mail has it
	for len(b64) > 76 {
		wrapped.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	wrapped.WriteString(b64 + "\r\n")
	long := strings.Repeat("a line of text that is not a virus\r\n", 5000) // past one read
	for _, c := range []struct {
		name string
		msg  string
		want bool
	}{
		{"plain", "Subject: hi\r\n\r\n" + string(eicar) + "\r\n", true},
		{"after a long body", "Subject: hi\r\n\r\n" + long + string(eicar) + "\r\n", true},
		{"base64 attachment", "Subject: hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
			"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n" +
			"Content-Disposition: attachment; filename=eicar.com\r\n\r\n" + wrapped.String() + "--b--\r\n", true},
		{"clean", "Subject: hi\r\n\r\n" + long, false},
		{"clean base64", "Subject: hi\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n", false},
		{"a part of it", "Subject: hi\r\n\r\n" + string(eicar[:40]) + "\r\n", false},
		{"not MIME", "no header at all " + string(eicar[:60]), false},
	} {
		msg := []byte(c.msg)
		// One byte a read too, so a match across reads is found.
		for _, open := range []func() io.Reader{
			func() io.Reader { return bytes.NewReader(msg) },
			func() io.Reader { return iotest.OneByteReader(bytes.NewReader(msg)) },
		} {
			got, err := hasVirus(open, int64(len(msg)))
			if err != nil || got != c.want {
				t.Errorf("%s: hasVirus = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
	}
}
