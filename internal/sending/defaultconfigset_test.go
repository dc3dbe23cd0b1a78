package sending

import (
	"context"
	"io"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// An identity's default configuration set goes with a message that names
// none; the most specific identity with a default decides; a set named by
// the call or a header wins; a set that is gone is ignored, a paused one
// refuses.
func TestDefaultConfigurationSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	ctx := context.Background()
	paused := store.ConfigurationSet{AccountID: h.account, Region: region, Name: "paused"}
	paused.Options.Sending = &store.SendingOptions{SendingEnabled: false}
	for _, cs := range []store.ConfigurationSet{{AccountID: h.account, Region: region, Name: "domain-set"},
		{AccountID: h.account, Region: region, Name: "addr-set"}, {AccountID: h.account, Region: region, Name: "named"}, paused} {
		if err := h.st.CreateConfigurationSet(ctx, cs, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []store.Identity{
		{Name: "boss@verified.com", Status: store.StatusSuccess},
		{Name: "sub.verified.com", Status: store.StatusSuccess},
		{Name: "gone.verified.com", Status: store.StatusSuccess},
		{Name: "stop@verified.com", Status: store.StatusSuccess},
	} {
		id.AccountID, id.Region = h.account, region
		if err := h.st.PutIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	setDefault := func(identity, set string) {
		if _, err := h.st.UpdateIdentityNotifications(ctx, h.account, region, identity, func(n *store.IdentityNotifications) error {
			n.ConfigurationSet = set
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setDefault("verified.com", "domain-set")
	setDefault("boss@verified.com", "addr-set")
	setDefault("gone.verified.com", "deleted-set")
	setDefault("stop@verified.com", "paused")
	setDefault("pending.com", "addr-set") // not verified: never applies

	for _, tc := range []struct {
		name, from, header string
		set                string // the call's
		want               string // the spooled message's set
		refusal            string
	}{
		{name: "the domain's default", from: "anyone@verified.com", want: "domain-set"},
		{name: "a subdomain without its own default uses its parent's", from: "x@sub.verified.com", want: "domain-set"},
		{name: "the address's default beats the domain's", from: "boss@verified.com", want: "addr-set"},
		{name: "a +label address is its address", from: "boss+news@verified.com", want: "addr-set"},
		{name: "the call's set wins", from: "boss@verified.com", set: "named", want: "named"},
		{name: "a header's set wins", from: "boss@verified.com", header: "X-SES-CONFIGURATION-SET: named\r\n", want: "named"},
		{name: "a deleted default is ignored", from: "a@gone.verified.com", want: ""},
		{name: "no default", from: "me@example.org", want: ""},
		{name: "a paused default refuses", from: "stop@verified.com", refusal: seserr.ConfigurationSetSendingPaused("paused").SMTPReply()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.clk.Advance(2 * time.Second)
			d, _ := h.s.NewDraft()
			io.WriteString(d, tc.header+"From: "+tc.from+"\r\nSubject: s\r\n\r\nbody\r\n")
			_, err := h.s.Submit(ctx, &Submission{AccountID: h.account, Region: region, MailFrom: tc.from,
				Recipients: []string{"you@verified.com"}, Draft: d, Via: "smtp", Meta: spool.Meta{ConfigurationSet: tc.set}})
			if tc.refusal != "" {
				wantReply(t, err, tc.refusal)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e, _ := h.claimOne(t)
			if got := e.ConfigurationSet; got != tc.want {
				t.Errorf("configuration set = %q, want %q", got, tc.want)
			}
		})
	}
}
