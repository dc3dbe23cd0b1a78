// Package spool is sesame's durable queue of accepted messages. A message is
// acknowledged to a client (SMTP 250, API MessageId) only after Append has
// returned, and Append returns only after the message and its envelope are
// fsync'd. Concurrent appends share fsyncs (group commit). After a crash, Open
// recovers every appended message and nothing half-written.
//
// The spool never decides policy and never delivers: it keeps bytes and hands
// out due work (Claim) until told it is done (Done). Between attempts it
// keeps what delivery tells it (Defer: attempts, recipients finished, when
// to try next) durably, and hands a deferred message out again only once it
// is due by Options.Clock. An operator can make it due now (Retry) or remove
// it (Delete).
//
// On disk: append-only segment files (seg-*.log) of CRC-checked records, one
// per appended message (envelope and bytes), per batch of done ids, per batch
// of delivery states (Defer, Retry) or per message copied forward; a
// message bigger than Options.MemoryLimit keeps its bytes in its own body
// file (body2-*), fsync'd before the record that references it is written.
// One committer goroutine writes whatever records have queued and fdatasyncs
// once for all of them. A segment is deleted once nothing in it is pending
// and no done record in it still cancels a message of an older segment
// (nor holds the latest state of a pending message).
// A message deferred for long would pin its segment: Defer and Compact copy
// such messages forward (compact.go) so that old segments can go.
// Memory holds envelopes and offsets, never message bodies; the schedule is
// two heaps (due, by append order; deferred, by due time), so neither Append
// nor Claim costs more with a long queue.
package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/clock"
)

// Envelope is what the spool keeps beside the message bytes.
type Envelope struct {
	ID         string    `json:"id"` // SES MessageId
	AccountID  string    `json:"account"`
	Region     string    `json:"region"`
	MailFrom   string    `json:"mail_from"`
	Recipients []string  `json:"rcpt"`
	Received   time.Time `json:"received"`
	Via        string    `json:"via"` // ViaSMTP, ViaAPI or ViaSystem
	Meta
}

// How a message came in (Envelope.Via).
const (
	ViaSMTP   = "smtp"
	ViaAPI    = "api"
	ViaSystem = "system" // mail sesame itself sends: DSNs, verification, forwarded reports
	ViaMX     = "mx"     // mail received by the inbound MX for the accounts' domains (its own spool)
)

// Meta is what later stages report on and act by: what the sending call
// or the message's SES control headers said, and where it came from. It
// travels with the message in the spool, typed, so the courier and events
// read fields rather than parse strings.
type Meta struct {
	// ConfigurationSet is the set the message is sent with ("" = none).
	ConfigurationSet string `json:"configuration_set,omitempty"`
	// Tags are the message tags (API EmailTags / X-SES-MESSAGE-TAGS).
	Tags []Tag `json:"tags,omitempty"`
	// Template is the stored template's name when the message was
	// rendered from one.
	Template string `json:"template,omitempty"`
	// FeedbackTo is where bounce notifications (DSNs) go when it is not
	// the envelope sender: a message's Return-Path header, unless the API
	// call gave ReturnPath / FeedbackForwardingEmailAddress.
	FeedbackTo string `json:"feedback_to,omitempty"`
	// Operation is SES's ses:operation tag: SendEmail, SendRawEmail,
	// SendTemplatedEmail, SendBulkTemplatedEmail, SendBulkEmail,
	// SendSmtpEmail.
	Operation string `json:"operation,omitempty"`
	// SourceIP is the client's address (ses:source-ip).
	SourceIP string `json:"source_ip,omitempty"`
	// CallerIdentity is who signed the call or authenticated the SMTP
	// session: the access key id (ses:caller-identity).
	CallerIdentity string `json:"caller_identity,omitempty"`
	// RenderingFailure, when set, is why the message's template did not
	// render: SES accepted the call, the message is never delivered and
	// a Rendering Failure event is all that comes of it.
	RenderingFailure string `json:"rendering_failure,omitempty"`
	// Rejected, when set, is why the message was rejected after it was
	// accepted (SES's virus check; "Bad content"): it is never delivered
	// and a Reject event is all that comes of it.
	Rejected string `json:"rejected,omitempty"`
	// IdentityAccountID, when set, is the account whose identity covers
	// the envelope sender (sending authorization: a delegate sends as
	// another account's identity): that identity's MAIL FROM domain and
	// notifications apply, events name it (sourceArn). SigningAccountID,
	// when set, is the account whose identity covers the From address:
	// its key signs (DKIM). The message stays the sending account's
	// (quota, configuration set, events' sendingAccountId).
	IdentityAccountID string `json:"identity_account_id,omitempty"`
	SigningAccountID  string `json:"signing_account_id,omitempty"`
	// ListManagement is the contact list (and topic) the message is sent
	// for: API ListManagementOptions or X-SES-LIST-MANAGEMENT-OPTIONS.
	ListManagement *ListManagement `json:"list_management,omitempty"`
	// Unsubscribed are the recipients sending found unsubscribed from
	// that list or topic: accepted, never delivered to, each a Bounce.
	Unsubscribed []string `json:"unsubscribed,omitempty"`
	// Inbound is what the inbound MX knew of a received message's
	// session (ViaMX only).
	Inbound *Inbound `json:"inbound,omitempty"`
}

// Inbound describes a received message's SMTP session and who it is for.
type Inbound struct {
	Helo string `json:"helo,omitempty"` // the client's EHLO/HELO name
	TLS  bool   `json:"tls,omitempty"`  // STARTTLS was in force
	// Accounts[i] is the account whose receipt rules take Recipients[i]
	// (a recipient two accounts verified appears once for each).
	Accounts []string `json:"accounts"`
}

// IdentityAccount is the account whose identities cover the message's
// envelope sender: the owner's under sending authorization, else the
// sender's.
func (env *Envelope) IdentityAccount() string {
	if env.IdentityAccountID != "" {
		return env.IdentityAccountID
	}
	return env.AccountID
}

// SigningAccount is the account whose identities cover the From address,
// whose DKIM key signs: the owner's under sending authorization, else the
// sender's.
func (env *Envelope) SigningAccount() string {
	if env.SigningAccountID != "" {
		return env.SigningAccountID
	}
	return env.AccountID
}

// ListManagement names a contact list and, optionally, one of its topics.
type ListManagement struct {
	ContactList string `json:"contact_list"`
	Topic       string `json:"topic,omitempty"`
}

// Tag is one message tag.
type Tag struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// UnmarshalJSON reads an envelope, including one written before Meta had
// typed fields (an "attrs" string map with the tags as JSON inside).
func (env *Envelope) UnmarshalJSON(b []byte) error {
	type plain Envelope
	var v struct {
		plain
		Attrs map[string]string `json:"attrs"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*env = Envelope(v.plain)
	if a := v.Attrs; len(a) > 0 {
		env.ConfigurationSet = a["configuration_set"]
		env.Template = a["template"]
		env.FeedbackTo = a["feedback_to"]
		if t := a["tags"]; t != "" {
			_ = json.Unmarshal([]byte(t), &env.Tags) // a bad value costs the tags, not the message
		}
	}
	return nil
}

// Options tune a spool; zero values mean defaults.
type Options struct {
	// MemoryLimit is how many bytes a Draft keeps in memory before it spills
	// to a file in the spool directory (default 256 KiB).
	MemoryLimit int
	Logger      *slog.Logger
	// SegmentSize is the size past which the committer starts a new segment
	// file (default 64 MiB). Smaller segments are reclaimed sooner.
	SegmentSize int64
	// Clock decides when a deferred message is due (default the wall
	// clock).
	Clock clock.Clock
	// CompactAfter is how long a message must have been pending (since its
	// Envelope.Received) before Defer copies it out of an old segment
	// (default 10 minutes).
	CompactAfter time.Duration
}

const (
	defaultMemoryLimit  = 256 << 10
	defaultSegmentSize  = 64 << 20
	defaultCompactAfter = 10 * time.Minute
)

// ErrClosed is returned by a spool after Close.
var ErrClosed = errors.New("spool: closed")

// Spool is the durable queue.
type Spool struct {
	dir  string
	opt  Options
	log  *slog.Logger
	lock *os.File // held for the spool's life: one process per directory

	reqs    chan *commitReq
	quit    chan struct{}
	stopped chan struct{}
	bg      sync.WaitGroup // compactLoop

	// Owned by the committer goroutine (and by Open before it starts).
	active   *segment
	file     *os.File // the active segment, written at its size
	fileSize int64
	nextSeg  uint64
	failed   error // a failed write or sync: the spool accepts nothing more
	batchBuf []byte
	// Cleanup owed after the current batch's waiters are released.
	doneBodies  []string
	mustCollect bool

	mu      sync.Mutex
	closed  bool
	items   map[string]*item // appended and not done
	ready   itemHeap         // pending, due and not claimed, oldest first
	waiting itemHeap         // pending, deferred and not claimed, soonest due first
	wake    chan struct{}    // closed when ready or waiting gains items
	head    *segment         // the active segment, for compaction's tests
	segs    map[uint64]*segment
	nextSeq uint64
	// sparseness: see sparse (compact.go); tests lower it.
	sparseness int

	stats struct {
		appends, dones, moves, batches, syncs, dirSyncs, segsRemoved atomic.Int64
	}
}

// segment is one seg-*.log file and what still depends on it.
type segment struct {
	id   uint64
	path string
	// live counts messages appended (or moved) in this segment and not
	// done; total counts them all, for compaction's sparseness test.
	live, total int
	// pins counts ids done in this segment whose message sits in an older
	// segment that still exists: deleting this one first would bring them
	// back after a restart.
	pins int
	// doneIn counts, per later segment, the messages of this one done there.
	doneIn map[*segment]int
	// states counts pending messages whose latest state record is here:
	// deleting the segment would lose their schedule.
	states int
	// v1: a SESPOOL1 segment (only kinds 1 and 2; unknown kinds are torn).
	v1 bool
}

// item is the in-memory index entry of a pending message.
type item struct {
	entry Entry
	seq   uint64
	seg   *segment
	// stateSeg holds the latest state record of the message, nil when its
	// state came with its message or move record.
	stateSeg *segment
	claimed  bool
	deferred bool   // in waiting rather than ready
	version  uint64 // counts changes of state and place, for Compact
	index    int    // in ready or waiting, -1 when in neither
}

func segmentName(id uint64) string { return fmt.Sprintf("seg-%016x.log", id) }

// Open opens (creating if needed) the spool in dir and recovers what a
// previous process appended and did not mark done.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MemoryLimit <= 0 {
		opt.MemoryLimit = defaultMemoryLimit
	}
	if opt.SegmentSize <= 0 {
		opt.SegmentSize = defaultSegmentSize
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.CompactAfter <= 0 {
		opt.CompactAfter = defaultCompactAfter
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{
		dir:     dir,
		opt:     opt,
		log:     opt.Logger.With("component", "spool", "dir", dir),
		lock:    lock,
		reqs:    make(chan *commitReq),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		items:   make(map[string]*item),
		ready:   itemHeap{less: bySeq},
		waiting: itemHeap{less: byDue},
		wake:    make(chan struct{}),
		segs:    make(map[uint64]*segment),
		nextSeq: 1,
		nextSeg: 1,

		sparseness: defaultSparseness,
	}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	if err := s.startSegment(); err != nil {
		s.closeFiles()
		return nil, err
	}
	if err := s.syncDir(); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.collect()
	go s.commitLoop()
	s.bg.Add(1)
	go s.compactLoop()
	return s, nil
}

func (s *Spool) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops the spool; appends in flight either complete or fail.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	s.mu.Unlock()
	<-s.stopped
	s.bg.Wait()
	return s.closeFiles()
}

func (s *Spool) closeFiles() error {
	var errs []error
	if s.file != nil {
		if err := s.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("spool: close %s: %w", s.file.Name(), err))
		}
		s.file = nil
	}
	if s.lock != nil {
		if err := s.lock.Close(); err != nil {
			errs = append(errs, fmt.Errorf("spool: unlock %s: %w", s.dir, err))
		}
		s.lock = nil
	}
	return errors.Join(errs...)
}

// Len is the number of messages appended and not yet done.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Stats are counters since Open, for tests, benchmarks and metrics.
type Stats struct {
	Pending  int   // appended and not done (Len)
	Claimed  int   // of those, handed out by Claim and not released
	Deferred int   // of those, not claimed and not due yet
	Segments int   // segment files on disk
	Appends  int64 // messages made durable
	Dones    int64 // done records made durable
	Moves    int64 // messages copied forward by compaction
	Batches  int64 // group commits
	Syncs    int64 // fdatasyncs of segment files
	DirSyncs int64 // fsyncs of the spool directory
	Removed  int64 // segments deleted
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	s.promote(s.opt.Clock.Now())
	st := Stats{Pending: len(s.items), Claimed: len(s.items) - s.ready.Len() - s.waiting.Len(),
		Deferred: s.waiting.Len(), Segments: len(s.segs)}
	s.mu.Unlock()
	st.Appends = s.stats.appends.Load()
	st.Dones = s.stats.dones.Load()
	st.Moves = s.stats.moves.Load()
	st.Batches = s.stats.batches.Load()
	st.Syncs = s.stats.syncs.Load()
	st.DirSyncs = s.stats.dirSyncs.Load()
	st.Removed = s.stats.segsRemoved.Load()
	return st
}

// startSegment makes a new, empty active segment. The caller syncs the
// directory before a record in it is acknowledged.
func (s *Spool) startSegment() error {
	id := s.nextSeg
	path := filepath.Join(s.dir, segmentName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spool: new segment: %w", err)
	}
	if _, err := f.Write([]byte(segMagic)); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spool: new segment %s: %w", path, err)
	}
	if s.file != nil {
		if err := s.file.Close(); err != nil {
			s.log.Warn("closing full segment", "err", err)
		}
	}
	seg := &segment{id: id, path: path}
	s.mu.Lock()
	s.segs[id] = seg
	s.head = seg
	s.mu.Unlock()
	s.nextSeg = id + 1
	s.active, s.file, s.fileSize = seg, f, int64(len(segMagic))
	return nil
}

func (s *Spool) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("spool: sync dir %s: %w", s.dir, err)
	}
	defer d.Close()
	s.stats.dirSyncs.Add(1)
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: sync dir %s: %w", s.dir, err)
	}
	return nil
}

// addItem indexes a durable message; s.mu held.
func (s *Spool) addItem(it *item) {
	it.seq = s.nextSeq
	s.nextSeq++
	it.index = -1
	it.entry.sp = s
	s.items[it.entry.ID] = it
	it.seg.live++
	it.seg.total++
	s.place(it, s.opt.Clock.Now())
}

// retire removes a message done by a record in seg; s.mu held.
func (s *Spool) retire(it *item, seg *segment) {
	delete(s.items, it.entry.ID)
	s.unplace(it)
	s.setStateSeg(it, nil)
	s.unpin(it, seg)
}

// unpin ends it's tie to its message segment, now that a record in seg
// (a done or a move) supersedes it there; s.mu held.
func (s *Spool) unpin(it *item, seg *segment) {
	m := it.seg
	m.live--
	if seg != m {
		seg.pins++
		if m.doneIn == nil {
			m.doneIn = make(map[*segment]int)
		}
		m.doneIn[seg]++
	}
}

// collect deletes the segments nothing depends on any more. A deletion is
// made durable (directory fsync) before the segments it unpins are
// considered, so that no restart sees a done record gone while the message
// it cancelled is still there.
func (s *Spool) collect() {
	for {
		var dead []*segment
		s.mu.Lock()
		for _, seg := range s.segs {
			if seg != s.active && seg.live == 0 && seg.pins == 0 && seg.states == 0 {
				dead = append(dead, seg)
			}
		}
		s.mu.Unlock()
		if len(dead) == 0 {
			return
		}
		var gone []*segment
		for _, seg := range dead {
			if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.log.Warn("removing finished segment", "segment", seg.path, "err", err)
				continue
			}
			gone = append(gone, seg)
		}
		if len(gone) == 0 {
			return
		}
		if err := s.syncDir(); err != nil {
			s.log.Warn("syncing after segment removal", "err", err)
			return
		}
		s.mu.Lock()
		for _, seg := range gone {
			for later, n := range seg.doneIn {
				later.pins -= n
			}
			delete(s.segs, seg.id)
		}
		s.mu.Unlock()
		s.stats.segsRemoved.Add(int64(len(gone)))
	}
}
