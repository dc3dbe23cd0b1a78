package events

import (
	"context"
	"errors"
	"time"

	"sesame/internal/clock"
	"sesame/internal/store"
	"sesame/internal/ttlcache"
)

// DestinationStore is what StoreDestinations reads.
type DestinationStore interface {
	EventDestinations(ctx context.Context, accountID, region, configSet string) ([]store.EventDestination, error)
	IdentityNotifications(ctx context.Context, accountID, region, name string) (store.IdentityNotifications, error)
}

// StoreDestinations answers Destinations from the store, each answer
// cached for a second (the staleness the rest of sesame allows after an
// API change), so a busy configuration set costs one query a second.
type StoreDestinations struct {
	store DestinationStore
	sets  *ttlcache.Cache[string, []store.EventDestination]
	ids   *ttlcache.Cache[string, store.IdentityNotifications]
}

// NewStoreDestinations returns Destinations backed by st.
func NewStoreDestinations(st DestinationStore, clk clock.Clock) *StoreDestinations {
	if clk == nil {
		clk = clock.Real{}
	}
	return &StoreDestinations{store: st,
		sets: ttlcache.New[string, []store.EventDestination](clk, time.Second, 10000),
		ids:  ttlcache.New[string, store.IdentityNotifications](clk, time.Second, 10000)}
}

// EventTopics implements Destinations.
func (d *StoreDestinations) EventTopics(ctx context.Context, accountID, region, configSet, eventType string) ([]string, error) {
	dests, err := d.sets.Get(ctx, accountID+"/"+region+"/"+configSet, func(ctx context.Context) ([]store.EventDestination, error) {
		return d.store.EventDestinations(ctx, accountID, region, configSet)
	})
	if err != nil {
		return nil, err
	}
	matching := MatchingType(eventType)
	var topics []string
	for _, dest := range dests {
		if dest.SNSTopicARN != "" && dest.Matches(matching) {
			topics = append(topics, dest.SNSTopicARN)
		}
	}
	return topics, nil
}

// NotificationTopic implements Destinations: the settings of the most
// specific identity that covers source (address, domain, parent domains).
func (d *StoreDestinations) NotificationTopic(ctx context.Context, accountID, region, source, notificationType string) (string, bool, error) {
	if source == "" {
		return "", false, nil
	}
	n, err := d.ids.Get(ctx, accountID+"/"+region+"/"+source, func(ctx context.Context) (store.IdentityNotifications, error) {
		for _, name := range store.IdentityNames(source) {
			n, err := d.store.IdentityNotifications(ctx, accountID, region, name)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return n, err
		}
		return store.IdentityNotifications{}, nil
	})
	if err != nil {
		return "", false, err
	}
	switch notificationType {
	case TypeBounce:
		return n.BounceTopic, n.HeadersInBounce, nil
	case TypeComplaint:
		return n.ComplaintTopic, n.HeadersInComplaint, nil
	case TypeDelivery:
		return n.DeliveryTopic, n.HeadersInDelivery, nil
	}
	return "", false, nil
}
