package sending

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"sesame/internal/spool"
	"sesame/internal/store"
	"sesame/internal/tracking"
)

// Tracking is how sent mail is tracked: the key that signs tracking URLs
// and where they point when the configuration set names no custom
// redirect domain.
type Tracking struct {
	Links *tracking.Links
	// BaseURL is sesame's tracking listener as recipients reach it
	// ("https://track.example.com"), no path.
	BaseURL string
}

// TrackingOverride is SES v2's ConfigurationOverrides.Tracking: per
// message, TrackingEnabled tracks opens (clicks) even when the
// configuration set would not, TrackingDisabled never does; "" leaves it
// to the set. An override without an event destination for OPEN or CLICK
// still records the events: GetMessageInsights shows them, as SES's VDM
// does.
type TrackingOverride struct {
	Open, Click string
}

// SES's FeatureStatus values of a TrackingOverride.
const (
	TrackingEnabled  = "ENABLED"
	TrackingDisabled = "DISABLED"
)

// apply is plan with o's overrides.
func (o TrackingOverride) apply(plan trackingPlan) trackingPlan {
	for _, f := range []struct {
		status string
		on     *bool
	}{{o.Open, &plan.open}, {o.Click, &plan.click}} {
		switch f.status {
		case TrackingEnabled:
			*f.on = true
		case TrackingDisabled:
			*f.on = false
		}
	}
	return plan
}

// trackingPlan is what a configuration set asks of tracking.
type trackingPlan struct {
	open, click bool
	domain      string // CustomRedirectDomain, "" = Tracking.BaseURL
	httpsPolicy string
}

// track rewrites the HTML parts of sub's draft for open and click tracking
// when its configuration set has an enabled event destination for OPEN or
// CLICK (SES tracks only then), or sub's TrackingOverride asks. It runs
// once the MessageId is known and before the message is spooled, so the
// DKIM signature made at delivery covers the rewritten body. A set without
// such a destination costs a cached lookup.
func (s *Sender) track(ctx context.Context, sub *Submission, meta *spool.Meta, id string) error {
	if s.tracking == nil || meta.RenderingFailure != "" || meta.Rejected != "" {
		return nil
	}
	var plan trackingPlan
	if meta.ConfigurationSet != "" {
		key := configSetKey{sub.AccountID, sub.Region, meta.ConfigurationSet}
		var err error
		plan, err = s.trackingPlans.Get(ctx, key, func(ctx context.Context) (trackingPlan, error) {
			return s.loadTrackingPlan(ctx, key)
		})
		if err != nil {
			return fmt.Errorf("sending: tracking options of configuration set %s: %w", meta.ConfigurationSet, err)
		}
	}
	plan = sub.Tracking.apply(plan)
	if !plan.open && !plan.click {
		return nil
	}
	msg, err := io.ReadAll(sub.Draft.Reader())
	if err != nil {
		return fmt.Errorf("sending: reading %s for tracking: %w", id, err)
	}
	if !tracking.MayHaveHTML(msg) {
		return nil // SES tracks HTML parts only
	}
	rw := &tracking.Rewriter{}
	if plan.open {
		rw.OpenURL = s.tracking.Links.OpenURL(plan.base(s.tracking.BaseURL, true, ""), id)
	}
	if plan.click {
		rw.ClickURL = func(target, tags string) string {
			return s.tracking.Links.ClickURL(plan.base(s.tracking.BaseURL, false, target), id, target, tags)
		}
	}
	out, err := rw.Message(msg)
	if err != nil || out == nil {
		return err
	}
	d, err := s.DraftOf(out)
	if err != nil {
		return err
	}
	if err := sub.Draft.Discard(); err != nil {
		s.logger.Warn("sending: discarding the untracked draft", "message", id, "err", err)
	}
	sub.Draft = d
	return nil
}

func (s *Sender) loadTrackingPlan(ctx context.Context, key configSetKey) (trackingPlan, error) {
	var plan trackingPlan
	cs, err := s.store.ConfigurationSet(ctx, key.account, key.region, key.name)
	if errors.Is(err, store.ErrNotFound) {
		return plan, nil
	}
	if err != nil {
		return plan, err
	}
	dests, err := s.store.EventDestinations(ctx, key.account, key.region, key.name)
	if err != nil {
		return plan, err
	}
	for _, d := range dests {
		plan.open = plan.open || d.Matches("OPEN")
		plan.click = plan.click || d.Matches("CLICK")
	}
	if t := cs.Options.Tracking; t != nil {
		plan.domain, plan.httpsPolicy = t.CustomRedirectDomain, t.HttpsPolicy
	}
	return plan, nil
}

// base is where a tracking URL points: sesame's listener, or the custom
// redirect domain with the scheme SES's HttpsPolicy gives: the pixel is
// http unless REQUIRE or REQUIRE_OPEN_ONLY; a link keeps its own scheme
// unless REQUIRE.
func (p trackingPlan) base(listener string, open bool, target string) string {
	if p.domain == "" {
		return listener
	}
	scheme := "http"
	switch {
	case p.httpsPolicy == "REQUIRE", open && p.httpsPolicy == "REQUIRE_OPEN_ONLY":
		scheme = "https"
	case !open && strings.HasPrefix(strings.ToLower(target), "https:"):
		scheme = "https"
	}
	return scheme + "://" + p.domain
}
