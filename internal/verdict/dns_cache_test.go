package verdict

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sesame/internal/dnsx"
)

// Kept: records and "no such record"; not kept: a temporary failure.
func TestCachedTXT(t *testing.T) {
	calls := map[string]int{}
	lookup := func(_ context.Context, name string) ([]string, error) {
		name = strings.ToLower(name)
		calls[name]++
		switch name {
		case "example.org":
			return []string{"v=spf1 -all"}, nil
		case "_dmarc.example.org":
			return nil, dnsx.ErrNotFound
		}
		return nil, errors.New("SERVFAIL")
	}
	c := cachedTXT(lookup, time.Minute)
	ctx := context.Background()
	for range 3 {
		if txt, err := c(ctx, "Example.org"); err != nil || len(txt) != 1 || txt[0] != "v=spf1 -all" {
			t.Fatalf("example.org: %v %v", txt, err)
		}
		if _, err := c(ctx, "_dmarc.example.org"); !dnsx.IsNotFound(err) {
			t.Fatalf("_dmarc.example.org: %v, want not found", err)
		}
		if _, err := c(ctx, "broken.example"); err == nil || dnsx.IsNotFound(err) {
			t.Fatalf("broken.example: %v, want a temporary failure", err)
		}
	}
	if calls["example.org"] != 1 || calls["_dmarc.example.org"] != 1 || calls["broken.example"] != 3 {
		t.Errorf("lookups: %v", calls)
	}
}
