package sending

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/clock"
	"sesame/internal/mailmsg"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

const region = "us-east-1"

var acceptTime = time.Date(2026, 11, 23, 14, 5, 9, 123e6, time.UTC)

// harness is a Sender on a real store and spool in a temporary directory.
type harness struct {
	dir     string
	st      *store.Store
	sp      *spool.Spool
	clk     *clock.Fake
	s       *Sender
	account string
	key     store.AccessKey
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newHarness opens a store with one account whose identities are the domain
// verified.com and the address me@example.org (plus a pending domain), with
// settings set, and a Sender limited to maxBytes.
func newHarness(t testing.TB, set func(*store.AccountSettings), maxBytes int64) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sp, err := spool.Open(filepath.Join(dir, "spool"), spool.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	acct, key, err := st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []store.Identity{
		{Name: "verified.com", Type: store.Domain, Status: store.StatusSuccess},
		{Name: "me@example.org", Type: store.EmailAddress, Status: store.StatusSuccess},
		{Name: "pending.com", Type: store.Domain, Status: store.StatusPending},
	} {
		id.AccountID, id.Region = acct.ID, region
		if err := st.PutIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	settings := store.DefaultSettings(acct.ID, region)
	settings.MaxSendRate, settings.Max24HourSend = 1000, 1000
	if set != nil {
		set(&settings)
	}
	if err := st.PutAccountSettings(ctx, settings); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(acceptTime)
	s := New(Config{Store: st, Spool: sp, Clock: clk, Hostname: "mail.test", MaxMessageBytes: maxBytes, Logger: quietLogger()})
	t.Cleanup(func() { s.Close() })
	return &harness{dir: dir, st: st, sp: sp, clk: clk, s: s, account: acct.ID, key: key}
}

func (h *harness) submit(t testing.TB, mailFrom string, rcpts []string, msg string) (string, error) {
	t.Helper()
	d, err := h.s.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(d, msg); err != nil {
		t.Fatal(err)
	}
	return h.s.Submit(context.Background(), &Submission{
		AccountID: h.account, Region: region, MailFrom: mailFrom, Recipients: rcpts, Draft: d, Via: "smtp",
	})
}

// claimOne takes the one spooled message and returns its envelope and bytes.
func (h *harness) claimOne(t *testing.T) (*spool.Entry, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := h.sp.Claim(ctx, 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("Claim: %d entries, %v", len(entries), err)
	}
	r, err := entries[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.sp.Done(ctx, entries[0].ID); err != nil {
		t.Fatal(err)
	}
	return entries[0], string(b)
}

func wantReply(t *testing.T, err error, want string) {
	t.Helper()
	var se *seserr.Error
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want %q", err, want)
	}
	if se.SMTPReply() != want {
		t.Fatalf("got %q, want %q", se.SMTPReply(), want)
	}
}

func TestSubmitAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	msg := "From: Me <me@example.org>\r\nTo: you@verified.com\r\nSubject: hi\r\n\r\nHello.\r\n"
	rcpts := []string{"you@verified.com", "success@simulator.amazonses.com"}
	id, err := h.submit(t, "bounces@verified.com", rcpts, msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mailmsg.MessageIDTime(id); !ok {
		t.Errorf("MessageId %q is not of SES's form", id)
	}
	if !strings.HasPrefix(id, "010001a208b99283-") { // 2026-11-23T14:05:09.123Z in ms
		t.Errorf("MessageId %s does not carry the accept time", id)
	}
	e, raw := h.claimOne(t)
	if e.ID != id || e.AccountID != h.account || e.Region != region || e.MailFrom != "bounces@verified.com" ||
		!slices.Equal(e.Recipients, rcpts) || e.Via != "smtp" || !e.Received.Equal(acceptTime) {
		t.Errorf("envelope %+v", e.Envelope)
	}
	want := "Message-ID: <" + id + "@us-east-1.mail.test>\r\nDate: Mon, 23 Nov 2026 14:05:09 +0000\r\n" + msg
	if raw != want {
		t.Errorf("spooled\n%q\nwant\n%q", raw, want)
	}
	if got := h.s.quota.SentLast24Hours(h.account, region); got != 1 {
		t.Errorf("SentLast24Hours = %v, want 1 (the simulator does not count)", got)
	}
}

// TestSubmitOverridesMessageIDAndDate: as SES (spec §9), every message
// leaves with sesame's Message-ID and Date whatever the client gave; the
// spool keeps the client's fields (for events) behind sesame's, and
// StripForDelivery drops them.
func TestSubmitOverridesMessageIDAndDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg, delivered string
	}{
		{name: "both present", msg: "Message-Id: <x@y>\r\nDATE: Sun, 1 Jan 2026 00:00:00 +0000\r\nFrom: me@example.org\r\n\r\nb\r\n",
			delivered: "From: me@example.org\r\n\r\nb\r\n"},
		{name: "date only", msg: "Date: Sun, 1 Jan 2026 00:00:00 +0000\r\nFrom: me@example.org\r\n\r\nb\r\n",
			delivered: "From: me@example.org\r\n\r\nb\r\n"},
		{name: "message-id only, folded", msg: "From: me@example.org\r\nMessage-ID:\r\n <x@y>\r\nSubject: s\r\n\r\nMessage-ID: <body@stays>\r\n",
			delivered: "From: me@example.org\r\nSubject: s\r\n\r\nMessage-ID: <body@stays>\r\n"},
		{name: "neither", msg: "From: me@example.org\r\n\r\nb\r\n", delivered: "From: me@example.org\r\n\r\nb\r\n"},
		{name: "LF message", msg: "Message-ID: <x@y>\nFrom: me@example.org\n\nb\n", delivered: "From: me@example.org\n\nb\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, 0)
			id, err := h.submit(t, "me@example.org", []string{"me@example.org"}, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			_, raw := h.claimOne(t)
			eol := "\r\n"
			if strings.HasSuffix(tc.msg, "b\n") {
				eol = "\n"
			}
			ours := "Message-ID: <" + id + "@us-east-1.mail.test>" + eol + "Date: Mon, 23 Nov 2026 14:05:09 +0000" + eol
			if raw != ours+tc.msg {
				t.Fatalf("spooled %q, want %q", raw, ours+tc.msg)
			}
			if got := string(mailmsg.StripForDelivery([]byte(raw))); got != ours+tc.delivered {
				t.Fatalf("delivered %q, want %q", got, ours+tc.delivered)
			}
		})
	}
}

func TestSubmitRefusals(t *testing.T) {
	t.Parallel()
	const okMsg = "From: me@example.org\r\nSubject: x\r\n\r\nbody\r\n"
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("r%d@verified.com", i)
	}
	tests := []struct {
		name     string
		settings func(*store.AccountSettings)
		mailFrom string
		rcpts    []string
		msg      string
		want     string
	}{
		{name: "sending paused", settings: func(s *store.AccountSettings) { s.SendingEnabled = false },
			mailFrom: "me@example.org", rcpts: []string{"me@example.org"}, msg: okMsg,
			want: "554 Message rejected: Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account."},
		{name: "too long", mailFrom: "me@example.org", rcpts: []string{"me@example.org"},
			msg: okMsg + strings.Repeat("x", 1024), want: "552 Message is too long."},
		{name: "duplicate header", mailFrom: "me@example.org", rcpts: []string{"me@example.org"},
			msg: "From: me@example.org\r\nSubject: a\r\nSUBJECT: b\r\n\r\n", want: "554 Transaction failed: Duplicate header 'Subject'."},
		{name: "no From", mailFrom: "me@example.org", rcpts: []string{"me@example.org"},
			msg: "Subject: a\r\n\r\nbody", want: "554 Transaction failed: Missing final '@domain'"},
		{name: "From without user", mailFrom: "me@example.org", rcpts: []string{"me@example.org"},
			msg: "From: <@example.org>\r\n\r\n", want: "554 Transaction failed: User name is missing: '<@example.org>'"},
		{name: "From with illegal characters", mailFrom: "me@example.org", rcpts: []string{"me@example.org"},
			msg: "From: m\u00e9@example.org\r\n\r\n", want: "554 Transaction failed: Address contains illegal characters in user name: 'm\u00e9@example.org'."},
		{name: "51 recipients", mailFrom: "me@example.org", rcpts: many, msg: okMsg,
			want: "554 Transaction failed: Recipient count exceeds 50."},
		{name: "unverified senders, in order, no repeats", mailFrom: "bounce@pending.com", rcpts: []string{"me@example.org"},
			msg:  "From: a@other.com, Me@example.org\r\nSender: bounce@pending.com\r\nReturn-Path: <me+x@EXAMPLE.org>\r\n\r\n",
			want: "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bounce@pending.com, a@other.com, Me@example.org"},
		{name: "sandbox: unverified recipients", mailFrom: "me@example.org",
			rcpts: []string{"x@elsewhere.com", "success@simulator.amazonses.com", "me@example.org", "y@sub.pending.com"}, msg: okMsg,
			want: "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@elsewhere.com, y@sub.pending.com"},
		{name: "daily quota", settings: func(s *store.AccountSettings) { s.Max24HourSend = 2 },
			mailFrom: "me@example.org", rcpts: []string{"a@verified.com", "b@verified.com", "c@verified.com"}, msg: okMsg,
			want: "454 Throttling failure: Daily message quota exceeded"},
		{name: "send rate", settings: func(s *store.AccountSettings) { s.Production, s.MaxSendRate = true, 0.1 },
			mailFrom: "me@example.org", rcpts: []string{"a@verified.com"}, msg: okMsg, // the second message of the test
			want: "454 Throttling failure: Maximum sending rate exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.settings, int64(len(okMsg)+100))
			if tc.name == "send rate" {
				if _, err := h.submit(t, tc.mailFrom, tc.rcpts, tc.msg); err != nil {
					t.Fatal(err)
				}
				h.claimOne(t)
			}
			_, err := h.submit(t, tc.mailFrom, tc.rcpts, tc.msg)
			wantReply(t, err, tc.want)
			if n := h.sp.Len(); n != 0 {
				t.Errorf("a refused message was spooled (%d pending)", n)
			}
		})
	}
}

func TestSubmitProductionReachesAnyone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	if _, err := h.submit(t, "me@example.org", []string{"anyone@elsewhere.com"}, "From: me@example.org\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.submit(t, "other@example.org", []string{"anyone@elsewhere.com"}, "From: me@example.org\r\n\r\n"); err == nil {
		t.Fatal("production still checks the sender")
	}
}

func TestSubmitRefusalCostsNoQuota(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Max24HourSend = 1 }, 0)
	for range 3 {
		if _, err := h.submit(t, "me@example.org", []string{"me@example.org"}, "From: nobody@elsewhere.com\r\n\r\n"); err == nil {
			t.Fatal("unverified From accepted")
		}
	}
	if _, err := h.submit(t, "me@example.org", []string{"me@example.org"}, "From: me@example.org\r\n\r\n"); err != nil {
		t.Fatalf("quota used by refused messages: %v", err)
	}
}

// TestSubmitSeesAdminChanges: changes made by `sesame admin` through its
// own store handle reach the running Sender within a second.
func TestSubmitSeesAdminChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, nil, 0)
	admin := h.otherHandle(t)
	// Identities reach the sender within cacheTTL; settings changes are
	// announced and reach it through the store's watcher at once.
	h.st.Watch(t.Context(), h.s.Changed)
	send := func(from string) error {
		_, err := h.submit(t, from, []string{"me@example.org"}, "From: "+from+"\r\n\r\n")
		return err
	}
	if err := send("new@fresh.net"); err == nil {
		t.Fatal("unverified sender accepted")
	}
	if err := admin.PutIdentity(ctx, store.Identity{AccountID: h.account, Region: region, Name: "fresh.net",
		Type: store.Domain, Status: store.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	set := store.DefaultSettings(h.account, region)
	set.SendingEnabled = false
	if err := admin.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(cacheTTL)
	var err error
	waitfor.Within(t, "the pause to reach the sender", time.Second, func() bool {
		err = send("new@fresh.net")
		return err != nil && seserr.As(err).SMTPReply() == seserr.SendingPaused().SMTPReply()
	})
	wantReply(t, err, seserr.SendingPaused().SMTPReply())
	set.SendingEnabled = true
	if err := admin.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	waitfor.Within(t, "the newly verified domain of a resumed account to be accepted", time.Second, func() bool {
		return send("new@fresh.net") == nil
	})
}

func TestAuthenticateSMTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, nil, 0)
	good := awsauth.SMTPPassword(h.key.Secret, region)
	// The same password with its last character changed (to one it is not).
	wrong := good[:len(good)-1] + map[bool]string{true: "y", false: "x"}[strings.HasSuffix(good, "x")]
	tests := []struct {
		name, region, user, password, want string
	}{
		{name: "ok", region: region, user: h.key.ID, password: good},
		{name: "wrong password", region: region, user: h.key.ID, password: wrong, want: "535 Authentication Credentials Invalid"},
		{name: "other region's password", region: "eu-west-1", user: h.key.ID, password: good, want: "535 Authentication Credentials Invalid"},
		{name: "unknown key", region: region, user: "AKIAUNKNOWNUNKNOWN00", password: good, want: "535 Authentication Credentials Invalid"},
		{name: "empty", region: region, want: "535 Authentication Credentials Invalid"},
	}
	for _, tc := range tests {
		acct, err := h.s.AuthenticateSMTP(ctx, tc.region, tc.user, tc.password)
		if tc.want == "" {
			if err != nil || acct != h.account {
				t.Errorf("%s: %q, %v", tc.name, acct, err)
			}
			continue
		}
		wantReply(t, err, tc.want)
	}

	// A deactivated key stops working within a second.
	admin := h.otherHandle(t)
	if err := admin.SetAccessKeyActive(ctx, h.key.ID, false); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(cacheTTL)
	_, err := h.s.AuthenticateSMTP(ctx, region, h.key.ID, good)
	wantReply(t, err, "535 Authentication Credentials Invalid")

	// A store failure is a temporary failure, not bad credentials.
	h.st.Close()
	h.clk.Advance(cacheTTL)
	_, err = h.s.AuthenticateSMTP(ctx, region, h.key.ID, good)
	wantReply(t, err, "454 Temporary authentication failure")
	_, err = h.submit(t, "me@example.org", []string{"me@example.org"}, "From: me@example.org\r\n\r\n")
	wantReply(t, err, "451 Temporary service failure")
}

func BenchmarkSubmit(b *testing.B) {
	h := newHarness(b, func(s *store.AccountSettings) {
		s.Production, s.MaxSendRate, s.Max24HourSend = true, 1e9, -1
	}, 0)
	h.s.clk = clock.Real{} // the caches expire on time, as in production
	msg := "From: Me <me@example.org>\r\nTo: you@elsewhere.com\r\nSubject: benchmark\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain\r\n\r\n" + strings.Repeat("Hello, world. ", 200) + "\r\n"
	rcpts := []string{"you@elsewhere.com"}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.SetParallelism(16) // concurrent sessions share spool fsyncs, as smtpd's do
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := h.s.NewDraft()
			if err != nil {
				b.Fatal(err)
			}
			io.WriteString(d, msg)
			if _, err := h.s.Submit(context.Background(), &Submission{AccountID: h.account, Region: region,
				MailFrom: "me@example.org", Recipients: rcpts, Draft: d, Via: "smtp"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAdmit is Submit's policy path alone, without the spool.
func BenchmarkAdmit(b *testing.B) {
	h := newHarness(b, func(s *store.AccountSettings) {
		s.Production, s.MaxSendRate, s.Max24HourSend = true, 1e9, -1
	}, 0)
	msg := "From: Me <me@example.org>\r\nTo: you@elsewhere.com\r\nSubject: benchmark\r\nMIME-Version: 1.0\r\n\r\nbody\r\n"
	d, err := h.s.NewDraft()
	if err != nil {
		b.Fatal(err)
	}
	io.WriteString(d, msg)
	sub := &Submission{AccountID: h.account, Region: region, MailFrom: "me@example.org",
		Recipients: []string{"you@elsewhere.com"}, Draft: d, Via: "smtp"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.s.admit(context.Background(), sub); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSubmitLargeMessages: a draft spilled to a file is checked and spooled
// intact; a header section past 1 MiB is refused as too long.
func TestSubmitLargeMessages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 8<<10) // 528 KiB
	msg := "From: me@example.org\r\nSubject: big\r\n\r\n" + body
	if _, err := h.submit(t, "me@example.org", []string{"me@example.org"}, msg); err != nil {
		t.Fatal(err)
	}
	_, raw := h.claimOne(t)
	if !strings.HasSuffix(raw, msg) || len(raw) > len(msg)+200 {
		t.Fatalf("spooled %d bytes for a %d-byte message", len(raw), len(msg))
	}

	huge := "From: me@example.org\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("y", 900)+"\r\n", 1200) + "\r\nbody\r\n"
	_, err := h.submit(t, "me@example.org", []string{"me@example.org"}, huge)
	wantReply(t, err, "552 Message is too long.")
	if n := h.sp.Len(); n != 0 {
		t.Errorf("refused message spooled (%d pending)", n)
	}
}
