package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
)

func TestClusterStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	status := func() clusterStatus {
		t.Helper()
		var out bytes.Buffer
		if err := RunWith(ctx, f.st, Options{Heartbeat: 5 * time.Second, Clock: clk}, []string{"cluster", "status"}, &out); err != nil {
			t.Fatal(err)
		}
		var st clusterStatus
		if err := json.Unmarshal(out.Bytes(), &st); err != nil {
			t.Fatalf("%v in %s", err, out.String())
		}
		return st
	}
	if st := status(); st.Nodes == nil || len(st.Nodes) != 0 {
		t.Errorf("no nodes yet: %+v; want an empty list", st)
	}
	start := now.Add(-time.Hour)
	for _, n := range []store.ClusterNode{
		{NodeName: "fresh", Version: "v1", StartedAt: start, LastSeen: now.Add(-time.Second), SpoolDepth: 7, Listen: "api=127.0.0.1:8787"},
		{NodeName: "edge", Version: "v1", StartedAt: start, LastSeen: now.Add(-15 * time.Second)},
		{NodeName: "gone", Version: "v0", StartedAt: start, LastSeen: now.Add(-15*time.Second - time.Nanosecond)},
	} {
		if err := f.st.ClusterHeartbeat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]clusterNodeOut{
		"edge":  {NodeName: "edge", Version: "v1", StartedAt: start, LastSeen: now.Add(-15 * time.Second), Alive: true},
		"fresh": {NodeName: "fresh", Version: "v1", StartedAt: start, LastSeen: now.Add(-time.Second), SpoolDepth: 7, Listen: "api=127.0.0.1:8787", Alive: true},
		"gone":  {NodeName: "gone", Version: "v0", StartedAt: start, LastSeen: now.Add(-15*time.Second - time.Nanosecond)},
	}
	st := status()
	if len(st.Nodes) != len(want) {
		t.Fatalf("nodes: %+v; want %d", st.Nodes, len(want))
	}
	for _, n := range st.Nodes {
		w := want[n.NodeName]
		if n.NodeName != w.NodeName || n.Version != w.Version || !n.StartedAt.Equal(w.StartedAt) || !n.LastSeen.Equal(w.LastSeen) ||
			n.SpoolDepth != w.SpoolDepth || n.Listen != w.Listen || n.Alive != w.Alive {
			t.Errorf("node %+v; want %+v", n, w)
		}
	}
	// Time passing without heartbeats takes every node down.
	clk.Advance(time.Minute)
	for _, n := range status().Nodes {
		if n.Alive {
			t.Errorf("a minute later %s is still alive", n.NodeName)
		}
	}
}
