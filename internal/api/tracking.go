package api

import (
	"context"
	"errors"
	"strings"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Open and click tracking options of a configuration set, v1's three
// operations (v2's PutConfigurationSetTrackingOptions and the options in
// GetConfigurationSet / DescribeConfigurationSet are configsets.go's).
// What the options do to sent mail is internal/sending's and
// internal/tracking's.

func (s *Server) registerTracking() {
	s.handleV1("CreateConfigurationSetTrackingOptions", s.createTrackingOptionsV1)
	s.handleV1("UpdateConfigurationSetTrackingOptions", s.updateTrackingOptionsV1)
	s.handleV1("DeleteConfigurationSetTrackingOptions", s.deleteTrackingOptionsV1)
}

// validRedirectDomain: a domain name of at least two labels, each 1 to 63
// letters, digits or hyphens (not at either end), 253 characters at most.
func validRedirectDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// editTrackingOptions changes a set's tracking options in one transaction:
// edit gets the current ones (nil: none) and returns the new ones or a
// seserr failure.
func (s *Server) editTrackingOptions(ctx context.Context, name string, edit func(*store.TrackingOptions) (*store.TrackingOptions, error)) error {
	p := principal(ctx)
	err := s.cfg.Store.UpdateConfigurationSetOptions(ctx, p.AccountID, p.Region, name, func(o *store.ConfigurationSetOptions) error {
		t, err := edit(o.Tracking)
		if err != nil {
			return err
		}
		o.Tracking = t
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return seserr.ConfigurationSetDoesNotExist(name)
	}
	return err
}

// trackingArgsV1 reads ConfigurationSetName and TrackingOptions.CustomRedirectDomain.
func trackingArgsV1(q queryArgs) (name, domain string, err error) {
	if name, err = q.Required("ConfigurationSetName"); err != nil {
		return "", "", err
	}
	domain = q.Get("TrackingOptions.CustomRedirectDomain")
	if domain != "" && !validRedirectDomain(domain) {
		return "", "", seserr.InvalidTrackingOptions(domain)
	}
	return name, domain, nil
}

func (s *Server) createTrackingOptionsV1(ctx context.Context, q queryArgs) (any, error) {
	name, domain, err := trackingArgsV1(q)
	if err != nil {
		return nil, err
	}
	return nil, s.editTrackingOptions(ctx, name, func(t *store.TrackingOptions) (*store.TrackingOptions, error) {
		if t != nil {
			return nil, seserr.TrackingOptionsAlreadyExist(name)
		}
		return &store.TrackingOptions{CustomRedirectDomain: domain}, nil
	})
}

func (s *Server) updateTrackingOptionsV1(ctx context.Context, q queryArgs) (any, error) {
	name, domain, err := trackingArgsV1(q)
	if err != nil {
		return nil, err
	}
	return nil, s.editTrackingOptions(ctx, name, func(t *store.TrackingOptions) (*store.TrackingOptions, error) {
		if t == nil {
			return nil, seserr.TrackingOptionsDoNotExist(name)
		}
		out := *t
		out.CustomRedirectDomain = domain
		return &out, nil
	})
}

func (s *Server) deleteTrackingOptionsV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	return nil, s.editTrackingOptions(ctx, name, func(t *store.TrackingOptions) (*store.TrackingOptions, error) {
		if t == nil {
			return nil, seserr.TrackingOptionsDoNotExist(name)
		}
		return nil, nil
	})
}
