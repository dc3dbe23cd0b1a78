package spool

import "time"

// Oldest is when the oldest pending message was accepted (its
// Envelope.Received); zero when none is pending. It walks every pending
// message under the lock, so it is for scrapes (metrics caches it), not
// for a hot path.
func (s *Spool) Oldest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest time.Time
	for _, it := range s.items {
		if r := it.entry.Envelope.Received; !r.IsZero() && (oldest.IsZero() || r.Before(oldest)) {
			oldest = r
		}
	}
	return oldest
}
