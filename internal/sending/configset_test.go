package sending

import (
	"context"
	"errors"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// A send naming a configuration set is refused, whatever the protocol, when
// the set does not exist or has sending turned off.
func TestSubmitChecksConfigurationSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	ctx := context.Background()
	paused := store.ConfigurationSet{AccountID: h.account, Region: region, Name: "paused"}
	paused.Options.Sending = &store.SendingOptions{SendingEnabled: false}
	for _, cs := range []store.ConfigurationSet{{AccountID: h.account, Region: region, Name: "open"}, paused} {
		if err := h.st.CreateConfigurationSet(ctx, cs, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ set, wantAPI, wantQuery string }{
		{"", "", ""},
		{"open", "", ""},
		{"missing", "NotFoundException", "ConfigurationSetDoesNotExist"},
		{"paused", "SendingPausedException", "ConfigurationSetSendingPausedException"},
	} {
		h.clk.Advance(2 * time.Second) // a fresh rate-limit second for each send
		d, _ := h.s.NewDraft()
		d.Write([]byte("From: me@example.org\r\nSubject: cs\r\n\r\nx\r\n"))
		_, err := h.s.Submit(ctx, &Submission{AccountID: h.account, Region: region, MailFrom: "me@example.org",
			Recipients: []string{"you@verified.com"}, Draft: d, Via: "smtp",
			Meta: spool.Meta{ConfigurationSet: tc.set}})
		var se *seserr.Error
		switch {
		case tc.wantAPI == "" && err != nil:
			t.Errorf("set %q: %v, want accepted", tc.set, err)
		case tc.wantAPI != "" && (!errors.As(err, &se) || se.APICode != tc.wantAPI || se.QueryCode != tc.wantQuery):
			t.Errorf("set %q: %v, want %s / %s", tc.set, err, tc.wantAPI, tc.wantQuery)
		}
	}
}

// The server passes a *store.Store as the Store.
var _ Store = (*store.Store)(nil)
