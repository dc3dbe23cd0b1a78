package smtpd

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		arg, keyword string
		addr, params string
		ok           bool
	}{
		{"FROM:<a@example.com>", "FROM:", "a@example.com", "", true},
		{"from:<a@example.com>", "FROM:", "a@example.com", "", true},
		{"FROM: <a@example.com>", "FROM:", "a@example.com", "", true},
		{"FROM:<a@example.com> SIZE=10 BODY=8BITMIME", "FROM:", "a@example.com", "SIZE=10 BODY=8BITMIME", true},
		{"FROM:<a@example.com>   SIZE=10  ", "FROM:", "a@example.com", "SIZE=10", true},
		{"FROM:<>", "FROM:", "", "", true},
		{"FROM:a@example.com SIZE=1", "FROM:", "a@example.com", "SIZE=1", true},
		{`FROM:<"a>b"@example.com>`, "FROM:", `"a>b"@example.com`, "", true},
		{`FROM:<"a\"b>"@example.com>`, "FROM:", `"a\"b>"@example.com`, "", true},
		{"TO:<b@example.net>", "TO:", "b@example.net", "", true},
		{"FROM:<a@example.com>SIZE=1", "FROM:", "", "", false},
		{"FROM:<a@example.com", "FROM:", "", "", false},
		{"FROM:<a<b@example.com>", "FROM:", "", "", false},
		{"FROM:a>b@example.com", "FROM:", "", "", false},
		{"FROM:", "FROM:", "", "", false},
		{"FRO", "FROM:", "", "", false},
		{"TO:<b@example.net>", "FROM:", "", "", false},
		{"FROM <a@example.com>", "FROM:", "", "", false},
	}
	for _, tc := range cases {
		addr, params, ok := parsePath(tc.arg, tc.keyword)
		if ok != tc.ok || ok && (addr != tc.addr || params != tc.params) {
			t.Errorf("parsePath(%q, %q) = %q, %q, %v; want %q, %q, %v",
				tc.arg, tc.keyword, addr, params, ok, tc.addr, tc.params, tc.ok)
		}
	}
}

func TestCheckMailParams(t *testing.T) {
	t.Parallel()
	cases := []struct {
		params string
		code   int // 0: accepted
	}{
		{"", 0},
		{"SIZE=100", 0},
		{"size=100 body=7bit", 0},
		{"BODY=8BITMIME AUTH=<>", 0},
		{"SIZE=101", 552},
		{"SIZE=99999999999999999999999", 501},
		{"SIZE=-1", 501},
		{"SIZE=", 501},
		{"BODY=BINARYMIME", 501},
		{"SMTPUTF8", 555},
		{"RET=HDRS", 555},
	}
	for _, tc := range cases {
		e := checkMailParams(tc.params, 100)
		code := 0
		if e != nil {
			code = e.SMTPCode
		}
		if code != tc.code {
			t.Errorf("checkMailParams(%q) = %v, want code %d", tc.params, e, tc.code)
		}
	}
}

// FuzzParsePath checks that MAIL/RCPT argument parsing never panics and
// that what it returns comes from its input, trimmed.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"FROM:<a@example.com> SIZE=10", `FROM:<"a\>b"@x> BODY=7BIT`, "FROM:<>",
		"TO: b@example.net", "FROM:<<>>", `FROM:<"\`, "FROM:a SIZE=1 SIZE=2 AUTH=<x>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		for _, kw := range []string{"FROM:", "TO:"} {
			addr, params, ok := parsePath(arg, kw)
			if !ok {
				if addr != "" || params != "" {
					t.Fatalf("parsePath(%q) failed but returned %q, %q", arg, addr, params)
				}
				continue
			}
			if !strings.Contains(arg, addr) || !strings.Contains(arg, params) {
				t.Fatalf("parsePath(%q) = %q, %q: not from the input", arg, addr, params)
			}
			if params != strings.TrimSpace(params) {
				t.Fatalf("parsePath(%q) params %q not trimmed", arg, params)
			}
			if e := checkMailParams(params, 1<<20); e != nil && e.SMTPCode != 501 && e.SMTPCode != 552 && e.SMTPCode != 555 {
				t.Fatalf("checkMailParams(%q) = %v", params, e)
			}
		}
	})
}

func TestAuthLimiter(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l := newAuthLimiter(3, 5*time.Minute)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	const ip, user = "192.0.2.1", "AKIDEXAMPLE"
	l.fail(ip, user, at(0))
	l.fail(ip, user, at(time.Minute))
	if l.locked(ip, user, at(time.Minute)) {
		t.Fatal("locked after 2 of 3 failures")
	}
	// Failures outside the window do not add up.
	l.fail(ip, user, at(6*time.Minute))
	if l.locked(ip, user, at(6*time.Minute)) {
		t.Fatal("failures from an old window counted")
	}
	l.fail(ip, user, at(7*time.Minute))
	l.fail(ip, user, at(8*time.Minute))
	if !l.locked(ip, user, at(8*time.Minute)) {
		t.Fatal("not locked after 3 failures in the window")
	}
	if l.locked("192.0.2.2", user, at(8*time.Minute)) {
		t.Fatal("another address locked")
	}
	// A shared NAT: another credential from the same address is not locked.
	if l.locked(ip, "AKIDOTHER", at(8*time.Minute)) {
		t.Fatal("another user name from the same address locked")
	}
	if !l.locked(ip, user, at(13*time.Minute-time.Second)) || l.locked(ip, user, at(13*time.Minute)) {
		t.Fatal("lockout does not last exactly the window")
	}
	// An IPv6 client is its /64.
	for range 3 {
		l.fail("2001:db8:1:2::1", user, at(20*time.Minute))
	}
	if !l.locked("2001:db8:1:2:ffff::9", user, at(20*time.Minute)) || l.locked("2001:db8:1:3::1", user, at(20*time.Minute)) {
		t.Fatal("IPv6 lockout not per /64")
	}
}

// TestAuthLimiterBounded sprays many distinct credentials: the map stays at
// its capacity, evicting the records touched longest ago.
func TestAuthLimiterBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l := newAuthLimiter(2, 5*time.Minute)
	l.capacity = 100
	l.fail("192.0.2.1", "victim", now)
	l.fail("192.0.2.1", "victim", now)
	for i := range 10_000 {
		l.fail(fmt.Sprintf("198.51.%d.%d", i/256, i%256), strings.Repeat("x", 1000), now)
		if n := l.size(); n > 100 {
			t.Fatalf("%d records after %d failures, capacity 100", n, i+1)
		}
	}
	if l.locked("192.0.2.1", "victim", now) {
		t.Error("the oldest record was not the one evicted")
	}
	if l.size() != 100 || len(l.keys) != 100 {
		t.Errorf("size %d, map %d; want 100", l.size(), len(l.keys))
	}
}

// TestAuthLimiterUnlock: unlocking a client forgets all its credentials
// (locked or still counting) and nobody else's; an IPv6 client is its /64;
// lockedOut lists only what is locked now.
func TestAuthLimiterUnlock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l := newAuthLimiter(2, 5*time.Minute)
	for _, f := range []struct{ ip, user string }{
		{"192.0.2.1", "a"}, {"192.0.2.1", "a"}, // locked
		{"192.0.2.1", "b"},                     // counting
		{"192.0.2.2", "a"}, {"192.0.2.2", "a"}, // another client, locked
		{"2001:db8::1", "a"}, {"2001:db8::2", "a"}, // one /64, locked
	} {
		l.fail(f.ip, f.user, now)
	}
	locks := l.lockedOut(now)
	if len(locks) != 3 || len(locks["192.0.2.1"]) != 1 || len(locks["2001:db8::/64"]) != 1 ||
		!locks["192.0.2.2"][0].Equal(now.Add(5*time.Minute)) {
		t.Fatalf("lockedOut = %v", locks)
	}
	if n := l.unlock("192.0.2.1"); n != 2 {
		t.Errorf("unlock 192.0.2.1 cleared %d, want 2", n)
	}
	if l.locked("192.0.2.1", "a", now) || !l.locked("192.0.2.2", "a", now) {
		t.Error("unlock cleared the wrong client")
	}
	// The counting credential starts afresh: one failure does not lock it.
	if l.fail("192.0.2.1", "b", now); l.locked("192.0.2.1", "b", now) {
		t.Error("a cleared failure count still counted")
	}
	if n := l.unlock("2001:db8::ffff"); n != 1 || l.locked("2001:db8::1", "a", now) {
		t.Errorf("unlock of another address in the /64 cleared %d", n)
	}
	if n := l.unlock("198.51.100.1"); n != 0 {
		t.Errorf("unlock of an unknown client cleared %d", n)
	}
	if _, ok := l.lockedOut(now.Add(5 * time.Minute))["192.0.2.2"]; ok {
		t.Error("lockedOut lists an expired lock")
	}
}

// TestAuthLimiterOff: a max below 1 never locks nor keeps records.
func TestAuthLimiterOff(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	l := newAuthLimiter(-1, 5*time.Minute)
	for range 100 {
		l.fail("192.0.2.1", "a", now)
	}
	if l.locked("192.0.2.1", "a", now) || l.size() != 0 {
		t.Errorf("locked %v, %d records; want neither", l.locked("192.0.2.1", "a", now), l.size())
	}
}
