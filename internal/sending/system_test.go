package sending

import (
	"context"
	"strings"
	"testing"

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
