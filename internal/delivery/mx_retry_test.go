package delivery

import (
	"testing"
	"time"
)

func TestRetryNext(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	p := RetryPolicy{First: time.Minute, Max: time.Hour, MaxAge: 14 * time.Hour, Jitter: 0.2}
	tests := []struct {
		name     string
		attempts int
		age      time.Duration
		rnd      float64
		maxAge   time.Duration
		wait     time.Duration
		expired  bool
	}{
		{name: "first, no jitter", attempts: 1, rnd: 0.5, wait: time.Minute},
		{name: "first, low jitter", attempts: 1, rnd: 0, wait: 48 * time.Second},
		{name: "first, high jitter", attempts: 1, rnd: 0.999999, wait: 72 * time.Second},
		{name: "doubles", attempts: 4, rnd: 0.5, wait: 8 * time.Minute},
		{name: "capped", attempts: 30, rnd: 0.5, wait: time.Hour},
		{name: "last attempt at the deadline", attempts: 30, age: 13*time.Hour + 30*time.Minute, rnd: 0.5, wait: 30 * time.Minute},
		{name: "expired", attempts: 30, age: 14 * time.Hour, rnd: 0.5, expired: true},
		{name: "configuration set's max age", attempts: 1, age: 10 * time.Minute, maxAge: 10 * time.Minute, expired: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := t0.Add(tc.age)
			next, expired := p.Next(tc.attempts, t0, now, tc.rnd, tc.maxAge)
			if expired != tc.expired {
				t.Fatalf("expired = %v, want %v", expired, tc.expired)
			}
			if tc.expired {
				return
			}
			if got := next.Sub(now); got < tc.wait-time.Millisecond || got > tc.wait+time.Millisecond {
				t.Errorf("wait = %s, want %s", got, tc.wait)
			}
		})
	}
}

func TestRetryDefaultsAndDelay(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	var p RetryPolicy
	if _, expired := p.Next(1, t0, t0.Add(DefaultMaxAge-time.Second), 0.5, 0); expired {
		t.Error("expired before 14 h")
	}
	if _, expired := p.Next(1, t0, t0.Add(DefaultMaxAge), 0.5, 0); !expired {
		t.Error("not expired at 14 h")
	}
	if p.Delayed(t0, t0.Add(time.Minute)) || !p.Delayed(t0, t0.Add(DefaultDelayAfter)) {
		t.Error("Delayed disagrees with DelayAfter")
	}
}
