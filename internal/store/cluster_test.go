package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestClusterHeartbeat(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	if ns, err := s.ClusterNodes(ctx); err != nil || len(ns) != 0 {
		t.Fatalf("ClusterNodes on a new store = %v, %v; want none", ns, err)
	}
	start := time.Date(2026, 12, 6, 15, 0, 0, 123, time.UTC)
	b := ClusterNode{NodeName: "b", Version: "v1", StartedAt: start, LastSeen: start, SpoolDepth: 3, Listen: "api=127.0.0.1:1"}
	a := ClusterNode{NodeName: "a", Version: "v1", StartedAt: start, LastSeen: start, Listen: ""}
	for _, n := range []ClusterNode{b, a} {
		if err := s.ClusterHeartbeat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	// A later heartbeat of b replaces its row (a restart: new start, new
	// version), and leaves a's alone.
	b.Version, b.StartedAt, b.LastSeen, b.SpoolDepth = "v2", start.Add(time.Minute), start.Add(2*time.Minute), 42
	if err := s.ClusterHeartbeat(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClusterNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []ClusterNode{a, b}; !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterNodes =\n%+v\nwant\n%+v", got, want)
	}
}
