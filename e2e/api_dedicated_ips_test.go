package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// TestAPIDedicatedIPPools: with two [[delivery.source_addresses]], the aws
// CLI creates a pool, puts one address in it, and get-dedicated-ips
// --pool-name lists that address alone, in the pool; unfiltered, both.
func TestAPIDedicatedIPPools(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	s := testenv.Start(t, testenv.Options{Extra: `
[[delivery.source_addresses]]
address = "127.0.0.2"
ehlo_name = "mail1.example.net"

[[delivery.source_addresses]]
address = "127.0.0.3"
ehlo_name = "mail2.example.net"
`})
	region := s.Regions[0]
	awsCLI := func(args ...string) []byte {
		t.Helper()
		return []byte(s.MustAWSCLI(t, append([]string{"sesv2", "--region", region}, args...)...))
	}
	type ips struct {
		DedicatedIps []struct {
			Ip, WarmupStatus, PoolName string
			WarmupPercentage           int
		}
	}
	list := func(args ...string) string {
		t.Helper()
		var got ips
		if err := json.Unmarshal(awsCLI(append([]string{"get-dedicated-ips"}, args...)...), &got); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ip := range got.DedicatedIps {
			out = append(out, ip.Ip+"="+ip.PoolName+"/"+ip.WarmupStatus)
		}
		return strings.Join(out, " ")
	}

	if got := list(); got != "127.0.0.2=/DONE 127.0.0.3=/DONE" {
		t.Fatalf("get-dedicated-ips = %s; want both addresses, in no pool", got)
	}
	awsCLI("create-dedicated-ip-pool", "--pool-name", "transactional")
	awsCLI("put-dedicated-ip-in-pool", "--ip", "127.0.0.3", "--destination-pool-name", "transactional")
	if got := list("--pool-name", "transactional"); got != "127.0.0.3=transactional/DONE" {
		t.Errorf("get-dedicated-ips --pool-name transactional = %s; want 127.0.0.3 alone", got)
	}
	if got := list(); got != "127.0.0.2=/DONE 127.0.0.3=transactional/DONE" {
		t.Errorf("get-dedicated-ips = %s", got)
	}
	var pools struct{ DedicatedIpPools []string }
	if err := json.Unmarshal(awsCLI("list-dedicated-ip-pools"), &pools); err != nil {
		t.Fatal(err)
	}
	if strings.Join(pools.DedicatedIpPools, ",") != "transactional" {
		t.Errorf("list-dedicated-ip-pools = %v", pools.DedicatedIpPools)
	}
}
