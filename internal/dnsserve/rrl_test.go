package dnsserve

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/waitfor"
)

// Past RateLimit answers a second to one network, every Slip-th UDP
// answer is an empty TC=1 reply and the others are dropped; TCP is never
// limited, and the bucket refills with time.
func TestResponseRateLimit(t *testing.T) {
	t.Parallel()
	f := startWith(t, func(c *Config) { c.RateLimit, c.RateLimitSlip = 5, 2 })
	f.add(t, "a.example", "tokaaa", "tokbbb", "tokccc")
	name := "tokaaa." + zone + "."
	f.query(t, "tcp", name, dns.TypeTXT) // the server is up (TCP spends no token)

	conn, err := net.Dial("udp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dc := &dns.Conn{Conn: conn}
	const n = 20
	for i := range n {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.Id = uint16(1000 + i)
		if err := dc.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	// The clock stands still: 5 tokens, 15 limited, 7 of them slip.
	rl := f.srv.rrl
	waitfor.True(t, "all queries decided", func() bool {
		return rl.answered.Load()+rl.slipped.Load()+rl.dropped.Load() == n
	})
	if a, s, d := rl.answered.Load(), rl.slipped.Load(), rl.dropped.Load(); a != 5 || s != 7 || d != 8 {
		t.Fatalf("answered %d, slipped %d, dropped %d; want 5, 7, 8", a, s, d)
	}
	var full, truncated int
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for full+truncated < 5+7 {
		in, err := dc.ReadMsg()
		if err != nil {
			t.Fatalf("after %d full and %d truncated replies: %v", full, truncated, err)
		}
		switch {
		case in.Truncated && len(in.Answer) == 0:
			truncated++
		case !in.Truncated && len(in.Answer) == 1:
			full++
		default:
			t.Fatalf("reply %v", in)
		}
	}
	if full != 5 || truncated != 7 {
		t.Fatalf("%d full, %d truncated", full, truncated)
	}

	// The truncated reply sends a resolver to TCP, which answers in full.
	if in := f.query(t, "tcp", name, dns.TypeTXT); in.Truncated || len(in.Answer) != 1 {
		t.Fatalf("TCP while limited: %v", in)
	}
	f.clk.Advance(time.Second)
	if in := f.query(t, "udp", name, dns.TypeTXT); in.Truncated || len(in.Answer) != 1 {
		t.Fatalf("a second later: %v", in)
	}
}

func TestRRLNetworks(t *testing.T) {
	now := time.Unix(1800000000, 0)
	r := newRRL(1, 0, func() time.Time { return now })
	udp := func(ip string) net.Addr { return &net.UDPAddr{IP: net.ParseIP(ip), Port: 53} }
	for _, c := range []struct {
		addr string
		want rrlVerdict
	}{
		{"192.0.2.1", rrlAnswer},
		{"192.0.2.200", rrlDrop}, // same /24
		{"192.0.3.1", rrlAnswer},
		{"2001:db8:0:1::1", rrlAnswer},
		{"2001:db8:0:2::1", rrlDrop}, // same /56
		{"2001:db8:1:0::1", rrlAnswer},
		{"::ffff:192.0.2.9", rrlDrop}, // a mapped IPv4 address is the IPv4 network
	} {
		if got := r.check(udp(c.addr)); got != c.want {
			t.Errorf("%s: %v, want %v", c.addr, got, c.want)
		}
	}
	if v := (*rrl)(nil).check(udp("192.0.2.1")); v != rrlAnswer {
		t.Error("a nil limiter limited")
	}
	if newRRL(0, 2, time.Now) != nil {
		t.Error("rate 0 made a limiter")
	}
	if v := r.check(&net.TCPAddr{IP: net.ParseIP("192.0.2.1")}); v != rrlAnswer {
		t.Error("TCP limited")
	}
}
