// Package spool is sesame's durable queue of accepted messages. A message is
// acknowledged to a client (SMTP 250, API MessageId) only after Append has
// returned, and Append returns only after the message and its envelope are
// fsync'd. Concurrent appends share fsyncs (group commit). After a crash, Open
// recovers every appended message and nothing half-written.
//
// The spool never decides policy and never delivers: it keeps bytes and hands
// out due work (Claim) until told it is done (Done).
//
// CONTRACT STUB: the signatures below are the package's API; bodies to be
// implemented.
package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Envelope is what the spool keeps beside the message bytes.
type Envelope struct {
	ID         string            `json:"id"` // SES MessageId
	AccountID  string            `json:"account"`
	Region     string            `json:"region"`
	MailFrom   string            `json:"mail_from"`
	Recipients []string          `json:"rcpt"`
	Received   time.Time         `json:"received"`
	Via        string            `json:"via"`             // "smtp" or "api"
	Attrs      map[string]string `json:"attrs,omitempty"` // configuration set, tags, ...: later issues
}

// Options tune a spool; zero values mean defaults.
type Options struct {
	// MemoryLimit is how many bytes a Draft keeps in memory before it spills
	// to a file in the spool directory (default 256 KiB).
	MemoryLimit int
	Logger      *slog.Logger
}

// Spool is the durable queue.
type Spool struct {
	dir string
	opt Options

	mu     sync.Mutex
	closed bool
}

// ErrClosed is returned by a spool after Close.
var ErrClosed = errors.New("spool: closed")

const defaultMemoryLimit = 256 << 10

// Open opens (creating if needed) the spool in dir and recovers what a
// previous process appended and did not mark done.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MemoryLimit <= 0 {
		opt.MemoryLimit = defaultMemoryLimit
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", dir, err)
	}
	return &Spool{dir: dir, opt: opt}, nil
}

func (s *Spool) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops the spool; appends in flight either complete or fail.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Len is the number of messages appended and not yet done.
func (s *Spool) Len() int { panic("spool: not implemented") }

// Append makes env and the message (prefix followed by the draft's bytes)
// durable and returns only once they are fsync'd. It takes over the draft.
func (s *Spool) Append(ctx context.Context, env *Envelope, prefix []byte, d *Draft) error {
	panic("spool: not implemented")
}

// Entry is a spooled message handed out for delivery.
type Entry struct {
	Envelope
	Size int64 // bytes of the whole message (prefix + draft)
}

// Open reads the whole message.
func (e *Entry) Open() (io.ReadCloser, error) { panic("spool: not implemented") }

// Claim blocks until at least one message is pending and not claimed, or ctx
// ends, and returns up to max of them, oldest first, marked claimed.
func (s *Spool) Claim(ctx context.Context, max int) ([]*Entry, error) {
	panic("spool: not implemented")
}

// Release returns claimed messages to pending (delivery failed temporarily).
func (s *Spool) Release(ids ...string) { panic("spool: not implemented") }

// Done removes messages durably: once it returns they are never handed out
// again, even after a crash. Concurrent calls share fsyncs.
func (s *Spool) Done(ctx context.Context, ids ...string) error { panic("spool: not implemented") }
