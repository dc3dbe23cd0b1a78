// Package lowprio runs work in a helper process at the lowest CPU priority,
// so that work which can wait (signing and posting SNS notifications: an
// RSA signature is about a quarter of a millisecond of CPU) only ever uses
// CPU that accepting and delivering mail leaves idle. Under a burst that
// saturates the machine the helper's calls wait and their work trails
// behind; it catches up as soon as there is CPU to spare.
//
// The helper is the sesame binary itself, started with a hidden subcommand
// that runs Serve: it reads an init frame and then requests on stdin, and
// answers on stdout; it ends when stdin closes, so it never outlives the
// server. A helper that dies is started again by the next call.
//
// Meter (meter.go) says when the server itself keeps the machine busy, for
// work that should wait even at idle priority (it still costs a busy server
// caches and switches).
//
// Boundaries: this package moves opaque requests and answers and keeps the
// process running; what a request means is the caller's (internal/sns).
package lowprio

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
)

// Nice is the helper's niceness: the lowest priority there is.
const Nice = 19

// ErrGone is a call's error when the helper ended before answering it; the
// work may or may not have been done.
var ErrGone = errors.New("lowprio: the helper process ended")

// ErrUnavailable is a call's error when no helper could be started (the
// program's file replaced or gone, no processes left): the caller does the
// work itself.
var ErrUnavailable = errors.New("lowprio: no helper process")

// Answer kinds on the wire.
const (
	kindOK      = 0
	kindError   = 1
	kindStarted = 2 // the request's CPU-bound part is done (see Queued)
)

// Client starts the helper and makes calls to it, from any goroutine.
type Client struct {
	exe  string
	args []string
	init []byte
	log  *slog.Logger

	mu      sync.Mutex
	proc    *proc
	nextID  uint32
	started int
}

// New returns a Client that runs exe with args as its helper and hands it
// init first. The helper starts with the first call.
func New(exe string, args []string, init []byte, log *slog.Logger) *Client {
	if log == nil {
		log = slog.Default()
	}
	return &Client{exe: exe, args: args, init: init, log: log}
}

// proc is one running helper.
type proc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	reqs chan frame    // to the writer
	quit chan struct{} // closed when the helper has ended

	mu      sync.Mutex
	waiting map[uint32]*call
	queued  int // calls not yet started or answered
	dead    error
}

type frame struct {
	id   uint32
	body []byte
}

type call struct {
	started bool
	done    chan result
}

type result struct {
	body []byte
	err  error
}

// Call sends req and waits for the helper's answer, or for ctx. An error
// the helper's handler returned comes back as an error with its text.
func (c *Client) Call(ctx context.Context, req []byte) ([]byte, error) {
	p, id, err := c.running()
	if err != nil {
		return nil, err
	}
	cl := &call{done: make(chan result, 1)}
	p.mu.Lock()
	if p.dead != nil {
		p.mu.Unlock()
		return nil, ErrGone
	}
	p.waiting[id] = cl
	p.queued++
	p.mu.Unlock()
	select {
	case p.reqs <- frame{id, req}:
	case <-p.quit:
		return nil, ErrGone
	case <-ctx.Done():
		p.forget(id)
		return nil, ctx.Err()
	}
	select {
	case r := <-cl.done:
		return r.body, r.err
	case <-ctx.Done():
		p.forget(id)
		return nil, ctx.Err()
	}
}

// Queued is how many calls the helper has not got through the CPU-bound
// part of (the handler's started) nor answered: a long queue means the
// helper is starved of CPU, not that what it waits for is slow.
func (c *Client) Queued() int {
	c.mu.Lock()
	p := c.proc
	c.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// Close ends the helper (it exits when its stdin closes).
func (c *Client) Close() error {
	c.mu.Lock()
	p := c.proc
	c.proc = nil
	c.mu.Unlock()
	if p != nil {
		p.fail(errors.New("closed"))
	}
	return nil
}

// running returns the helper, starting one if there is none, and a new id.
func (c *Client) running() (*proc, uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	if c.proc != nil && c.proc.alive() {
		return c.proc, c.nextID, nil
	}
	p, err := c.start()
	if err != nil {
		return nil, 0, err
	}
	c.proc = p
	c.started++
	if c.started > 1 {
		c.log.Warn("lowprio: the helper process was started again", "helper", c.args, "times", c.started)
	}
	return p, c.nextID, nil
}

func (c *Client) start() (*proc, error) {
	cmd := exec.Command(c.exe, c.args...)
	cmd.Stderr = os.Stderr
	detach(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: starting %s: %v", ErrUnavailable, c.exe, err)
	}
	p := &proc{cmd: cmd, in: in, reqs: make(chan frame, 256), quit: make(chan struct{}), waiting: map[uint32]*call{}}
	w := bufio.NewWriter(in)
	err = writeFrame(w, c.init)
	if err == nil {
		err = w.Flush()
	}
	if err != nil { // the helper died at once: no use starting its loops
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%w: initialising %s: %v", ErrUnavailable, c.exe, err)
	}
	go p.write(w)
	go p.read(bufio.NewReader(out))
	return p, nil
}

func (p *proc) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead == nil
}

func (p *proc) forget(id uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cl, ok := p.waiting[id]; ok {
		delete(p.waiting, id)
		if !cl.started {
			p.queued--
		}
	}
}

// write sends requests, flushing whenever no other is waiting to go: one
// system call carries a burst of them.
func (p *proc) write(w *bufio.Writer) {
	for {
		var f frame
		select {
		case f = <-p.reqs:
		default:
			if err := w.Flush(); err != nil {
				p.fail(err)
				return
			}
			select {
			case f = <-p.reqs:
			case <-p.quit:
				return
			}
		}
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], f.id)
		if _, err := w.Write(id[:]); err != nil {
			p.fail(err)
			return
		}
		if err := writeFrame(w, f.body); err != nil {
			p.fail(err)
			return
		}
	}
}

// read hands each answer to its call until the helper's stdout ends.
func (p *proc) read(r *bufio.Reader) {
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			p.fail(err)
			return
		}
		id, kind := binary.BigEndian.Uint32(hdr[:4]), hdr[4]
		body, err := readFrame(r)
		if err != nil {
			p.fail(err)
			return
		}
		p.mu.Lock()
		cl := p.waiting[id]
		if cl != nil && !cl.started {
			cl.started = true
			p.queued--
		}
		if cl != nil && kind != kindStarted {
			delete(p.waiting, id)
		}
		p.mu.Unlock()
		switch {
		case cl == nil || kind == kindStarted:
		case kind == kindOK:
			cl.done <- result{body: body}
		default:
			cl.done <- result{err: fmt.Errorf("lowprio: helper: %s", body)}
		}
	}
}

// fail ends the helper: every waiting call gets ErrGone.
func (p *proc) fail(err error) {
	p.mu.Lock()
	if p.dead != nil {
		p.mu.Unlock()
		return
	}
	p.dead = err
	close(p.quit)
	waiting := p.waiting
	p.waiting, p.queued = nil, 0
	p.mu.Unlock()
	for _, cl := range waiting {
		cl.done <- result{err: ErrGone}
	}
	p.in.Close()
	go func() { _ = p.cmd.Wait() }()
}

// writeFrame writes a 4-byte length and b.
func writeFrame(w io.Writer, b []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// maxFrame bounds what a frame may claim to hold (an SNS message is at most
// 256 KiB, its envelope somewhat more).
const maxFrame = 4 << 20

func readFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return nil, fmt.Errorf("lowprio: a frame of %d bytes", size)
	}
	b := make([]byte, size)
	_, err := io.ReadFull(r, b)
	return b, err
}
