package sending

import (
	"context"
	"testing"

	"sesame/internal/store"
)

func TestMailFromRefused(t *testing.T) {
	ids := []store.Identity{
		{Name: "example.com", Status: store.StatusSuccess, MailFromDomain: "bounce.example.com", MailFromRejects: true},
		{Name: "ok.example.com", Status: store.StatusSuccess, MailFromDomain: "b.ok.example.com"},
		{Name: "Boss@Example.com", Status: store.StatusSuccess, MailFromDomain: "b.example.com"},
		{Name: "plain.org", Status: store.StatusSuccess},
		{Name: "pending.net", Status: store.StatusPending, MailFromDomain: "b.pending.net", MailFromRejects: true},
	}
	set := newIdentitySet(ids, false)
	tests := []struct{ addr, want string }{
		{"a@example.com", "example.com"},
		{"a@deep.sub.EXAMPLE.com", "example.com"},
		{"a@ok.example.com", ""},            // a more specific identity's MAIL FROM does not reject
		{"Boss@example.com", ""},            // the address's own setting wins over its domain's
		{"Boss+x@example.com", ""},          // +label: the same identity
		{"boss@example.com", "example.com"}, // addresses are case-sensitive
		{"a@plain.org", ""},
		{"a@pending.net", ""}, // unverified identities do not count
	}
	for _, tt := range tests {
		if got := set.mailFromRefused(tt.addr); got != tt.want {
			t.Errorf("mailFromRefused(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// Submit refuses mail from an identity whose custom MAIL FROM domain is not
// verified when its behaviour is REJECT_MESSAGE, with SES's error.
func TestSubmitMailFromNotVerified(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	ctx := context.Background()
	if err := h.st.CreateIdentity(ctx, store.IdentityDetails{
		Identity: store.Identity{AccountID: h.account, Region: region, Name: "strict.com", Status: store.StatusSuccess},
		MailFrom: store.MailFrom{Domain: "bounce.strict.com", Behavior: store.MailFromReject, Status: store.StatusPending},
	}, store.MaxIdentities); err != nil {
		t.Fatal(err)
	}
	_, err := h.submit(t, "a@strict.com", []string{"success@simulator.amazonses.com"},
		"From: a@strict.com\r\nSubject: x\r\n\r\nbody\r\n")
	wantReply(t, err, "554 Transaction failed: The custom MAIL FROM domain of strict.com is not verified, and its behavior on MX failure is to reject the message.")
}
