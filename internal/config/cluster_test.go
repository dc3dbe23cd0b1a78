package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestClusterKeys(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("no host name to default to: %v", err)
	}
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Cluster.NodeName != host || c.Cluster.Heartbeat.Duration != 5*time.Second {
		t.Errorf("cluster defaults: %+v; want node_name %q, heartbeat 5s", c.Cluster, host)
	}
	for _, tc := range []struct {
		text string
		want string // "" = valid
		node string
	}{
		{"[cluster]\nnode_name = \"mx-1.eu_west\"\nheartbeat = \"2s\"\n", "", "mx-1.eu_west"},
		{"[cluster]\nnode_name = \"" + strings.Repeat("a", 64) + "\"\n", "", strings.Repeat("a", 64)},
		{"[cluster]\nnode_name = \"" + strings.Repeat("a", 65) + "\"\n", "cluster.node_name: must be 1 to 64 characters", ""},
		{"[cluster]\nnode_name = \"node 1\"\n", "cluster.node_name: must be 1 to 64 characters", ""},
		{"[cluster]\nnode_name = \"nöde\"\n", "cluster.node_name: must be 1 to 64 characters", ""},
		{"[cluster]\nnode_name = \"a/b\"\n", "cluster.node_name: must be 1 to 64 characters", ""},
		{"[cluster]\nheartbeat = \"500ms\"\n", "cluster.heartbeat: must be from 1s to 10m", ""},
		{"[cluster]\nheartbeat = \"11m\"\n", "cluster.heartbeat: must be from 1s to 10m", ""},
		{"[cluster]\nnodename = \"x\"\n", "unknown key cluster.nodename", ""},
	} {
		c := Default()
		err := Parse(&c, tc.text)
		if err == nil {
			err = c.Validate()
		}
		if tc.want == "" {
			if err != nil || c.Cluster.NodeName != tc.node {
				t.Errorf("%q: err = %v, node_name %q; want valid, %q", tc.text, err, c.Cluster.NodeName, tc.node)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
	}
}
