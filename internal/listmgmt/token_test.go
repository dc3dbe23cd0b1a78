package listmgmt

import (
	"net/url"
	"strings"
	"testing"
)

func TestLinksRoundTrip(t *testing.T) {
	t.Parallel()
	l := NewLinks([]byte("k"))
	for _, tok := range []Token{
		{AccountID: "111122223333", Region: "us-east-1", List: "news", Topic: "sports", Email: "a@example.com", MessageID: "0100-abc"},
		{AccountID: "111122223333", Region: "eu-west-1", List: "news", Email: "o'neil+x@example.com"},
	} {
		u, err := url.Parse(l.URL("https://ses.example.net/", tok))
		if err != nil {
			t.Fatal(err)
		}
		if u.Path != Path || u.Host != "ses.example.net" {
			t.Errorf("URL %s: want https://ses.example.net%s?t=…", u, Path)
		}
		got, err := l.Parse(u.Query().Get("t"))
		if err != nil || got != tok {
			t.Errorf("Parse = %+v, %v; want %+v", got, err, tok)
		}
	}
}

func TestLinksRefuseForgeries(t *testing.T) {
	t.Parallel()
	l := NewLinks([]byte("k"))
	good := l.Encode(Token{AccountID: "1", Region: "r", List: "news", Email: "a@example.com", MessageID: "m"})
	payload, sig, _ := strings.Cut(good, ".")
	other := NewLinks([]byte("other key")).Encode(Token{AccountID: "1", Region: "r", List: "news", Email: "b@example.com"})
	otherPayload, _, _ := strings.Cut(other, ".")
	for name, s := range map[string]string{
		"empty":             "",
		"no signature":      payload,
		"other key":         other,
		"payload swapped":   otherPayload + "." + sig,
		"signature edited":  payload + "." + strings.ToUpper(sig),
		"truncated":         good[:len(good)-2],
		"not base64":        "!!!." + sig,
		"tracking's format": "I0/0100-abc/" + sig,
	} {
		if _, err := l.Parse(s); err != ErrInvalid {
			t.Errorf("%s: Parse(%q) = %v, want ErrInvalid", name, s, err)
		}
	}
}
