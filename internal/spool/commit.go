package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
)

// A batch stops growing at these bounds; whatever is left waits for the next
// sync, which starts as soon as this one ends.
const (
	maxBatchRecords = 4096
	maxBatchBytes   = 8 << 20
)

// commitReq is one record waiting for the committer.
type commitReq struct {
	frame []byte
	// dirSync: the record references a body file whose directory entry
	// must be durable before the record is.
	dirSync bool
	msg     *item      // a message record, indexed once durable
	done    []string   // a done record, applied once durable
	states  []newState // a state record, applied once durable
	move    *moveApply // a move record, applied once durable
	release bool       // states or move: release the claim (Defer)
	errc    chan error
}

// Append makes env and the message (prefix followed by the draft's bytes)
// durable and returns only once they are fsync'd. It takes over the draft.
// Once the record is handed to the committer, Append waits for the sync even
// if ctx ends, so that a failed Append never leaves a message behind.
func (s *Spool) Append(ctx context.Context, env *Envelope, prefix []byte, d *Draft) error {
	return s.appendMessage(ctx, env, prefix, d, nil)
}

// appendMessage is Append, with a delivery state when st is not nil: the
// message and its state then go in one move record (recovery adds the
// message of a move record whose id it does not hold), so that no restart
// sees the message without its state.
func (s *Spool) appendMessage(ctx context.Context, env *Envelope, prefix []byte, d *Draft, st *DeliveryState) error {
	if d == nil {
		return errors.New("spool: append: no draft")
	}
	if env == nil || env.ID == "" {
		d.Discard()
		return errors.New("spool: append: envelope without id")
	}
	if err := ctx.Err(); err != nil {
		d.Discard()
		return fmt.Errorf("spool: append %s: %w", env.ID, err)
	}
	if d.dir != s.dir {
		d.Discard()
		return fmt.Errorf("spool: append %s: draft from another spool", env.ID)
	}
	s.mu.Lock()
	_, dup := s.items[env.ID]
	s.mu.Unlock()
	if dup {
		d.Discard()
		return fmt.Errorf("spool: append %s: id already pending", env.ID)
	}
	envJSON, err := json.Marshal(env)
	if err != nil {
		d.Discard()
		return fmt.Errorf("spool: append %s: envelope: %w", env.ID, err)
	}
	var stJSON []byte
	if st != nil {
		if stJSON, err = json.Marshal(st); err != nil {
			d.Discard()
			return fmt.Errorf("spool: append %s: state: %w", env.ID, err)
		}
	}
	mem, body, size, err := d.take()
	if err != nil {
		return fmt.Errorf("spool: append %s: %w", env.ID, err)
	}
	it := &item{entry: Entry{Envelope: env.clone(), Size: int64(len(prefix)) + size}}
	if st != nil {
		it.entry.State = *st
		it.entry.State.Done = slices.Clone(st.Done)
	}
	encode := func(body string, size int64, inline ...[]byte) []byte {
		if st == nil {
			return encodeMessage(envJSON, body, size, inline...)
		}
		return encodeMove(envJSON, stJSON, body, size, slices.Concat(inline...))
	}
	var frame []byte
	if body == "" {
		frame = encode("", 0, prefix, mem)
		it.entry.inline = int64(len(prefix) + len(mem))
	} else {
		frame = encode(body, size, prefix)
		it.entry.inline = int64(len(prefix))
		it.entry.body = filepath.Join(s.dir, body)
		it.entry.bodySize = size
	}
	// The inline bytes end the frame: their offset is known before writing.
	it.entry.inlineAt = int64(len(frame)) - it.entry.inline
	req := &commitReq{frame: frame, dirSync: body != "", msg: it, errc: make(chan error, 1)}
	if err := s.submit(ctx, req); err != nil {
		if body != "" {
			os.Remove(it.entry.body)
		}
		return fmt.Errorf("spool: append %s: %w", env.ID, err)
	}
	return nil
}

// Done removes messages durably: once it returns they are never handed out
// again, even after a crash. Concurrent calls share fsyncs. Ids not pending
// are ignored.
func (s *Spool) Done(ctx context.Context, ids ...string) error {
	s.mu.Lock()
	known := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := s.items[id]; ok {
			known = append(known, id)
		}
	}
	s.mu.Unlock()
	if len(known) == 0 {
		return nil
	}
	req := &commitReq{frame: encodeDone(known), done: known, errc: make(chan error, 1)}
	if err := s.submit(ctx, req); err != nil {
		return fmt.Errorf("spool: done %d ids: %w", len(known), err)
	}
	return nil
}

func (s *Spool) submit(ctx context.Context, req *commitReq) error {
	select {
	case s.reqs <- req:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.errc
}

// commitLoop is the committer: it takes the first waiting record, then every
// record that queued meanwhile, and makes them durable with one sync. It
// never waits on a timer, so an idle spool commits a lone append at once and
// a busy one batches exactly what arrived during the previous sync.
func (s *Spool) commitLoop() {
	defer close(s.stopped)
	var batch []*commitReq
	released := 0
	for {
		batch = batch[:0]
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-s.quit:
			return
		}
		size := s.drain(&batch, len(batch[0].frame))
		if len(batch) < released {
			// The appenders released by the last sync are runnable but may
			// not have queued yet: let them run once rather than leave
			// them a whole sync behind. This is a yield, not a timer.
			runtime.Gosched()
			size = s.drain(&batch, size)
		}
		released = len(batch)
		err := s.commit(batch, size)
		for _, r := range batch {
			r.errc <- err
		}
		if err == nil {
			s.afterCommit()
		}
	}
}

// drain adds to batch the records already waiting, up to the batch bounds.
func (s *Spool) drain(batch *[]*commitReq, size int) int {
	for len(*batch) < maxBatchRecords && size < maxBatchBytes {
		select {
		case r := <-s.reqs:
			*batch = append(*batch, r)
			size += len(r.frame)
		default:
			return size
		}
	}
	return size
}

// commit writes and syncs one batch, then indexes it.
func (s *Spool) commit(batch []*commitReq, size int) error {
	if s.failed != nil {
		return s.failed
	}
	dirSync := false
	for _, r := range batch {
		dirSync = dirSync || r.dirSync
	}
	rotated := false
	if s.fileSize > int64(len(segMagic)) && s.fileSize+int64(size) > s.opt.SegmentSize {
		if err := s.startSegment(); err != nil {
			return err
		}
		dirSync, rotated = true, true
	}
	if dirSync {
		// Body files and a new segment's name must be durable before any
		// record that refers to them.
		if err := s.syncDir(); err != nil {
			return err
		}
	}
	skip := s.staleMoves(batch)
	buf := s.batchBuf[:0]
	offsets := make([]int64, len(batch))
	for i, r := range batch {
		if skip != nil && skip[i] {
			continue
		}
		offsets[i] = s.fileSize + int64(len(buf))
		buf = append(buf, r.frame...)
	}
	if cap(buf) <= 2*maxBatchBytes {
		s.batchBuf = buf
	}
	if _, err := s.file.WriteAt(buf, s.fileSize); err != nil {
		return s.writeFailed(fmt.Errorf("spool: write %s: %w", s.active.path, err))
	}
	s.stats.syncs.Add(1)
	if err := datasync(s.file); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// nothing written since can be trusted. Recovery sorts it out.
		return s.fail(fmt.Errorf("spool: sync %s: %w", s.active.path, err))
	}
	s.fileSize += int64(len(buf))
	s.stats.batches.Add(1)

	s.mu.Lock()
	woke := false
	var dones, msgs int64
	unpinned := false // a move or a state record may free an older segment
	for i, r := range batch {
		if skip != nil && skip[i] {
			continue
		}
		switch {
		case r.msg != nil:
			if _, dup := s.items[r.msg.entry.ID]; dup {
				// Two racing Appends of one id: the first stays; recovery
				// agrees, as it keeps the first record of an id too.
				s.log.Warn("duplicate message id appended", "id", r.msg.entry.ID)
				continue
			}
			r.msg.seg = s.active
			r.msg.entry.seg = s.active.path
			r.msg.entry.inlineAt += offsets[i]
			s.addItem(r.msg)
			msgs++
			woke = true
		case r.move != nil:
			if it, ok := s.items[r.move.id]; ok {
				s.moveItem(it, s.active, offsets[i]+r.move.inlineRel, r.move.st, r.release)
				woke, unpinned = true, true
				s.stats.moves.Add(1)
			}
		case r.states != nil:
			for _, n := range r.states {
				if it, ok := s.items[n.id]; ok {
					unpinned = unpinned || (it.stateSeg != nil && it.stateSeg != s.active)
					s.setState(it, n.st, s.active, r.release)
					woke = true
				}
			}
		case r.done != nil:
			dones++
			for _, id := range r.done {
				if it, ok := s.items[id]; ok {
					s.retire(it, s.active)
					if it.entry.body != "" {
						s.doneBodies = append(s.doneBodies, it.entry.body)
					}
				}
			}
		}
	}
	if woke {
		s.wakeClaimers()
	}
	s.mu.Unlock()
	s.stats.appends.Add(msgs)
	s.stats.dones.Add(dones)
	s.mustCollect = s.mustCollect || rotated || dones > 0 || unpinned
	return nil
}

// staleMoves marks the move records of a batch that must not be written: a
// move whose message is no longer pending (done before, or earlier in this
// batch) would bring it back after a restart; a compaction move whose
// message changed or was claimed since Compact looked would write a stale
// state over a newer one. Nil when there is none.
func (s *Spool) staleMoves(batch []*commitReq) []bool {
	if !slices.ContainsFunc(batch, func(r *commitReq) bool { return r.move != nil }) {
		return nil
	}
	var skip []bool
	done := map[string]bool{}    // done earlier in the batch
	touched := map[string]bool{} // state or place changed earlier in the batch
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range batch {
		switch {
		case r.done != nil:
			for _, id := range r.done {
				done[id] = true
			}
		case r.states != nil:
			for _, n := range r.states {
				touched[n.id] = true
			}
		case r.move != nil:
			m := r.move
			it, ok := s.items[m.id]
			stale := !ok || done[m.id] ||
				(m.compact && (it.claimed || it.version != m.version || touched[m.id]))
			touched[m.id] = true
			if !stale {
				continue
			}
			if skip == nil {
				skip = make([]bool, len(batch))
			}
			skip[i] = true
		}
	}
	return skip
}

// afterCommit does the cleanup a commit allows, once its waiters are
// released: body files of done messages (a restart would remove them too),
// then segments nothing depends on.
func (s *Spool) afterCommit() {
	for _, name := range s.doneBodies {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("removing body file of a done message", "file", name, "err", err)
		}
	}
	s.doneBodies = s.doneBodies[:0]
	if s.mustCollect {
		s.mustCollect = false
		s.collect()
	}
}

// writeFailed handles a failed write of a batch. A full disk is a passing
// condition, not damage: nothing of the batch was synced and the segment is
// cut back to its last synced byte (shrinking a file needs no space), so the
// batch's callers get a temporary failure and the next batch, once space is
// back, goes where this one would have. A torn batch left in place could be
// read back by a recovery after a crash and bring to life messages whose
// senders were told they failed. Any other write error stops the spool.
func (s *Spool) writeFailed(err error) error {
	if !isNoSpace(err) {
		return s.fail(err)
	}
	if terr := s.file.Truncate(s.fileSize); terr != nil {
		return s.fail(fmt.Errorf("%w; cutting back the torn batch: %w", err, terr))
	}
	s.log.Warn("spool: no space left; refusing until there is", "err", err)
	return err
}

func (s *Spool) fail(err error) error {
	s.failed = err
	s.log.Error("spool stops accepting messages", "err", err)
	return err
}
