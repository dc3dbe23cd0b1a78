package lowprio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Handler answers one request. It runs in a goroutine of its own, so
// requests waiting on the network overlap; it calls started once its
// CPU-bound part is done (Client.Queued counts the calls before that).
type Handler func(req []byte, started func()) ([]byte, error)

// Serve is the helper's side: it lowers its own priority, gives the init
// frame to setup, and answers requests with the handler until in ends;
// then it returns at once, abandoning what is under way (the caller exits).
func Serve(in io.Reader, out io.Writer, setup func(init []byte) (Handler, error)) error {
	lowerPriority()
	r := bufio.NewReader(in)
	init, err := readFrame(r)
	if err != nil {
		return fmt.Errorf("lowprio: helper: reading the init frame: %w", err)
	}
	handle, err := setup(init)
	if err != nil {
		return fmt.Errorf("lowprio: helper: %w", err)
	}

	type answer struct {
		id   uint32
		kind byte
		body []byte
	}
	answers := make(chan answer, 256)
	writerDone := make(chan error, 1)
	go func() {
		// Flushed whenever no other answer is waiting to go.
		w := bufio.NewWriter(out)
		var werr error
		for a := range answers {
			if werr != nil {
				continue // drained so no handler blocks
			}
			var hdr [5]byte
			binary.BigEndian.PutUint32(hdr[:4], a.id)
			hdr[4] = a.kind
			if _, werr = w.Write(hdr[:]); werr == nil {
				werr = writeFrame(w, a.body)
			}
			if werr == nil && len(answers) == 0 {
				werr = w.Flush()
			}
		}
		if werr == nil {
			werr = w.Flush()
		}
		writerDone <- werr
	}()

	var wg sync.WaitGroup
	var rerr error
	for {
		var idb [4]byte
		if _, rerr = io.ReadFull(r, idb[:]); rerr != nil {
			break
		}
		req, err := readFrame(r)
		if err != nil {
			rerr = err
			break
		}
		id := binary.BigEndian.Uint32(idb[:])
		wg.Go(func() {
			var once sync.Once
			started := func() { once.Do(func() { answers <- answer{id: id, kind: kindStarted} }) }
			body, err := handle(req, started)
			if err != nil {
				answers <- answer{id: id, kind: kindError, body: []byte(err.Error())}
				return
			}
			answers <- answer{id: id, kind: kindOK, body: body}
		})
	}
	if errors.Is(rerr, io.EOF) {
		// The server closed its end or died: no answer can reach it, and
		// work still under way (a POST) would happen behind its back, after
		// a crash too. The server makes those attempts again; stop now.
		return nil
	}
	wg.Wait()
	close(answers)
	<-writerDone
	return fmt.Errorf("lowprio: helper: reading requests: %w", rerr)
}
