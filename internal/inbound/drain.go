package inbound

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"sesame/internal/seserr"
)

// A drain (Shutdown) ends sessions as the submission endpoint's does
// (internal/smtpd): a session waiting for a command is told 421 at once
// and closed; one in DATA finishes it, gets its reply (the 250 means the
// message is kept), and then the 421. go-smtp's own Shutdown only closes
// the listeners and waits, so one sending server idling on its connection
// would hold the whole drain until shutdown_timeout. go-smtp lets a
// backend neither see its connections nor write to them, so the listener
// hands it tracked connections (trackedConn) and the session marks its
// DATA on its connection.

// DrainReport says how a Shutdown went.
type DrainReport struct {
	Sessions int // open when the drain began
	Idle     int // of those, waiting for a command: told 421 at once
	Messages int // transactions in DATA when it began that finished (their reply sent)
	Cut      int // still open when ctx ended: closed mid-transaction, unacknowledged
}

// conns is the server's set of open connections.
type conns struct {
	mu       sync.Mutex
	open     map[*trackedConn]struct{}
	lns      []net.Listener
	draining bool
	finished int // transactions finished during the drain
}

// listen tracks the connections ln accepts.
func (cs *conns) listen(ln net.Listener) net.Listener {
	cs.mu.Lock()
	cs.lns = append(cs.lns, ln)
	cs.mu.Unlock()
	return trackingListener{ln, cs}
}

// stopped says whether err is Serve's end by Shutdown.
func (cs *conns) stopped(err error) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.draining && errors.Is(err, net.ErrClosed)
}

// trackedConn is one accepted connection.
type trackedConn struct {
	net.Conn
	set *conns

	mu     sync.Mutex
	top    net.Conn // where a reply goes: this connection, or the TLS one over it after STARTTLS
	inData bool     // the session is in DATA (or BDAT): its reply is yet to come
	closed bool     // said goodbye
}

// trackingListener tracks every connection it accepts.
type trackingListener struct {
	net.Listener
	set *conns
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, set: l.set}
	l.set.mu.Lock()
	draining := l.set.draining
	if !draining {
		if l.set.open == nil {
			l.set.open = map[*trackedConn]struct{}{}
		}
		l.set.open[tc] = struct{}{}
	}
	l.set.mu.Unlock()
	if draining {
		// Accepted as the listener closed: 421 as the greeting (RFC 5321 §3.1).
		tc.goodbye()
	}
	return tc, nil
}

func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.open, c)
	c.set.mu.Unlock()
	return c.Conn.Close()
}

// trackedOf is the tracked connection under a go-smtp connection's.
func trackedOf(c *smtp.Conn) *trackedConn {
	nc := c.Conn()
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	tc, _ := nc.(*trackedConn)
	return tc
}

// follow records where replies go now (go-smtp replaces its connection
// with a TLS one at STARTTLS). Called from the session's goroutine.
func (c *trackedConn) follow(nc net.Conn) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.top = nc
	c.mu.Unlock()
}

// beginData marks the session in DATA; false when the drain has already
// said goodbye (the message is refused, nothing was acknowledged).
func (c *trackedConn) beginData() bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inData = !c.closed
	return !c.closed
}

// reset follows the end of a transaction (go-smtp resets the session after
// DATA's reply is written, and at RSET, EHLO, STARTTLS): during a drain,
// the session ends now.
func (c *trackedConn) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	wasInData := c.inData
	c.inData = false
	closed := c.closed
	c.mu.Unlock()
	c.set.mu.Lock()
	draining := c.set.draining
	if draining && wasInData && !closed {
		c.set.finished++ // its reply is written: acknowledged
	}
	c.set.mu.Unlock()
	if draining {
		c.goodbye()
	}
}

// drain says goodbye now unless the session is in DATA; it reports
// whether it did.
func (c *trackedConn) drain() bool {
	c.mu.Lock()
	inData := c.inData
	c.mu.Unlock()
	if inData {
		return false
	}
	return c.goodbye()
}

// goodbye tells the client 421 and closes the connection, once. The
// session's goroutine, reading its next command, sees the connection
// closed and ends.
func (c *trackedConn) goodbye() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	w := c.top
	c.mu.Unlock()
	if w == nil {
		w = c.Conn
	}
	e := seserr.InboundShuttingDown()
	w.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(w, e.SMTPReply()+"\r\n")
	c.Conn.Close()
	return true
}

// Shutdown stops accepting and ends the sessions: at once those waiting
// for a command, after their reply those in DATA. What is still open when
// ctx ends is closed.
func (s *Server) Shutdown(ctx context.Context) (DrainReport, error) {
	s.conns.mu.Lock()
	s.conns.draining = true
	open := make([]*trackedConn, 0, len(s.conns.open))
	for c := range s.conns.open {
		open = append(open, c)
	}
	lns := s.conns.lns
	s.conns.mu.Unlock()
	// Stop accepting before the first 421, so that a client told to come
	// back later is refused if it tries at once.
	for _, ln := range lns {
		ln.Close()
	}
	rep := DrainReport{Sessions: len(open)}
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }() // waits for the sessions
	for _, c := range open {
		if c.drain() {
			rep.Idle++
		}
	}
	err := <-done
	if errors.Is(err, net.ErrClosed) {
		err = nil // the listeners, closed above
	}
	if ctx.Err() != nil {
		// The bound passed: cut what is left (go-smtp's Close does not
		// once Shutdown has begun).
		s.conns.mu.Lock()
		left := make([]*trackedConn, 0, len(s.conns.open))
		for c := range s.conns.open {
			left = append(left, c)
		}
		s.conns.mu.Unlock()
		rep.Cut = len(left)
		for _, c := range left {
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
			c.Conn.Close()
		}
	}
	s.conns.mu.Lock()
	rep.Messages = s.conns.finished
	s.conns.mu.Unlock()
	return rep, err
}
