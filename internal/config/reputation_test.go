package config

import (
	"strings"
	"testing"
	"time"
)

func TestReputationDefaultsAreSES(t *testing.T) {
	t.Parallel()
	c := Default()
	r := c.Reputation
	if !r.Enforce || r.BounceReview != 0.05 || r.BouncePause != 0.10 || r.ComplaintReview != 0.001 ||
		r.ComplaintPause != 0.005 || r.Window.Duration != 14*24*time.Hour {
		t.Errorf("reputation defaults: %+v", r)
	}
}

func TestReputationKeys(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := Parse(&c, "[reputation]\nenforce = false\nevaluate_every = \"1s\"\nmin_volume = 5\nbounce_pause = 0.2\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Reputation.Enforce || c.Reputation.EvaluateEvery.Duration != time.Second || c.Reputation.MinVolume != 5 ||
		c.Reputation.BouncePause != 0.2 || c.Reputation.BounceReview != 0.05 {
		t.Errorf("reputation: %+v", c.Reputation)
	}
	for _, tc := range []struct{ text, key string }{
		{"bounce_review = 0", "reputation.bounce_review"},
		{"complaint_pause = 1.5", "reputation.complaint_pause"},
		{"bounce_pause = 0.01", "reputation.bounce_pause"},
		{"complaint_review = 0.01", "reputation.complaint_pause"},
		{"window = \"400h\"", "reputation.window"},
		{"representative_volume = 0", "reputation.representative_volume"},
		{"min_volume = 0", "reputation.min_volume"},
		{"evaluate_every = \"1ms\"", "reputation.evaluate_every"},
	} {
		c := Default()
		if err := Parse(&c, "[reputation]\n"+tc.text+"\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.key+":") {
			t.Errorf("%s: error %v, want one about %s", tc.text, err, tc.key)
		}
	}
}
