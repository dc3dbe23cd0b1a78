package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sesame/internal/testenv"
)

// Issue 9, defect 10: the binary's DNS listener answers ANY with one RRset
// (RFC 8482) and rate limits UDP answers per client network ([dns]
// rate_limit; slip 1 here, so every limited answer is TC=1, none dropped).
func TestDNSListenerLimits(t *testing.T) {
	addr := testenv.FreeAddr(t)
	testenv.Start(t, testenv.Options{Extra: fmt.Sprintf("[dns]\nlisten = %q\nrate_limit = 3\nrate_limit_slip = 1\n", addr)})
	// The zone is verification.dkim_cname_domain's default, dkim.<hostname>.
	const apex = "dkim.sesame.test."

	tcp := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	q := new(dns.Msg)
	q.SetQuestion(apex, dns.TypeANY)
	in, _, err := tcp.Exchange(q, addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Answer) != 1 || in.Answer[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("ANY at the apex: %v, want the SOA alone", in.Answer)
	}

	udp := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	q = new(dns.Msg)
	q.SetQuestion(apex, dns.TypeSOA)
	var full, truncated int
	start := time.Now()
	for range 12 {
		in, _, err := udp.Exchange(q, addr)
		if err != nil {
			t.Fatal(err)
		}
		if in.Truncated {
			truncated++
		} else {
			full++
		}
	}
	// Three at once, then three a second.
	if most := 3 + int(time.Since(start).Seconds()*3) + 1; full > most || truncated == 0 {
		t.Errorf("%d full and %d truncated answers in %v", full, truncated, time.Since(start))
	}
	// TCP is never limited.
	if in, _, err := tcp.Exchange(q, addr); err != nil || in.Truncated || len(in.Answer) != 1 {
		t.Errorf("TCP while limited: %v %v", in, err)
	}
}
