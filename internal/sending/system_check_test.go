package sending

import (
	"context"
	"testing"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// CheckSending answers what Submit answers first, for verification mail.
func TestCheckSending(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		set  func(*store.AccountSettings)
		want string
	}{
		{"healthy", nil, ""},
		{"paused", func(s *store.AccountSettings) { s.SendingEnabled = false }, "SendingPausedException"},
		{"shutdown", func(s *store.AccountSettings) {
			s.EnforcementStatus = store.EnforcementShutdown
			s.SendingEnabled = false
		}, "AccountSuspendedException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.set, 0)
			err := h.s.CheckSending(context.Background(), h.account, region)
			got := ""
			if err != nil {
				got = seserr.As(err).APICode
			}
			if got != c.want {
				t.Fatalf("CheckSending = %v, want %q", err, c.want)
			}
		})
	}
}
