package sending

import (
	"context"
	"strings"
	"testing"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// SubmitSystem spools sesame's own mail past every account policy Submit
// enforces: paused sending, the sandbox, unverified senders, an exhausted quota.
func TestSubmitSystemSkipsAccountPolicy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) {
		s.SendingEnabled = false
		s.Production = false
		s.Max24HourSend = 0
	}, 0)
	msg := "From: no-reply@mail.test\r\nTo: new@unverified.example\r\nSubject: verify\r\n\r\nlink\r\n"
	if _, err := h.submit(t, "no-reply@mail.test", []string{"new@unverified.example"}, msg); err == nil {
		t.Fatal("Submit accepted what policy refuses; the test proves nothing")
	}
	id, err := h.s.SubmitSystem(context.Background(), SystemMessage{
		AccountID: h.account, Region: region, MailFrom: "no-reply@mail.test",
		Recipients: []string{"new@unverified.example"}, Message: []byte(msg),
	})
	if err != nil {
		t.Fatal(err)
	}
	e, raw := h.claimOne(t)
	if e.ID != id || e.Via != spool.ViaSystem || e.AccountID != h.account || e.Region != region ||
		e.MailFrom != "no-reply@mail.test" || len(e.Recipients) != 1 || e.Recipients[0] != "new@unverified.example" {
		t.Fatalf("envelope %+v", e)
	}
	if !strings.HasPrefix(raw, "Message-ID: <"+id+"@"+region+".mail.test>\r\nDate: ") || !strings.HasSuffix(raw, msg) {
		t.Fatalf("spooled:\n%s", raw)
	}
}

func TestSubmitSystemRefusesEmpty(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	for _, m := range []SystemMessage{
		{AccountID: h.account, Region: region, Message: []byte("x")},
		{AccountID: h.account, Region: region, Recipients: []string{"a@b.c"}},
	} {
		if _, err := h.s.SubmitSystem(context.Background(), m); err == nil {
			t.Errorf("accepted %+v", m)
		}
	}
}

// Mail an account's own calls address (SNS email subscriptions) is held to
// the account-wide switch: paused or SHUTDOWN, nothing is spooled.
func TestSubmitSystemRequestedObeysSendingSwitch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		set  func(*store.AccountSettings)
		code string
	}{
		{"paused", func(s *store.AccountSettings) { s.SendingEnabled = false }, "SendingPausedException"},
		{"shutdown", func(s *store.AccountSettings) { s.EnforcementStatus = store.EnforcementShutdown }, "AccountSuspendedException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.set, 0)
			msg := "From: no-reply@mail.test\r\nTo: ops@outside.example\r\nSubject: alert\r\n\r\nx\r\n"
			_, err := h.s.SubmitSystem(context.Background(), SystemMessage{
				AccountID: h.account, Region: region, MailFrom: "no-reply@mail.test",
				Recipients: []string{"ops@outside.example"}, Message: []byte(msg), Requested: true,
			})
			if got := seserr.As(err); got == nil || got.APICode != c.code {
				t.Fatalf("SubmitSystem = %v, want %s", err, c.code)
			}
			// The same message not marked Requested (a DSN, say) still
			// goes, and is the only one spooled.
			id, err := h.s.SubmitSystem(context.Background(), SystemMessage{
				AccountID: h.account, Region: region, MailFrom: "no-reply@mail.test",
				Recipients: []string{"ops@outside.example"}, Message: []byte(msg),
			})
			if err != nil {
				t.Fatal(err)
			}
			if e, _ := h.claimOne(t); e.ID != id {
				t.Fatalf("spooled %s, want only %s", e.ID, id)
			}
		})
	}
}
