package delivery

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// Source addresses for these tests: loopback addresses apart from the
// sinks' (127.0.0.2 …), so the sink sees which one a message came from.
var (
	src20 = Source{Addr: netip.MustParseAddr("127.0.0.20"), EHLO: "out20.sesame.test"}
	src21 = Source{Addr: netip.MustParseAddr("127.0.0.21"), EHLO: "out21.sesame.test"}
	src22 = Source{Addr: netip.MustParseAddr("127.0.0.22"), EHLO: "shared.sesame.test"}
)

// poolEnv puts each address of inPool in the account's pool "p" and makes
// a configuration set "viapool" that sends through it.
func poolEnv(t *testing.T, env *mxEnv, inPool ...Source) {
	t.Helper()
	ctx := context.Background()
	if err := env.store.CreateDedicatedIPPool(ctx, store.DedicatedIPPool{AccountID: testAccount, Region: testRegion,
		Name: "p", ScalingMode: "STANDARD"}, 50); err != nil {
		t.Fatal(err)
	}
	for _, s := range inPool {
		if err := env.store.PutDedicatedIPInPool(ctx, testAccount, testRegion, s.Addr.String(), "p"); err != nil {
			t.Fatal(err)
		}
	}
	err := env.store.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: testAccount, Region: testRegion,
		Name: "viapool", Options: store.ConfigurationSetOptions{Delivery: &store.DeliveryOptions{SendingPoolName: "p"}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
}

// seenFrom is "peer/helo" of each message the sink took, in order.
func seenFrom(s *testenv.Sink) []string {
	var out []string
	for _, m := range s.Messages() {
		out = append(out, m.Peer+"/"+m.Helo)
	}
	return out
}

// TestMXSendsFromThePoolsAddresses: mail through a configuration set with
// a SendingPoolName leaves from the pool's addresses, in turn, each saying
// its own EHLO name; mail without leaves from the address in no pool.
func TestMXSendsFromThePoolsAddresses(t *testing.T) {
	env := startMX(t, func(m *MX) { m.Sources = []Source{src20, src21, src22} }, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	poolEnv(t, env, src20, src21)
	for range 4 {
		env.waitGone(env.send("sender@example.com", spool.Meta{ConfigurationSet: "viapool"}, "u@a.test"))
	}
	count := map[string]int{}
	for _, s := range seenFrom(env.sinks[0]) {
		count[s]++
	}
	if count["127.0.0.20/out20.sesame.test"] != 2 || count["127.0.0.21/out21.sesame.test"] != 2 {
		t.Fatalf("pool mail came from %v; want two from each pool address with its own EHLO name", count)
	}
	env.waitGone(env.send("sender@example.com", spool.Meta{}, "u@a.test"))
	if got := seenFrom(env.sinks[0]); got[4] != "127.0.0.22/shared.sesame.test" {
		t.Fatalf("mail without a pool came from %s; want the address in no pool", got[4])
	}
}

// TestMXNoAddressLeftUsesTheDefaultRoute: with every address in a pool,
// mail without a pool goes as it did before source addresses: unbound,
// EHLO hostname.
func TestMXNoAddressLeftUsesTheDefaultRoute(t *testing.T) {
	env := startMX(t, func(m *MX) { m.Sources = []Source{src20} }, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	poolEnv(t, env, src20)
	env.waitGone(env.send("sender@example.com", spool.Meta{}, "u@a.test"))
	if got := seenFrom(env.sinks[0]); len(got) != 1 || !strings.HasSuffix(got[0], "/out.sesame.test") || strings.HasPrefix(got[0], "127.0.0.20/") {
		t.Fatalf("mail came from %v; want the default route with EHLO out.sesame.test", got)
	}
}

// TestMXWarmupCapMovesDefersOverflows: two pool addresses at 10% of a full
// volume of 10 take one recipient a day each; the next message of the pool
// waits (SendingDeferral, not lost) until automatic warm-up is switched on,
// then goes from the address in no pool, as SES sends past the plan from
// its shared addresses.
func TestMXWarmupCapMovesDefersOverflows(t *testing.T) {
	env := startMX(t, func(m *MX) {
		m.Sources = []Source{src20, src21, src22}
		m.WarmupFullDailyVolume = 10
	}, testenv.SinkOptions{})
	env.dns.SetMX("a.test", 10, "mx2.test")
	poolEnv(t, env, src20, src21)
	ctx := context.Background()
	for _, s := range []Source{src20, src21} {
		if err := env.store.SetDedicatedIPWarmup(ctx, testAccount, testRegion, s.Addr.String(), 10, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	env.waitGone(env.send("sender@example.com", spool.Meta{ConfigurationSet: "viapool"}, "u1@a.test"))
	env.waitGone(env.send("sender@example.com", spool.Meta{ConfigurationSet: "viapool"}, "u2@a.test"))
	got := seenFrom(env.sinks[0])
	if len(got) != 2 || got[0] == got[1] || !strings.HasPrefix(got[0], "127.0.0.2") || strings.HasPrefix(got[0], "127.0.0.22") ||
		strings.HasPrefix(got[1], "127.0.0.22") {
		t.Fatalf("the first two came from %v; want one from each pool address", got)
	}
	day := time.Now().UTC().Format("2006-01-02")
	for _, s := range []Source{src20, src21} {
		if n, err := env.store.DedicatedIPSends(ctx, testAccount, testRegion, s.Addr.String(), day); err != nil || n != 1 {
			t.Fatalf("%s counted %d sends today (%v); want 1", s.Addr, n, err)
		}
	}

	id := env.send("sender@example.com", spool.Meta{ConfigurationSet: "viapool"}, "u3@a.test")
	env.wait("the third message to wait for the caps", func() bool {
		e, ok := env.spool.Entry(id)
		return ok && e.State.Attempts >= 2 && strings.Contains(e.State.LastError, "warm-up")
	})
	if n := len(env.sinks[0].Messages()); n != 2 {
		t.Fatalf("the sink has %d messages while the pool is past its caps; want 2", n)
	}

	if err := env.store.SetDedicatedIPAutoWarmup(ctx, testAccount, testRegion, true); err != nil {
		t.Fatal(err)
	}
	env.waitGone(id)
	if got := seenFrom(env.sinks[0]); len(got) != 3 || got[2] != "127.0.0.22/shared.sesame.test" {
		t.Fatalf("with automatic warm-up the excess came from %v; want the address in no pool", got)
	}
}

// TestMXWarmupGivesBackRefusedRecipients: a recipient the receiver refused
// does not count against the address's cap.
func TestMXWarmupGivesBackRefusedRecipients(t *testing.T) {
	env := startMX(t, func(m *MX) {
		m.Sources = []Source{src20}
		m.WarmupFullDailyVolume = 10
	}, testenv.SinkOptions{Reject: map[string]string{"gone@a.test": "550 5.1.1 no such user"}})
	env.dns.SetMX("a.test", 10, "mx2.test")
	ctx := context.Background()
	if err := env.store.SetDedicatedIPWarmup(ctx, testAccount, testRegion, src20.Addr.String(), 50, time.Now()); err != nil {
		t.Fatal(err)
	}
	env.waitGone(env.send("sender@example.com", spool.Meta{}, "ok@a.test", "gone@a.test"))
	day := time.Now().UTC().Format("2006-01-02")
	if n, err := env.store.DedicatedIPSends(ctx, testAccount, testRegion, src20.Addr.String(), day); err != nil || n != 1 {
		t.Fatalf("counted %d sends (%v); want 1 (the refused recipient given back)", n, err)
	}
}

// TestSourceReaches: a bound source reaches receivers of its own family
// only; the default route reaches both.
func TestSourceReaches(t *testing.T) {
	v4, v6 := net.ParseIP("192.0.2.1"), net.ParseIP("2001:db8::1")
	for _, c := range []struct {
		src  Source
		ip   net.IP
		want bool
	}{
		{Source{}, v4, true},
		{Source{}, v6, true},
		{src20, v4, true},
		{src20, v6, false},
		{Source{Addr: netip.MustParseAddr("2001:db8::25")}, v6, true},
		{Source{Addr: netip.MustParseAddr("2001:db8::25")}, v4, false},
	} {
		if got := c.src.reaches(c.ip); got != c.want {
			t.Errorf("%s reaches %s = %v; want %v", c.src, c.ip, got, c.want)
		}
	}
}
