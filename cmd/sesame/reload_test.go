package main

import (
	"slices"
	"testing"
	"time"

	"sesame/internal/config"
)

// changedKeys names changed keys as the file spells them, nested tables
// and durations included, and nothing else.
func TestChangedKeys(t *testing.T) {
	a := config.Default()
	if got := changedKeys(a, a); len(got) != 0 {
		t.Errorf("same config: %v", got)
	}
	b := config.Default()
	b.Log.Level = "debug"
	b.SMTP.IdleTimeout.Duration = time.Minute
	b.SMTP.StartTLSListen = []string{"0.0.0.0:587"}
	b.ShutdownTimeout.Duration = time.Second
	b.Delivery.Destinations = map[string]config.Destination{"example.com": {MaxConnections: 2}}
	want := []string{"delivery.destinations", "log.level", "shutdown_timeout", "smtp.idle_timeout", "smtp.starttls_listen"}
	if got := changedKeys(a, b); !slices.Equal(got, want) {
		t.Errorf("changedKeys = %v, want %v", got, want)
	}
}
