// Package listmgmt is SES's subscription management for mail sent with
// list management options (a contact list and, optionally, a topic): the
// signed unsubscribe link, what it does to a message (List-Unsubscribe,
// List-Unsubscribe-Post and the {{amazonSESUnsubscribeUrl}} placeholder),
// and the HTTP endpoint the link points at — RFC 8058's one-click POST and
// the subscription preference page.
//
// It never decides whether a message may be sent (sending does, with the
// contact's preferences) and never publishes events itself: a change of
// preferences goes to a Sink (events.Subscriptions).
package listmgmt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
)

// Path is where the endpoint is served, on the API listener.
const Path = "/_sesame/unsubscribe"

// Placeholder is what SES replaces with the link to the preference page.
const Placeholder = "{{amazonSESUnsubscribeUrl}}"

// Token is what an unsubscribe link says: whose subscription to which list
// (and topic), and the message it came in (its configuration set gets the
// Subscription event).
type Token struct {
	AccountID string
	Region    string
	List      string
	Topic     string // "" = the whole list
	Email     string
	MessageID string
}

// ErrInvalid is returned for a link sesame did not make: malformed,
// edited or forged.
var ErrInvalid = errors.New("listmgmt: not a valid unsubscribe link")

// Links makes and checks unsubscribe links. The key is the tracking key
// (store.TrackingKey): one secret for every link sesame puts in mail,
// kept apart by the "U0" label every signature starts with (tracking's
// start with I0 and L0).
type Links struct {
	key []byte
}

// NewLinks returns Links signing with key.
func NewLinks(key []byte) *Links { return &Links{key: append([]byte(nil), key...)} }

const sigBytes = 16 // 128 bits of HMAC-SHA256, as tracking's

// URL is the link for t under base (scheme://host[:port], no path):
// base/_sesame/unsubscribe?t=<payload>.<signature>, the payload the
// token's fields, length-prefixed, in base64url. One URL serves the one-click
// POST and the preference page alike.
func (l *Links) URL(base string, t Token) string {
	return strings.TrimSuffix(base, "/") + Path + "?t=" + l.Encode(t)
}

// Encode is the token's signed form (the t query parameter). The fields
// are length-prefixed bytes, not JSON, so any address reads back exactly
// as it was (JSON would turn invalid UTF-8 into U+FFFD: another address).
func (l *Links) Encode(t Token) string {
	var b []byte
	for _, f := range [...]string{t.AccountID, t.Region, t.List, t.Topic, t.Email, t.MessageID} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + l.sign(payload)
}

// Parse checks a token's signed form and returns the token, or ErrInvalid.
func (l *Links) Parse(s string) (Token, error) {
	payload, sig, ok := strings.Cut(s, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(l.sign(payload))) {
		return Token{}, ErrInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Token{}, ErrInvalid
	}
	var f [6]string
	for i := range f {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return Token{}, ErrInvalid
		}
		f[i], b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	if len(b) != 0 || f[0] == "" || f[2] == "" || f[4] == "" {
		return Token{}, ErrInvalid
	}
	return Token{AccountID: f[0], Region: f[1], List: f[2], Topic: f[3], Email: f[4], MessageID: f[5]}, nil
}

func (l *Links) sign(payload string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("U0"))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:sigBytes])
}
