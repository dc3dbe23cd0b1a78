package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is just enough SMTP to exercise the load generator's error
// handling: it refuses some messages at end of DATA (554) and hangs up on
// others without a reply, so both recovery paths run.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	tls      *tls.Config
	user     string
	pass     string
	rejectAt func(n int) bool
	dropAt   func(n int) bool

	mu        sync.Mutex
	n         int // messages whose DATA was read
	accepted  int
	rejected  int
	dropped   int
	sizes     map[int]int
	kept      [][]byte // the messages as received, when keep is set
	keep      bool
	froms     map[string]int
	sessions  int
	authed    int
	tlsHellos int
}

// startFake listens on loopback; withTLS offers STARTTLS, implicit wraps
// the listener in TLS from the first byte.
func startFake(t *testing.T, withTLS, implicit bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, sizes: map[int]int{}, froms: map[string]int{},
		user: "AKIDEXAMPLE", pass: "secret", rejectAt: func(int) bool { return false }, dropAt: func(int) bool { return false }}
	if withTLS || implicit {
		f.tls = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	}
	if implicit {
		ln = tls.NewListener(ln, f.tls)
		f.ln = ln
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeServer) serve(conn net.Conn) {
	defer conn.Close()
	f.mu.Lock()
	f.sessions++
	f.mu.Unlock()
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			say("250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN")
		case "STARTTLS":
			say("220 Ready to start TLS")
			tc := tls.Server(conn, f.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, r, w = tc, bufio.NewReader(tc), bufio.NewWriter(tc)
			f.mu.Lock()
			f.tlsHellos++
			f.mu.Unlock()
		case "AUTH":
			ok := false
			if mech, ir, _ := strings.Cut(arg, " "); strings.EqualFold(mech, "PLAIN") {
				b, _ := base64.StdEncoding.DecodeString(ir)
				ok = string(b) == "\x00"+f.user+"\x00"+f.pass
			} else {
				say("334 VXNlcm5hbWU6")
				u, _ := r.ReadString('\n')
				say("334 UGFzc3dvcmQ6")
				p, _ := r.ReadString('\n')
				ub, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(u))
				pb, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(p))
				ok = string(ub) == f.user && string(pb) == f.pass
			}
			if !ok {
				say("535 Authentication Credentials Invalid")
				continue
			}
			f.mu.Lock()
			f.authed++
			f.mu.Unlock()
			say("235 Authentication successful.")
		case "MAIL", "RCPT", "RSET":
			say("250 Ok")
		case "DATA":
			say("354 End data with <CR><LF>.<CR><LF>")
			var msg bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			f.mu.Lock()
			n := f.n
			f.n++
			f.sizes[msg.Len()]++
			if f.keep {
				f.kept = append(f.kept, bytes.Clone(msg.Bytes()))
			}
			from, _, _ := strings.Cut(strings.TrimPrefix(msg.String(), "From: "), "\r\n")
			f.froms[from]++
			drop, reject := f.dropAt(n), f.rejectAt(n)
			switch {
			case drop:
				f.dropped++
			case reject:
				f.rejected++
			default:
				f.accepted++
			}
			f.mu.Unlock()
			switch {
			case drop:
				return
			case reject:
				say("554 Message rejected: Email address is not verified.")
			default:
				say("250 Ok 0100-fake")
			}
		case "QUIT":
			say("221 Bye")
			return
		default:
			say("500 unrecognized command")
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func testOptions(addr string) *options {
	return &options{addr: addr, serverName: "localhost", helo: "test", from: "sender@example.com",
		to: "recipient@example.net", auth: "plain", conns: 3, msgs: 60, size: 2000, rcpts: 2,
		maxErrors: 0, quiet: true, timeout: 5 * time.Second, duration: 30 * time.Second}
}

func runAgainst(t *testing.T, o *options) (stats, int) {
	t.Helper()
	msg, at, err := buildMessage(o)
	if err != nil {
		t.Fatal(err)
	}
	tot, errs, _ := load(o, msg, at)
	return tot, errs
}

// A 554 is followed by RSET on the same session; a hang-up by a new session.
// Every message is tried exactly once and lands in exactly one tally.
func TestRejectsAndDropsAreCountedAndRecovered(t *testing.T) {
	f := startFake(t, true, false)
	f.rejectAt = func(n int) bool { return n%5 == 2 }
	f.dropAt = func(n int) bool { return n%11 == 7 }
	o := testOptions(f.ln.Addr().String())
	o.starttls, o.user, o.pass = true, f.user, f.pass
	tot, errs := runAgainst(t, o)

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n != o.msgs {
		t.Fatalf("server saw %d messages, want %d", f.n, o.msgs)
	}
	if tot.ok != f.accepted || tot.rejected != f.rejected || tot.ioErr != f.dropped {
		t.Fatalf("client ok/rejected/ioerr = %d/%d/%d, server accepted/rejected/dropped = %d/%d/%d",
			tot.ok, tot.rejected, tot.ioErr, f.accepted, f.rejected, f.dropped)
	}
	if errs != f.rejected+f.dropped {
		t.Fatalf("errors = %d, want %d", errs, f.rejected+f.dropped)
	}
	if tot.sessions != o.conns+f.dropped || f.sessions != tot.sessions {
		t.Fatalf("sessions: client %d, server %d, want %d", tot.sessions, f.sessions, o.conns+f.dropped)
	}
	if f.tlsHellos != f.sessions || f.authed != f.sessions {
		t.Fatalf("every session must do STARTTLS and AUTH: %d sessions, %d TLS, %d AUTH", f.sessions, f.tlsHellos, f.authed)
	}
	if len(f.sizes) != 1 || f.sizes[o.size] != o.msgs {
		t.Fatalf("message sizes seen by the server: %v, want all %d", f.sizes, o.size)
	}
	if f.froms["<sender@example.com>"] != o.msgs {
		t.Fatalf("From headers: %v", f.froms)
	}
	if len(tot.lat) != tot.ok {
		t.Fatalf("%d latencies for %d accepted messages", len(tot.lat), tot.ok)
	}
}

// AUTH LOGIN over implicit TLS, and -per-conn reconnecting on schedule.
func TestImplicitTLSLoginPerConn(t *testing.T) {
	f := startFake(t, false, true)
	o := testOptions(f.ln.Addr().String())
	o.implicitTLS, o.user, o.pass, o.auth, o.perConn = true, f.user, f.pass, "login", 4
	tot, errs := runAgainst(t, o)
	if errs != 0 || tot.ok != o.msgs {
		t.Fatalf("ok %d errors %d, want %d and 0", tot.ok, errs, o.msgs)
	}
	if tot.sessions < o.msgs/o.perConn {
		t.Fatalf("%d sessions for %d messages at -per-conn %d", tot.sessions, o.msgs, o.perConn)
	}
}

// -max-errors stops a run against a server that refuses everything.
func TestMaxErrorsStops(t *testing.T) {
	f := startFake(t, false, false)
	f.rejectAt = func(int) bool { return true }
	o := testOptions(f.ln.Addr().String())
	o.maxErrors, o.msgs = 5, 1000
	tot, errs := runAgainst(t, o)
	if tot.ok != 0 || errs < 5 || errs > 5+o.conns {
		t.Fatalf("ok %d errors %d: the brake did not hold", tot.ok, errs)
	}
}
