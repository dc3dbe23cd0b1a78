package config

import (
	"os"
	"time"
)

// Cluster is the [cluster] section: how this server names itself among the
// servers that share one database, and how often it says it is alive there
// (the cluster_nodes table; `sesame admin cluster status` reads it).
type Cluster struct {
	// NodeName tells this server apart from the others: its row in
	// cluster_nodes and the node label of its metrics. "" = the machine's
	// host name.
	NodeName string `toml:"node_name"`
	// Heartbeat is how often the row is refreshed; a node not seen for
	// three heartbeats counts as down.
	Heartbeat Duration `toml:"heartbeat"`
}

// maxNodeName bounds node_name: a Prometheus label value and a key, not a
// free text.
const maxNodeName = 64

func defaultCluster() Cluster { return Cluster{Heartbeat: Duration{5 * time.Second}} }

// deriveNodeName fills node_name with the machine's host name when the file
// leaves it out. A host name that cannot be read leaves it empty, which
// validate reports.
func (c *Cluster) deriveNodeName() {
	if c.NodeName != "" {
		return
	}
	if h, err := os.Hostname(); err == nil {
		c.NodeName = h
	}
}

// validate checks the [cluster] keys.
func (c *Cluster) validate(bad func(key, format string, args ...any) error) error {
	if !validNodeName(c.NodeName) {
		return bad("cluster.node_name", "must be 1 to %d characters of A-Z a-z 0-9 . _ -, got %q", maxNodeName, c.NodeName)
	}
	if d := c.Heartbeat.Duration; d < time.Second || d > 10*time.Minute {
		return bad("cluster.heartbeat", "must be from 1s to 10m, got %v", d)
	}
	return nil
}

func validNodeName(s string) bool {
	if s == "" || len(s) > maxNodeName {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}
