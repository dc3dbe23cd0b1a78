// Package queuectl is the running server's control socket, and the
// operator's view of the spool through it (`sesame admin queue`, like
// postqueue/postsuper): list, show, retry and delete queued messages, and
// adopt a dead node's spool (`sesame admin spool adopt`). The
// spool directory is locked by the process that has it open, so when
// `sesame serve` runs, admin talks to it over a unix socket (<data
// dir>/control.sock, mode 0600: whoever may read the data directory may
// manage the server) carrying HTTP/JSON; when none runs, admin opens the
// spool itself. Both ways implement Queue.
//
// The socket also reaches what exists only in the server's memory: the SMTP
// AUTH lockout (`sesame admin auth unlock|list`, AuthControl); for that
// there is no fallback when no server runs.
//
// It formats and transports; scheduling is the spool's business, and
// who is locked out smtpd's.
package queuectl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"sesame/internal/clock"
	"sesame/internal/mailmsg"
	"sesame/internal/spool"
)

// Message is one queued message as `queue list` shows it.
type Message struct {
	ID           string     `json:"id"`
	Account      string     `json:"account"`
	Region       string     `json:"region"`
	MailFrom     string     `json:"mail_from"`
	Recipients   []string   `json:"recipients"`
	Done         []string   `json:"done,omitempty"` // recipients finished already
	Received     time.Time  `json:"received"`
	Attempts     int        `json:"attempts"`
	FirstAttempt *time.Time `json:"first_attempt,omitempty"`
	NextAttempt  *time.Time `json:"next_attempt"` // null: due now
	LastError    string     `json:"last_error"`
	Size         int64      `json:"size"`
	Active       bool       `json:"active"` // being delivered right now (postqueue's "*")
}

// Detail is one message as `queue show` shows it.
type Detail struct {
	Message
	Via string `json:"via"`
	// Meta is what the send said beside the message (configuration set,
	// tags, operation, source IP, …), its fields inline.
	spool.Meta
	// Headers are the message's header fields in order, unfolded
	// (RFC 5322 §2.2.3), "Name: value".
	Headers []string `json:"headers"`
}

// Queue is what the admin commands need.
type Queue interface {
	List(ctx context.Context) ([]Message, error)
	Show(ctx context.Context, id string) (Detail, error)
	Retry(ctx context.Context, id string) error
	RetryAll(ctx context.Context) (int, error)
	Delete(ctx context.Context, ids ...string) error
	// Adopt moves the pending messages of another node's spool directory
	// (an absolute path, as the server sees it) into this queue
	// (spool.Adopt).
	Adopt(ctx context.Context, dir string) (Adopted, error)
	Close() error
}

// Adopted is what `spool adopt` did: messages copied into this node's
// spool, messages it held already (an earlier, interrupted run), and
// the directory they came from.
type Adopted struct {
	Adopted int    `json:"adopted"`
	Skipped int    `json:"skipped"`
	Source  string `json:"source"`
}

// SocketName is the control socket's name in the data directory.
const SocketName = "control.sock"

// Open returns the queue of the server running on dataDir through its
// control socket or, when no server answers there, of the spool directory
// (dataDir/spool) opened directly.
func Open(ctx context.Context, dataDir string, log *slog.Logger) (Queue, error) {
	sock := filepath.Join(dataDir, SocketName)
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err == nil {
		c.Close()
		return Dial(sock), nil
	}
	sp, openErr := spool.Open(filepath.Join(dataDir, "spool"), spool.Options{Logger: log})
	if openErr != nil {
		return nil, fmt.Errorf("queue: no server answers on %s (%v) and the spool does not open: %w", sock, err, openErr)
	}
	return &local{sp: sp, clock: clock.Real{}, owned: true}, nil
}

// Local is the queue of an open spool; Close leaves the spool open.
func Local(sp *spool.Spool) Queue { return &local{sp: sp, clock: clock.Real{}} }

type local struct {
	sp    *spool.Spool
	clock clock.Clock
	owned bool // opened by Open: Close closes it
}

func (l *local) List(ctx context.Context) ([]Message, error) {
	es := l.sp.Entries()
	out := make([]Message, len(es))
	for i := range es {
		out[i] = message(&es[i])
	}
	return out, nil
}

func (l *local) Show(ctx context.Context, id string) (Detail, error) {
	e, ok := l.sp.Entry(id)
	if !ok {
		return Detail{}, fmt.Errorf("%w: %s", spool.ErrNotPending, id)
	}
	d := Detail{Message: message(&e), Via: e.Via, Meta: e.Meta}
	r, err := e.Open()
	if err != nil {
		return Detail{}, err
	}
	defer r.Close()
	if d.Headers, err = readHeaders(r); err != nil {
		return Detail{}, fmt.Errorf("queue: show %s: %w", id, err)
	}
	return d, nil
}

func (l *local) Retry(ctx context.Context, id string) error { return l.sp.Retry(ctx, id) }

func (l *local) RetryAll(ctx context.Context) (int, error) { return l.sp.RetryAll(ctx) }

func (l *local) Delete(ctx context.Context, ids ...string) error { return l.sp.Delete(ctx, ids...) }

func (l *local) Adopt(ctx context.Context, dir string) (Adopted, error) {
	res, err := l.sp.Adopt(ctx, dir)
	return Adopted{Adopted: res.Adopted, Skipped: res.Skipped, Source: dir}, err
}

func (l *local) Close() error {
	if l.owned {
		return l.sp.Close()
	}
	return nil
}

func message(e *spool.Entry) Message {
	m := Message{
		ID: e.ID, Account: e.AccountID, Region: e.Region, MailFrom: e.MailFrom,
		Recipients: e.Recipients, Done: e.State.Done, Received: e.Received,
		Attempts: e.State.Attempts, LastError: e.State.LastError, Size: e.Size, Active: e.Claimed,
	}
	if m.Recipients == nil {
		m.Recipients = []string{}
	}
	if t := e.State.NextAttempt; !t.IsZero() {
		m.NextAttempt = &t
	}
	if t := e.State.FirstAttempt; !t.IsZero() {
		m.FirstAttempt = &t
	}
	return m
}

// maxHeaderBytes bounds what Show reads of a message's header section.
const maxHeaderBytes = 256 << 10

// readHeaders returns the header fields of a message, unfolded, from the
// first maxHeaderBytes of it. Names are shown as the sender wrote them, not
// canonicalized: the operator compares them with what the sender sent.
func readHeaders(r io.Reader) ([]string, error) {
	sec, err := mailmsg.ReadHeaderSection(r, maxHeaderBytes)
	if err != nil {
		return nil, err
	}
	h := mailmsg.Fields(sec)
	fields := []string{}
	for fs := h.Fields(); fs.Next(); {
		raw, err := fs.Raw()
		if err != nil {
			continue
		}
		name, _, _ := bytes.Cut(raw, []byte(":"))
		f := string(bytes.TrimRight(name, " \t")) + ":"
		if v := fs.Value(); v != "" {
			f += " " + v
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// removeStale removes a socket file left by a server that died: only the
// process holding the spool lock calls Start, so no live server owns it.
func removeStale(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
}
