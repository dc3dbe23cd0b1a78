package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// TestMXDedicatedIPPools: three [[delivery.source_addresses]] on loopback
// (127.0.0.20–22) with their EHLO names; the aws CLI puts two in a pool,
// points a configuration set's SendingPoolName at it and sets both to 10%
// warm-up of a full daily volume of 10 (one recipient a day each). The
// receiving MX sees mail without the set come from the address in no pool,
// the pool's mail from each pool address once with its own EHLO name, the
// next pool message wait in the queue for the caps, and — once automatic
// warm-up is on — go from the address in no pool, as SES sends past the
// warm-up plan from its shared addresses.
func TestMXDedicatedIPPools(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	d := testenv.StartDNS(t)
	sinks, port := testenv.StartSinks(t, testenv.SinkOptions{})
	d.SetA("mx2.test", "127.0.0.2")
	d.SetMX("a.test", 10, "mx2.test")
	s := startMXServer(t, d, port, `warmup_full_daily_volume = 10

[[delivery.source_addresses]]
address = "127.0.0.20"
ehlo_name = "out20.example.net"

[[delivery.source_addresses]]
address = "127.0.0.21"
ehlo_name = "out21.example.net"

[[delivery.source_addresses]]
address = "127.0.0.22"
ehlo_name = "shared.example.net"
`)
	s.Verify("example.com")
	region := s.Regions[0]
	awsCLI := func(args ...string) string {
		t.Helper()
		return s.MustAWSCLI(t, append([]string{"sesv2", "--region", region}, args...)...)
	}
	awsCLI("create-dedicated-ip-pool", "--pool-name", "transactional")
	for _, ip := range []string{"127.0.0.20", "127.0.0.21"} {
		awsCLI("put-dedicated-ip-in-pool", "--ip", ip, "--destination-pool-name", "transactional")
		awsCLI("put-dedicated-ip-warmup-attributes", "--ip", ip, "--warmup-percentage", "10")
	}
	awsCLI("create-configuration-set", "--configuration-set-name", "viapool")
	awsCLI("put-configuration-set-delivery-options", "--configuration-set-name", "viapool", "--sending-pool-name", "transactional")
	var ip struct {
		DedicatedIp struct {
			WarmupStatus, PoolName string
			WarmupPercentage       int
		}
	}
	if err := json.Unmarshal([]byte(awsCLI("get-dedicated-ip", "--ip", "127.0.0.20")), &ip); err != nil {
		t.Fatal(err)
	}
	if got := ip.DedicatedIp; got.PoolName != "transactional" || got.WarmupPercentage != 10 || got.WarmupStatus != "IN_PROGRESS" {
		t.Fatalf("get-dedicated-ip 127.0.0.20 = %+v", got)
	}
	seen := func() []string {
		var out []string
		for _, m := range sinks[0].Messages() {
			out = append(out, m.Peer+"/"+m.Helo)
		}
		return out
	}
	sendViaPool := func(n int) {
		t.Helper()
		awsCLI("send-email", "--from-email-address", "sender@example.com",
			"--destination", fmt.Sprintf("ToAddresses=u%d@a.test", n), "--configuration-set-name", "viapool",
			"--content", fmt.Sprintf("Simple={Subject={Data=pool %d},Body={Text={Data=hello}}}", n))
	}

	smtpSendTo(t, s, "sender@example.com", "no pool", "plain@a.test")
	waitFor(t, "the message without a pool", func() bool { return len(seen()) == 1 })
	if got := seen()[0]; got != "127.0.0.22/shared.example.net" {
		t.Fatalf("mail without a configuration set came from %s; want 127.0.0.22/shared.example.net", got)
	}

	sendViaPool(1)
	waitFor(t, "the first pool message", func() bool { return len(seen()) == 2 })
	sendViaPool(2)
	waitFor(t, "the second pool message", func() bool { return len(seen()) == 3 })
	got := seen()[1:]
	if !(got[0] == "127.0.0.20/out20.example.net" && got[1] == "127.0.0.21/out21.example.net" ||
		got[1] == "127.0.0.20/out20.example.net" && got[0] == "127.0.0.21/out21.example.net") {
		t.Fatalf("the pool's messages came from %v; want one from each pool address, each with its EHLO name", got)
	}

	// Both pool addresses are at their cap: the third waits, in the queue.
	sendViaPool(3)
	type queued struct {
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
	}
	var q []queued
	waitFor(t, "the third pool message deferred for the warm-up caps", func() bool {
		q = nil
		s.Admin(&q, "queue", "list")
		return len(q) == 1 && q[0].Attempts >= 2 && strings.Contains(q[0].LastError, "warm-up")
	})
	if n := len(seen()); n != 3 {
		t.Fatalf("the MX got %d messages while the pool was past its caps; want 3", n)
	}

	awsCLI("put-account-dedicated-ip-warmup-attributes", "--auto-warmup-enabled")
	waitFor(t, "the third pool message, overflowing", func() bool { return len(seen()) == 4 })
	if got := seen()[3]; got != "127.0.0.22/shared.example.net" {
		t.Fatalf("with automatic warm-up the excess came from %s; want the address in no pool", got)
	}
}
