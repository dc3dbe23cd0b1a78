package events

import (
	"context"
	"errors"
	"testing"

	"sesame/internal/store"
)

// A caller that records after Run has returned (delivery's last attempts,
// whose context never ends) gets an error instead of waiting for ever.
func TestCommitAfterRunReturned(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := NewRecorder(st, nil, nil, "", "", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.commit(context.Background(), store.Outcomes{}); !errors.Is(err, errRecorderStopped) {
		t.Errorf("commit after Run: %v, want errRecorderStopped", err)
	}
}
