package sns

import (
	"context"
	"slices"
	"sync"
	"time"

	"sesame/internal/metrics"
	"sesame/internal/store"
)

// Delivery: pending rows are read from the store in seq order and queued
// in memory per subscription ("lane"). A lane sends up to laneParallel
// messages at a time, oldest first, and one at a time, head first, once one
// failed: a failing head waits out its backoff and holds back only its own
// lane. Finished rows are deleted in batches.

const (
	loadBatch   = 1000 // rows read per store query
	laneCap     = 1000 // rows a lane holds in memory; the rest wait in the store
	flushBatch  = 256  // finished rows that trigger a delete before the next tick
	maxBackoff  = 2 * time.Minute
	baseBackoff = time.Second
	// signAhead is how many of a lane's next messages are signed while the
	// head is in flight, when the server signs (no helper, or email and sqs
	// rows): RSA (a quarter of a millisecond) would otherwise serialise a
	// lane.
	signAhead = 64
	// laneParallel bounds one healthy subscription's messages in flight.
	laneParallel = 16
)

// lane is one subscription's queue.
type lane struct {
	arn      string
	queue    []*pending
	running  bool
	gone     bool
	inflight int // messages being attempted
	// overflow: rows of this lane with seq >= reloadFrom were left in the
	// store when the lane was full; it re-reads them as it drains.
	overflow   bool
	reloadFrom int64
	// failing: the head's last attempt failed; once past the retry period
	// it is dropped without another attempt.
	failing bool
}

// pending is a row in memory with its retry state (not persisted: after a
// restart every pending row is tried at once).
type pending struct {
	store.SNSDelivery
	attempts int
	due      time.Time
	inflight bool

	prep sync.Once
	done chan struct{} // closed when body/err are set
	body []byte
	err  error
}

// prepare builds p's signed envelope in the background, at most
// GOMAXPROCS at a time; wait on p.done for it.
func (s *Service) prepare(p *pending) {
	p.prep.Do(func() {
		p.done = make(chan struct{})
		go func() {
			s.signers <- struct{}{}
			p.body, p.err = s.payload(&p.SNSDelivery)
			<-s.signers
			close(p.done)
		}()
	})
}

// Run delivers queued messages until ctx ends. In a cluster one node runs
// it at a time (internal/lease); it starts from the store each time, and
// forgets its lanes when it ends, for the next node to deliver from the
// store.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	s.mu.Lock()
	s.running, s.lanes, s.loaded = true, map[string]*lane{}, 0
	s.mu.Unlock()
	defer func() {
		wg.Wait()
		s.flush(context.WithoutCancel(ctx))
		s.mu.Lock()
		s.running, s.lanes, s.loaded = false, map[string]*lane{}, 0
		s.mu.Unlock()
	}()
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for {
		s.flush(ctx)
		if err := s.load(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("sns: read pending deliveries", "err", err)
		}
		s.startDue(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// load reads rows committed since the last load into their lanes.
func (s *Service) load(ctx context.Context) error {
	for {
		s.mu.Lock()
		from := s.loaded + 1
		s.mu.Unlock()
		rows, err := s.st.SNSDeliveries(ctx, "", from, 1<<62, loadBatch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		s.mu.Lock()
		for i := range rows {
			if rows[i].Seq > s.loaded { // else handed off meanwhile
				s.queueRow(rows[i])
			}
		}
		s.mu.Unlock()
		if len(rows) < loadBatch {
			return nil
		}
	}
}

// queueRow puts the next row after loaded in its lane (s.mu held).
func (s *Service) queueRow(d store.SNSDelivery) {
	l := s.lanes[d.SubscriptionARN]
	if l == nil {
		l = &lane{arn: d.SubscriptionARN}
		s.lanes[d.SubscriptionARN] = l
	}
	switch {
	case l.overflow:
	case len(l.queue) >= laneCap:
		l.overflow, l.reloadFrom = true, d.Seq
	default:
		l.queue = append(l.queue, &pending{SNSDelivery: d})
	}
	s.loaded = d.Seq
}

// handOff gives rows just committed to their lanes without reading them
// back, when they are the very next ones; otherwise (another transaction
// committed rows in between) the loader reads them in order.
func (s *Service) handOff(rows []*store.SNSDelivery) {
	s.mu.Lock()
	if s.running && len(rows) > 0 && rows[0].Seq == s.loaded+1 {
		for _, d := range rows {
			s.queueRow(*d)
		}
	}
	s.mu.Unlock()
	s.poke()
}

// startDue starts a runner for every idle lane whose head is due.
func (s *Service) startDue(ctx context.Context, wg *sync.WaitGroup) {
	now := s.clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for arn, l := range s.lanes {
		if l.running {
			continue
		}
		if len(l.queue) == 0 && !l.overflow {
			delete(s.lanes, arn)
			continue
		}
		if len(l.queue) > 0 && l.queue[0].due.After(now) {
			continue
		}
		l.running = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runLane(ctx, l)
		}()
	}
}

// runLane sends l's messages until it is empty, its next message must
// wait, or ctx ends. A healthy lane has up to laneParallel messages in
// flight (SNS standard topics do not keep order either, and one at a time
// would cap a subscriber at one round trip per message); once one fails the
// lane goes back to one at a time, head first, until the head gets through,
// so a dead subscriber is asked once per backoff, not once per message.
func (s *Service) runLane(ctx context.Context, l *lane) {
	var wg sync.WaitGroup
	defer wg.Wait()
	freed := make(chan struct{}, 1)
	for ctx.Err() == nil {
		s.mu.Lock()
		if l.gone {
			l.running = false
			s.mu.Unlock()
			return
		}
		if len(l.queue) == 0 && l.overflow {
			s.mu.Unlock()
			if err := s.reload(ctx, l); err != nil {
				s.log.Error("sns: read pending deliveries", "subscription", l.arn, "err", err)
				s.mu.Lock()
				l.running = false
				s.mu.Unlock()
				return
			}
			continue
		}
		now := s.clk.Now()
		var p *pending
		for _, q := range l.queue {
			if !q.inflight {
				p = q
				break
			}
		}
		if p == nil || p.due.After(now) || l.inflight >= laneParallel || (l.failing && l.inflight > 0) {
			if l.inflight == 0 {
				l.running = false
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			select {
			case <-freed:
			case <-ctx.Done():
			}
			continue
		}
		p.inflight = true
		l.inflight++
		// A copy: deliveries ending meanwhile delete from l.queue in place.
		ahead := slices.Clone(l.queue[:min(len(l.queue), signAhead)])
		s.mu.Unlock()
		for _, q := range ahead {
			if !s.viaHelper(&q.SNSDelivery) {
				s.prepare(q)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliver(ctx, l, p, now)
			select {
			case freed <- struct{}{}:
			default:
			}
		}()
	}
}

// deliver makes one attempt at p and settles it in l.
func (s *Service) deliver(ctx context.Context, l *lane, p *pending, now time.Time) {
	var res outcome
	if p.attempts > 0 && now.Sub(p.Published) > s.cfg.RetryPeriod {
		res = outcome{drop: true, reason: "retry period over"}
	} else {
		s.sem <- struct{}{}
		res = s.attempt(ctx, p)
		<-s.sem
		if ctx.Err() != nil {
			s.mu.Lock()
			p.inflight = false
			l.inflight--
			s.mu.Unlock()
			return
		}
		if !res.ok && !res.drop && s.clk.Now().Sub(p.Published) > s.cfg.RetryPeriod {
			res.drop, res.reason = true, "retry period over after: "+res.reason
		}
	}
	s.mu.Lock()
	p.inflight = false
	l.inflight--
	switch {
	case res.ok || res.drop:
		if i := slices.Index(l.queue, p); i >= 0 {
			l.queue = slices.Delete(l.queue, i, i+1)
		}
		// After a drop the next message gets at least one attempt of its own.
		l.failing = false
		s.done = append(s.done, p.Seq)
		if len(s.done) >= flushBatch {
			s.poke()
		}
	default:
		p.attempts++
		p.due = s.clk.Now().Add(backoff(p.attempts))
		l.failing = true
	}
	s.mu.Unlock()
	metrics.SNSDelivery(res.ok, res.drop)
	if res.drop {
		s.log.Warn("sns: delivery dropped", "subscription", p.SubscriptionARN, "endpoint", p.Endpoint,
			"message_id", p.MessageID, "type", p.Kind, "attempts", p.attempts+1, "reason", res.reason)
	} else if !res.ok {
		s.log.Info("sns: delivery failed, will retry", "subscription", p.SubscriptionARN, "endpoint", p.Endpoint,
			"message_id", p.MessageID, "attempts", p.attempts, "retry_at", p.due, "reason", res.reason)
	}
}

// reload reads an overflowed lane's next rows from the store: those up to
// what the loader has passed (rows beyond it reach the lane through load).
func (s *Service) reload(ctx context.Context, l *lane) error {
	s.mu.Lock()
	from, upto := l.reloadFrom, s.loaded
	s.mu.Unlock()
	rows, err := s.st.SNSDeliveries(ctx, l.arn, from, upto, laneCap)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range rows {
		l.queue = append(l.queue, &pending{SNSDelivery: d})
	}
	switch {
	case len(rows) == laneCap:
		l.reloadFrom = rows[len(rows)-1].Seq + 1
	case s.loaded > upto:
		// The loader passed more of this lane's rows meanwhile: read those next.
		l.reloadFrom = upto + 1
	default:
		l.overflow = false
	}
	return nil
}

// dropLane forgets an unsubscribed subscription's queued messages with a
// seq below before (the UnsubscribeConfirmation queued with the removal
// stays); a lane left empty is forgotten.
func (s *Service) dropLane(subArn string, before int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lanes[subArn]
	if l == nil {
		return
	}
	var keep []*pending
	for _, p := range l.queue {
		if p.Seq >= before {
			keep = append(keep, p)
		}
	}
	// An overflowing lane skipped rows the loader has passed: it must stay to
	// read a kept one back from the store.
	if len(keep) > 0 || l.overflow && before <= s.loaded {
		l.queue, l.failing = keep, false
		return
	}
	l.gone, l.queue, l.overflow = true, nil, false
	delete(s.lanes, subArn)
}

// flush deletes finished rows in one transaction.
func (s *Service) flush(ctx context.Context) {
	s.mu.Lock()
	done := s.done
	s.done = nil
	s.mu.Unlock()
	if len(done) == 0 {
		return
	}
	if err := s.st.DeleteSNSDeliveries(ctx, done); err != nil {
		// Kept for the next flush; a crash before it re-delivers them
		// (at least once, as SNS).
		s.log.Error("sns: delete finished deliveries", "err", err)
		s.mu.Lock()
		s.done = append(s.done, done...)
		s.mu.Unlock()
	}
}

func backoff(attempts int) time.Duration {
	d := baseBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// outcome of one attempt: ok, or dropped for good, or to retry.
type outcome struct {
	ok     bool
	drop   bool
	reason string
}

// attempt hands one message to its subscriber by its protocol.
func (s *Service) attempt(ctx context.Context, p *pending) outcome {
	if s.viaHelper(&p.SNSDelivery) {
		return s.postViaHelper(ctx, &p.SNSDelivery)
	}
	s.prepare(p)
	select {
	case <-p.done:
	case <-ctx.Done():
		return outcome{reason: ctx.Err().Error()}
	}
	if p.err != nil {
		return outcome{reason: p.err.Error()}
	}
	switch p.Protocol {
	case "email", "email-json":
		return s.mail(ctx, p, p.body)
	case "sqs":
		return s.enqueueSQS(ctx, p, p.body)
	}
	return s.courier.post(ctx, &p.SNSDelivery, p.body)
}

// payload is what a row hands over: the JSON envelope (or the bare
// message) for http(s) and sqs, the complete mail for email protocols.
func (s *Service) payload(d *store.SNSDelivery) ([]byte, error) {
	switch d.Protocol {
	case "email", "email-json":
		return s.composeMail(context.Background(), d)
	}
	return s.envelope(d)
}
