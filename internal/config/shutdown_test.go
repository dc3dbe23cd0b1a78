package config

import (
	"strings"
	"testing"
	"time"
)

// shutdown_timeout defaults to 30s, takes a duration, and refuses nonsense.
func TestShutdownTimeout(t *testing.T) {
	if d := Default().ShutdownTimeout.Duration; d != 30*time.Second {
		t.Errorf("default shutdown_timeout = %v, want 30s", d)
	}
	c := Default()
	if err := Parse(&c, `shutdown_timeout = "2m"`); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil || c.ShutdownTimeout.Duration != 2*time.Minute {
		t.Errorf("shutdown_timeout = \"2m\": %v, %v", c.ShutdownTimeout.Duration, err)
	}
	for _, bad := range []string{`"0s"`, `"-1s"`, `"2h"`} {
		c := Default()
		if err := Parse(&c, "shutdown_timeout = "+bad); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "shutdown_timeout") {
			t.Errorf("shutdown_timeout = %s: %v, want an error naming the key", bad, err)
		}
	}
}
