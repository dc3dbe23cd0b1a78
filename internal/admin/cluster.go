package admin

import (
	"context"
	"flag"
	"time"
)

// aliveHeartbeats is how many heartbeats a node may miss before status
// calls it down: one late write (a busy database) is not an outage.
const aliveHeartbeats = 3

// clusterStatus is what cluster status prints.
type clusterStatus struct {
	Nodes []clusterNodeOut `json:"nodes"`
}

type clusterNodeOut struct {
	NodeName   string    `json:"node_name"`
	Version    string    `json:"version"`
	StartedAt  time.Time `json:"started_at"`
	LastSeen   time.Time `json:"last_seen"`
	SpoolDepth int64     `json:"spool_depth"`
	Listen     string    `json:"listen,omitempty"`
	Alive      bool      `json:"alive"`
}

// clusterStatus lists the servers that share the store and whether each
// has sent a heartbeat within aliveHeartbeats of this configuration's
// interval.
func (a *admin) clusterStatus(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 0, "", func([]string) error {
		nodes, err := a.st.ClusterNodes(ctx)
		if err != nil {
			return err
		}
		now := a.clock.Now()
		out := clusterStatus{Nodes: []clusterNodeOut{}}
		for _, n := range nodes {
			out.Nodes = append(out.Nodes, clusterNodeOut{NodeName: n.NodeName, Version: n.Version,
				StartedAt: n.StartedAt, LastSeen: n.LastSeen, SpoolDepth: n.SpoolDepth, Listen: n.Listen,
				Alive: now.Sub(n.LastSeen) <= aliveHeartbeats*a.heartbeat})
		}
		return a.print(out)
	})
}
