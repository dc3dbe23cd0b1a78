package sending

import (
	"context"
	"testing"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// developmentSender is a Sender in development mode on h's store and spool.
func (h *harness) developmentSender(t *testing.T) *Sender {
	t.Helper()
	s := New(Config{Store: h.st, Spool: h.sp, Clock: h.clk, Hostname: "mail.test", Logger: quietLogger(), Development: true})
	t.Cleanup(func() { s.Close() })
	return s
}

// In development mode an account in the sandbox, with a tiny quota and
// rate, sends from any address (unverified, a pending domain, an identity
// whose custom MAIL FROM refuses mail) to anyone, past its stored limits;
// the same messages are refused without it, so the test can fail.
func TestDevelopmentAdmitsWhatTheSandboxRefuses(t *testing.T) {
	t.Parallel()
	sandbox := func(s *store.AccountSettings) {
		s.Production, s.MaxSendRate, s.Max24HourSend = false, 0.001, 2
	}
	h := newHarness(t, sandbox, 0)
	if err := h.st.CreateIdentity(context.Background(), store.IdentityDetails{
		Identity: store.Identity{AccountID: h.account, Region: region, Name: "strict.com", Status: store.StatusSuccess},
		MailFrom: store.MailFrom{Domain: "bounce.strict.com", Behavior: store.MailFromReject, Status: store.StatusPending},
	}, store.MaxIdentities); err != nil {
		t.Fatal(err)
	}
	sends := []struct {
		mailFrom string
		rcpts    []string
		msg      string
		refused  string // the refusal without development mode
	}{
		{"someone@unverified.example", []string{"anyone@elsewhere.com"},
			"From: someone@unverified.example\r\nSubject: a\r\n\r\nx\r\n", "MessageRejected"},
		{"a@pending.com", []string{"x@elsewhere.com", "y@elsewhere.net"},
			"From: Other <other@nowhere.test>\r\nSender: a@pending.com\r\n\r\nx\r\n", "MessageRejected"},
		{"a@strict.com", []string{"z@verified.com"},
			"From: a@strict.com\r\n\r\nx\r\n", "MailFromDomainNotVerifiedException"},
		{"me@example.org", []string{"a@verified.com", "b@verified.com", "c@verified.com"},
			"From: me@example.org\r\n\r\nx\r\n", "TooManyRequestsException"}, // past the quota of 2
	}
	for i, snd := range sends {
		_, err := h.submit(t, snd.mailFrom, snd.rcpts, snd.msg)
		if e := seserr.As(err); err == nil || e.APICode != snd.refused {
			t.Fatalf("send %d without development mode: %v, want %s", i, err, snd.refused)
		}
	}
	h.s = h.developmentSender(t)
	for round := range 3 { // again and again: no rate, no quota
		for i, snd := range sends {
			if _, err := h.submit(t, snd.mailFrom, snd.rcpts, snd.msg); err != nil {
				t.Fatalf("round %d, send %d in development mode: %v", round, i, err)
			}
		}
	}
	// The sends still count (GetSendQuota's SentLast24Hours).
	if got := h.s.quota.SentLast24Hours(h.account, region); got != 3*7 {
		t.Errorf("SentLast24Hours = %v, want 21", got)
	}
}

// The operator's and the account's own switches, the message rules and a
// configuration set's pause still apply in development mode.
func TestDevelopmentKeepsTheSwitches(t *testing.T) {
	t.Parallel()
	many := make([]string, 51)
	for i := range many {
		many[i] = "r@elsewhere.com"
	}
	tests := []struct {
		name     string
		settings func(*store.AccountSettings)
		rcpts    []string
		msg      string
		want     *seserr.Error
	}{
		{name: "shutdown", settings: func(s *store.AccountSettings) { s.EnforcementStatus = store.EnforcementShutdown },
			want: seserr.AccountSuspended()},
		{name: "sending paused", settings: func(s *store.AccountSettings) { s.SendingEnabled = false },
			want: seserr.SendingPaused()},
		{name: "51 recipients", rcpts: many, want: seserr.RecipientCountExceeded()},
		{name: "configuration set paused", msg: "From: a@unverified.example\r\nX-SES-CONFIGURATION-SET: paused\r\n\r\nx\r\n",
			want: seserr.ConfigurationSetSendingPaused("paused")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.settings, 0)
			paused := store.ConfigurationSet{AccountID: h.account, Region: region, Name: "paused"}
			paused.Options.Sending = &store.SendingOptions{SendingEnabled: false}
			if err := h.st.CreateConfigurationSet(context.Background(), paused, 0); err != nil {
				t.Fatal(err)
			}
			h.s = h.developmentSender(t)
			rcpts, msg := tc.rcpts, tc.msg
			if rcpts == nil {
				rcpts = []string{"r@elsewhere.com"}
			}
			if msg == "" {
				msg = "From: a@unverified.example\r\n\r\nx\r\n"
			}
			_, err := h.submit(t, "a@unverified.example", rcpts, msg)
			wantReply(t, err, tc.want.SMTPReply())
		})
	}
}

// Development mode is applied, never stored: Enforced reports production
// without limits, the store keeps the account's own settings (so turning
// the mode off brings them back), and without the mode Enforced changes
// nothing.
func TestDevelopmentEnforcedLeavesStoreAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	ctx := context.Background()
	dev := h.developmentSender(t)
	stored, err := h.st.AccountSettings(ctx, h.account, region)
	if err != nil {
		t.Fatal(err)
	}
	got := dev.Enforced(stored)
	if !got.Production || got.Max24HourSend != -1 || got.MaxSendRate != DevelopmentMaxSendRate ||
		got.SendingEnabled != stored.SendingEnabled || got.EnforcementStatus != stored.EnforcementStatus {
		t.Errorf("Enforced in development mode = %+v", got)
	}
	if _, err := h.submit(t, "a@unverified.example", []string{"r@elsewhere.com"}, "From: a@unverified.example\r\n\r\n"); err == nil {
		t.Fatal("the harness's own Sender is in development mode")
	}
	h.s = dev
	if _, err := h.submit(t, "a@unverified.example", []string{"r@elsewhere.com"}, "From: a@unverified.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	after, err := h.st.AccountSettings(ctx, h.account, region)
	if err != nil {
		t.Fatal(err)
	}
	if after != stored {
		t.Errorf("stored settings changed: %+v, were %+v", after, stored)
	}
	normal := New(Config{Store: h.st, Spool: h.sp, Clock: h.clk, Logger: quietLogger()})
	defer normal.Close()
	if normal.Enforced(stored) != stored || normal.Development() || !dev.Development() {
		t.Error("Enforced changes the settings outside development mode")
	}
}

// An identity counts as verified in development mode with its settings:
// a pending identity's default configuration set goes with its mail.
func TestDevelopmentPendingIdentityDefaultConfigSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, nil, 0)
	if err := h.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: h.account, Region: region, Name: "dev-set"}, 0); err != nil {
		t.Fatal(err)
	}
	// pending.com is the harness's pending domain.
	if _, err := h.st.UpdateIdentityNotifications(ctx, h.account, region, "pending.com", func(n *store.IdentityNotifications) error {
		n.ConfigurationSet = "dev-set"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.s = h.developmentSender(t)
	if _, err := h.submit(t, "a@pending.com", []string{"r@elsewhere.com"}, "From: a@pending.com\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	e, _ := h.claimOne(t)
	if e.Meta.ConfigurationSet != "dev-set" {
		t.Errorf("configuration set %q, want the pending identity's dev-set", e.Meta.ConfigurationSet)
	}
}
