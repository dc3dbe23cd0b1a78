package feedback

import (
	"strings"
	"testing"
	"time"
)

func TestForwardedSeenBounded(t *testing.T) {
	f := newForwardedSeen()
	f.max = 10
	now := time.Unix(1e9, 0)
	for i := range 100 {
		f.add(string(rune('a'+i%26))+strings.Repeat("x", i), now)
	}
	if len(f.at) > 10 || len(f.order) > 10 {
		t.Fatalf("%d entries, %d in order", len(f.at), len(f.order))
	}
	f.add("late", now.Add(dedupeTTL))
	if len(f.at) != 1 || !f.seen("late", now.Add(dedupeTTL)) {
		t.Fatalf("expired entries kept: %d", len(f.at))
	}
}
