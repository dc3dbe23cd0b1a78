package spool

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DeliveryState is what delivery keeps with a message between attempts. The
// spool stores it and schedules by NextAttempt; what the fields mean is
// delivery's business.
type DeliveryState struct {
	Attempts     int       `json:"attempts"`
	Done         []string  `json:"done,omitempty"` // recipients finished (delivered, bounced, suppressed)
	NextAttempt  time.Time `json:"next,omitzero"`  // zero = due now
	LastError    string    `json:"last_error,omitempty"`
	FirstAttempt time.Time `json:"first,omitzero"`
	// Adopting, while set, is the spool directory the message is being
	// adopted from (adopt.go): it is held until that spool lets it go.
	Adopting string `json:"adopting,omitempty"`
}

// ErrNotPending is returned for an id the spool does not hold (never
// appended, or done or deleted already).
var ErrNotPending = errors.New("spool: no such pending message")

// maxStatesPerRecord bounds one state record (RetryAll of a long queue).
const maxStatesPerRecord = 4096

// Defer stores st for message id durably (group-committed like Done) and
// releases the claim on it: the message is handed out by Claim again only
// when st.NextAttempt is due. After a restart the schedule is intact. An id
// that is no longer pending (deleted by the operator meanwhile) is ignored.
//
// A message pending for longer than Options.CompactAfter in a sparse old
// segment is copied forward instead (compact.go), so that a long-deferred
// message does not keep that segment on disk.
func (s *Spool) Defer(ctx context.Context, id string, st DeliveryState) error {
	stJSON, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("spool: defer %s: state: %w", id, err)
	}
	s.mu.Lock()
	it, ok := s.items[id]
	var e *Entry
	if ok && s.shouldCompact(it) {
		e = it.entry.clone()
	}
	s.mu.Unlock()
	if !ok {
		return nil
	}
	var req *commitReq
	if e != nil {
		req, err = s.moveReq(e, stJSON, st)
		if err != nil {
			// The copy is an optimisation; the state must not wait for it.
			s.log.Warn("not compacting a deferred message", "id", id, "err", err)
			req = nil
		}
	}
	if req == nil {
		req = &commitReq{frame: encodeState([]stateUpdate{{id: id, state: stJSON}}),
			states: []newState{{id: id, st: st}}}
	}
	req.release = true
	req.errc = make(chan error, 1)
	if err := s.submit(ctx, req); err != nil {
		return fmt.Errorf("spool: defer %s: %w", id, err)
	}
	return nil
}

// shouldCompact says whether Defer copies it forward; s.mu held.
func (s *Spool) shouldCompact(it *item) bool {
	if !s.sparse(it.seg) || it.entry.Received.IsZero() {
		return false
	}
	return s.opt.Clock.Now().Sub(it.entry.Received) >= s.opt.CompactAfter
}

// moveReq builds the move record that copies e forward with state st.
func (s *Spool) moveReq(e *Entry, stJSON []byte, st DeliveryState) (*commitReq, error) {
	envJSON, err := json.Marshal(e.Envelope)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	f, err := os.Open(e.seg)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	inline := make([]byte, e.inline)
	if _, err := io.ReadFull(io.NewSectionReader(f, e.inlineAt, e.inline), inline); err != nil {
		return nil, fmt.Errorf("read %s: %w", e.seg, err)
	}
	body := ""
	if e.body != "" {
		body = filepath.Base(e.body)
	}
	frame := encodeMove(envJSON, stJSON, body, e.bodySize, inline)
	return &commitReq{frame: frame, move: &moveApply{
		newState:  newState{id: e.ID, st: st},
		inlineRel: int64(len(frame)) - e.inline,
	}}, nil
}

// Retry makes message id due now, durably; its other state is kept. A
// claimed message stays claimed (its delivery decides what comes next).
func (s *Spool) Retry(ctx context.Context, id string) error {
	s.mu.Lock()
	it, ok := s.items[id]
	var st DeliveryState
	if ok {
		st = it.entry.clone().State
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotPending, id)
	}
	st.NextAttempt = time.Time{}
	if err := s.submitStates(ctx, []newState{{id: id, st: st}}); err != nil {
		return fmt.Errorf("spool: retry %s: %w", id, err)
	}
	return nil
}

// RetryAll makes every deferred message due now, durably, and returns how
// many it changed. A message held by an adoption under way is not deferred
// but held (adopt.go): it stays so.
func (s *Spool) RetryAll(ctx context.Context) (int, error) {
	s.mu.Lock()
	var all []newState
	for _, it := range s.items {
		if !it.entry.State.NextAttempt.IsZero() && it.entry.State.Adopting == "" {
			st := it.entry.clone().State
			st.NextAttempt = time.Time{}
			all = append(all, newState{id: it.entry.ID, st: st})
		}
	}
	s.mu.Unlock()
	for chunk := range slices.Chunk(all, maxStatesPerRecord) {
		if err := s.submitStates(ctx, chunk); err != nil {
			return 0, fmt.Errorf("spool: retry all: %w", err)
		}
	}
	return len(all), nil
}

// submitStates writes one state record for ns, without releasing claims.
func (s *Spool) submitStates(ctx context.Context, ns []newState) error {
	us := make([]stateUpdate, len(ns))
	for i, n := range ns {
		b, err := json.Marshal(n.st)
		if err != nil {
			return fmt.Errorf("state of %s: %w", n.id, err)
		}
		us[i] = stateUpdate{id: n.id, state: b}
	}
	return s.submit(ctx, &commitReq{frame: encodeState(us), states: ns, errc: make(chan error, 1)})
}

// Delete removes messages for good, as Done does: the operator's removal.
// Ids not pending are reported (ErrNotPending) after the others are removed.
func (s *Spool) Delete(ctx context.Context, ids ...string) error {
	s.mu.Lock()
	var unknown []string
	for _, id := range ids {
		if _, ok := s.items[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	s.mu.Unlock()
	if err := s.Done(ctx, ids...); err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: %s", ErrNotPending, strings.Join(unknown, ", "))
	}
	return nil
}

// Entries returns a snapshot of the pending messages (envelopes and state,
// no bytes), oldest first.
func (s *Spool) Entries() []Entry {
	s.mu.Lock()
	its := make([]*item, 0, len(s.items))
	for _, it := range s.items {
		its = append(its, it)
	}
	out := make([]Entry, len(its))
	slices.SortFunc(its, func(a, b *item) int { return cmp.Compare(a.seq, b.seq) })
	for i, it := range its {
		out[i] = *it.entry.clone()
		out[i].Claimed = it.claimed
	}
	s.mu.Unlock()
	return out
}

// Entry returns the pending message id; its Open reads the bytes (which a
// concurrent Done may remove).
func (s *Spool) Entry(id string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return Entry{}, false
	}
	e := *it.entry.clone()
	e.Claimed = it.claimed
	return e, true
}

// newState is a state to apply to a pending message once its record is
// durable.
type newState struct {
	id string
	st DeliveryState
}

// moveApply is a move record to apply once durable: the message's inline
// bytes start inlineRel bytes into the frame.
type moveApply struct {
	newState
	inlineRel int64
	// compact: a move by Compact, not Defer. It carries the state it saw
	// at version; it is dropped if the message changed or was claimed
	// since.
	compact bool
	version uint64
}

// setState applies a durable state record in seg to it; s.mu held.
func (s *Spool) setState(it *item, st DeliveryState, seg *segment, release bool) {
	it.entry.State = st
	it.version++
	s.setStateSeg(it, seg)
	s.reschedule(it, release)
}

// reschedule puts it where its state says, releasing a claim if asked;
// s.mu held.
func (s *Spool) reschedule(it *item, release bool) {
	if release {
		it.claimed = false
	}
	s.unplace(it)
	s.place(it, s.opt.Clock.Now())
}

// setStateSeg records that it's latest state record is in seg (nil: in its
// message record); s.mu held.
func (s *Spool) setStateSeg(it *item, seg *segment) {
	if it.stateSeg != nil {
		it.stateSeg.states--
	}
	it.stateSeg = seg
	if seg != nil {
		seg.states++
	}
}

// moveItem applies a durable move record of it in seg: its bytes and state
// are now there, and the old record is superseded; s.mu held.
func (s *Spool) moveItem(it *item, seg *segment, inlineAt int64, st DeliveryState, release bool) {
	s.unpin(it, seg)
	it.seg = seg
	seg.live++
	seg.total++
	it.version++
	it.entry.seg = seg.path
	it.entry.inlineAt = inlineAt
	it.entry.State = st
	s.setStateSeg(it, nil)
	s.reschedule(it, release)
}
