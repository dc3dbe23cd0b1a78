package spool

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// bodyPrefix names the files that hold a spilled draft. Such a file is part
// of the spool only while a committed record references it; recovery removes
// every other one. Files named with bodyPrefixV1 come from the SESPOOL1
// format: a binary that knows only that format removes every such file its
// own segments do not reference, which would include bodies of messages in
// SESPOOL2 segments, so these are named differently.
const (
	bodyPrefix   = "body2-"
	bodyPrefixV1 = "body-"
)

// errDraftTaken is returned when a draft is used after Append or Discard.
var errDraftTaken = errors.New("spool: draft already appended or discarded")

// Draft holds the bytes of a message being received. Memory stays bounded:
// past Options.MemoryLimit the bytes go to a file.
type Draft struct {
	dir   string
	limit int

	mu    sync.Mutex
	mem   []byte
	file  *os.File // non-nil once spilled
	size  int64
	taken bool // appended or discarded: the spool or nobody owns the bytes now
	err   error
}

// NewDraft starts a message.
func (s *Spool) NewDraft() (*Draft, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	return &Draft{dir: s.dir, limit: s.opt.MemoryLimit}, nil
}

// Write appends message bytes.
func (d *Draft) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.taken {
		return 0, errDraftTaken
	}
	if d.err != nil {
		return 0, d.err
	}
	if d.file == nil && len(d.mem)+len(p) <= d.limit {
		d.mem = append(d.mem, p...)
		d.size += int64(len(p))
		return len(p), nil
	}
	if d.file == nil {
		if err := d.spill(); err != nil {
			d.err = err
			return 0, err
		}
	}
	n, err := d.file.Write(p)
	d.size += int64(n)
	if err != nil {
		d.err = fmt.Errorf("spool: write draft %s: %w", d.file.Name(), err)
		return n, d.err
	}
	return n, nil
}

// spill moves the in-memory bytes to a new body file, so that a big message
// costs disk, not RAM.
func (d *Draft) spill() error {
	f, err := createBodyFile(d.dir)
	if err != nil {
		return err
	}
	if _, err := f.Write(d.mem); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("spool: spill draft to %s: %w", f.Name(), err)
	}
	d.file = f
	d.mem = nil
	return nil
}

func createBodyFile(dir string) (*os.File, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("spool: body file name: %w", err)
	}
	name := filepath.Join(dir, bodyPrefix+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: create body file: %w", err)
	}
	return f, nil
}

// Size is the number of bytes written so far.
func (d *Draft) Size() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.size
}

// Reader reads the draft from its first byte; it may be called several times.
// It sees the bytes written before the call.
func (d *Draft) Reader() io.Reader {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.taken {
		return errReader{errDraftTaken}
	}
	if d.file != nil {
		return io.NewSectionReader(d.file, 0, d.size)
	}
	return bytes.NewReader(d.mem[:len(d.mem):len(d.mem)])
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// Discard drops the draft (a rejected message). Safe after Append too.
func (d *Draft) Discard() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.taken {
		return nil
	}
	d.taken = true
	d.mem = nil
	if d.file == nil {
		return nil
	}
	name := d.file.Name()
	errClose := d.file.Close()
	d.file = nil
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: discard draft: %w", err)
	}
	if errClose != nil {
		return fmt.Errorf("spool: discard draft: %w", errClose)
	}
	return nil
}

// take hands the draft's bytes to Append: either the in-memory bytes or the
// spilled file (fsync'd here, by the appending goroutine, so that big
// messages do not hold up the committer). After take the draft is inert.
func (d *Draft) take() (mem []byte, file string, size int64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.taken {
		return nil, "", 0, errDraftTaken
	}
	if d.err != nil {
		return nil, "", 0, d.err
	}
	d.taken = true
	if d.file == nil {
		mem, d.mem = d.mem, nil
		return mem, "", d.size, nil
	}
	f := d.file
	d.file = nil
	name := f.Name()
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return nil, "", 0, fmt.Errorf("spool: sync body file %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return nil, "", 0, fmt.Errorf("spool: close body file %s: %w", name, err)
	}
	return nil, filepath.Base(name), d.size, nil
}
