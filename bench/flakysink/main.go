// Command flakysink is the benchmark's receiving MX that pushes back:
// smtp-sink accepts everything (or, with -f/-Q, refuses a command every
// time), while a real receiver refuses a share of recipients — greylisting's
// 4xx, unknown users' 5xx. flakysink answers RCPT TO with 451 4.7.1 for a
// share -temp of recipients and 550 5.1.1 for a share -perm, accepts the rest
// and swallows their data, counting as it goes.
//
// Every -every it rewrites -stats with one line of counters:
//
//	rcpt=N temp=N perm=N msgs=N unique=N dup=N signed=N
//
// unique counts distinct MAIL FROM addresses of accepted messages (sesame's
// MAIL FROM is a per-message bounce address, so unique = messages delivered
// and dup = deliveries of a message already delivered); signed counts
// messages whose header carries a DKIM-Signature field. It is a benchmark
// tool: no TLS, no AUTH, nothing stored.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// counters are the sink's tallies, guarded by mu.
type counters struct {
	mu                                  sync.Mutex
	rcpt, temp, perm, msgs, dup, signed int
	seen                                map[string]bool
}

func (c *counters) line() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("rcpt=%d temp=%d perm=%d msgs=%d unique=%d dup=%d signed=%d\n",
		c.rcpt, c.temp, c.perm, c.msgs, len(c.seen), c.dup, c.signed)
}

type backend struct {
	temp, perm float64
	c          *counters
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

// session is one SMTP session's transaction state.
type session struct {
	b    *backend
	from string
	ok   int // recipients accepted in this transaction
}

func (s *session) Reset()        { s.from, s.ok = "", 0 }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.ok = from, 0
	return nil
}

// Rcpt refuses a random share of recipients (RFC 5321 §4.2.5: 451 asks the
// client to try again later; 550 is final).
func (s *session) Rcpt(string, *smtp.RcptOptions) error {
	c := s.b.c
	r := rand.Float64()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rcpt++
	switch {
	case r < s.b.temp:
		c.temp++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"}
	case r < s.b.temp+s.b.perm:
		c.perm++
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	s.ok++
	return nil
}

func (s *session) Data(r io.Reader) error {
	signed, err := hasDKIM(r)
	if err != nil {
		return fmt.Errorf("flakysink: reading data: %w", err)
	}
	c := s.b.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs++
	if c.seen[s.from] {
		c.dup++
	}
	c.seen[s.from] = true
	if signed {
		c.signed++
	}
	return nil
}

// hasDKIM reads the whole message and reports whether its header section
// has a DKIM-Signature field.
func hasDKIM(r io.Reader) (bool, error) {
	br := bufio.NewReader(r)
	signed, inHeader := false, true
	for {
		line, err := br.ReadSlice('\n')
		if inHeader && len(line) > 0 {
			if bytes.Equal(bytes.TrimRight(line, "\r\n"), nil) {
				inHeader = false
			} else if len(line) >= 15 && bytes.EqualFold(line[:15], []byte("DKIM-Signature:")) {
				signed = true
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			return signed, nil
		}
		if err != nil {
			return signed, err
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:2527", "address")
	temp := flag.Float64("temp", 0.2, "share of recipients refused with 451 4.7.1")
	perm := flag.Float64("perm", 0.02, "share of recipients refused with 550 5.1.1")
	stats := flag.String("stats", "", "file rewritten with the counters every -every (empty: standard output at exit only)")
	every := flag.Duration("every", 500*time.Millisecond, "stats interval")
	flag.Parse()

	c := &counters{seen: map[string]bool{}}
	srv := smtp.NewServer(&backend{temp: *temp, perm: *perm, c: c})
	srv.Addr = *listen
	srv.Domain = "flakysink.localhost"
	srv.MaxRecipients = 1000
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	errs := make(chan error, 1)
	go func() { errs <- srv.ListenAndServe() }()

	write := func() {
		if *stats != "" {
			_ = os.WriteFile(*stats, []byte(c.line()), 0o644)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		select {
		case err := <-errs:
			fmt.Fprintf(os.Stderr, "flakysink: %v\n", err)
			os.Exit(1)
		case <-tick.C:
			write()
		case <-sig:
			srv.Close()
			write()
			fmt.Print(c.line())
			return
		}
	}
}
