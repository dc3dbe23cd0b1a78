package events

import (
	"testing"

	"sesame/internal/feedback"
)

func TestDSNFailure(t *testing.T) {
	for _, tc := range []struct {
		in   feedback.RecipientStatus
		want string
		perm bool
	}{
		{feedback.RecipientStatus{Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 user unknown"}, "550 5.1.1 user unknown", true},
		{feedback.RecipientStatus{Status: "5.2.2", Diagnostic: "smtp;552 mailbox full"}, "552 5.2.2 mailbox full", true},
		{feedback.RecipientStatus{Status: "4.4.7", Diagnostic: "X-Postfix; delivery temporarily suspended"}, "451 4.4.7 delivery temporarily suspended", false},
		{feedback.RecipientStatus{Status: "5.0.0"}, "554 5.0.0 delivery failed (reported after acceptance)", true},
		{feedback.RecipientStatus{Action: "failed"}, "554 5.0.0 delivery failed (reported after acceptance)", true}, // failed is final
	} {
		f := dsnFailure(tc.in)
		if f.Error() != tc.want || f.Permanent != tc.perm {
			t.Errorf("dsnFailure(%+v) = %q (permanent %v), want %q (%v)", tc.in, f.Error(), f.Permanent, tc.want, tc.perm)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	h := []byte("From: a@b.test\nSubject: Out\n of office\rBcc: x@evil.test\nX-Other: 1\n")
	if got := rawHeaderValue(h, "subject"); got != "Out of officeBcc: x@evil.test" {
		t.Errorf("Subject = %q", got)
	}
	if got := rawHeaderValue(h, "Content-Type"); got != "" {
		t.Errorf("absent field = %q", got)
	}
	crlf := []byte("Subject: a\r\n\tb\r\nSubject: second\r\n\r\nContent-Type: in the body\r\n")
	if got := rawHeaderValue(crlf, "Subject"); got != "a b" {
		t.Errorf("CRLF Subject = %q", got)
	}
	if got := rawHeaderValue(crlf, "Content-Type"); got != "" {
		t.Errorf("a field in the body = %q", got)
	}
}
