package listmgmt

import (
	"bytes"
	"strings"

	"sesame/internal/mailmsg"
	"sesame/internal/tracking"
)

// Apply returns msg as SES sends a message with list management options
// to one recipient (developer guide, "Using subscription management"):
//
//   - List-Unsubscribe: <url> and List-Unsubscribe-Post:
//     List-Unsubscribe=One-Click (RFC 2369, RFC 8058 §3.1) at the top of the
//     header section, replacing the client's own (SES overrides them);
//   - every {{amazonSESUnsubscribeUrl}} in the Subject field and in the
//     text/plain and text/html parts (decoded and encoded again in their
//     own transfer encoding) replaced by url, the preference page.
//
// The header fields come first so that DKIM, signing at delivery, covers
// them (RFC 8058 §4 asks that it does). Apply returns msg itself when it has
// no header section it can read.
func Apply(msg []byte, url string) ([]byte, error) {
	end := mailmsg.HeaderEnd(msg, 0)
	if end < 0 {
		end = len(msg) // all header
	}
	eol := "\r\n"
	if i := bytes.IndexByte(msg, '\n'); i >= 0 && (i == 0 || msg[i-1] != '\r') {
		eol = "\n"
	}
	out := make([]byte, 0, len(msg)+2*len(url)+128)
	out = append(out, "List-Unsubscribe: <"+url+">"+eol...)
	out = append(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click"+eol...)
	sec := msg[:end]
	for len(sec) > 0 {
		n := mailmsg.FieldEnd(sec)
		field := sec[:n]
		sec = sec[n:]
		name, _, _ := bytes.Cut(field, []byte(":"))
		switch strings.ToLower(strings.TrimSpace(string(name))) {
		case "list-unsubscribe", "list-unsubscribe-post":
			continue
		case "subject":
			field = bytes.ReplaceAll(field, []byte(Placeholder), []byte(url))
		}
		out = append(out, field...)
	}
	bodyAt := len(out)
	out = append(out, msg[end:]...)
	if !bytes.Contains(out[bodyAt:], []byte(Placeholder)) && !mayHaveEncodedPlaceholder(out) {
		return out, nil
	}
	body, err := tracking.RewriteParts(out, []string{"text/plain", "text/html"}, func(_ string, decoded []byte) []byte {
		return bytes.ReplaceAll(decoded, []byte(Placeholder), []byte(url))
	})
	if err != nil || body == nil {
		return out, err
	}
	return body, nil
}

// mayHaveEncodedPlaceholder: a base64 or quoted-printable part may hold the
// placeholder in a form a plain search does not find (composed mail encodes
// long or non-ASCII text), so such a message is walked all the same.
func mayHaveEncodedPlaceholder(msg []byte) bool {
	lower := bytes.ToLower(msg)
	return bytes.Contains(lower, []byte("base64")) || bytes.Contains(lower, []byte("quoted-printable"))
}
