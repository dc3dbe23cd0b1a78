package spool

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// recover rebuilds the index from the segments on disk: every whole message
// record whose id no later done record cancels is pending again. A record
// that is torn or fails its CRC ends its segment (the file is truncated
// there); a message whose body file is missing or short is dropped, as its
// record can only have been committed with the file synced, so the disk lost
// it. Body files no pending message references are removed.
func (s *Spool) recover() error {
	names, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w", s.dir, err)
	}
	var ids []uint64
	bodies := map[string]bool{}
	for _, de := range names {
		name := de.Name()
		switch {
		case isBodyName(name):
			bodies[filepath.Join(s.dir, name)] = true
		case strings.HasPrefix(name, "seg-") && strings.HasSuffix(name, ".log"):
			id, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "seg-"), ".log"), 16, 64)
			if err != nil || segmentName(id) != name {
				s.log.Warn("ignoring unknown file", "file", name)
				continue
			}
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		seg := &segment{id: id, path: filepath.Join(s.dir, segmentName(id))}
		s.nextSeg = id + 1
		ok, err := s.replay(seg)
		if err != nil {
			return err
		}
		if ok {
			s.segs[id] = seg
		}
	}
	for _, it := range s.items {
		if it.entry.body == "" {
			continue
		}
		fi, err := os.Stat(it.entry.body)
		if err != nil || fi.Size() < it.entry.bodySize {
			s.log.Error("dropping message whose body file is missing or short",
				"id", it.entry.ID, "file", it.entry.body, "err", err)
			delete(s.items, it.entry.ID)
			s.unplace(it)
			s.setStateSeg(it, nil)
			it.seg.live--
			continue
		}
		delete(bodies, it.entry.body)
	}
	for name := range bodies {
		if err := os.Remove(name); err != nil {
			s.log.Warn("removing orphan body file", "file", name, "err", err)
		}
	}
	if n := len(s.items); n > 0 {
		s.log.Info("recovered pending messages", "count", n, "segments", len(s.segs))
	}
	return nil
}

// replay applies one segment's records to the index. A bad magic number
// means the file is not ours to judge: it is left alone and unused (ok
// false). An empty or partial magic is a segment whose creation never made
// it to disk whole: empty, so collected.
func (s *Spool) replay(seg *segment) (ok bool, err error) {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("spool: recover %s: %w", seg.path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("spool: recover %s: %w", seg.path, err)
	}
	end := fi.Size()
	var magic [len(segMagic)]byte
	n, _ := io.ReadFull(f, magic[:])
	if string(magic[:n]) != segMagic[:n] && string(magic[:n]) != segMagicV1[:n] {
		s.log.Error("leaving alone a segment with a bad magic number", "segment", seg.path)
		return false, nil
	}
	if n < len(segMagic) {
		s.log.Warn("empty segment from an interrupted start", "segment", seg.path)
		return true, nil
	}
	seg.v1 = string(magic[:]) == segMagicV1
	off, err := s.scan(seg, bufio.NewReaderSize(f, 256<<10), int64(len(segMagic)), end)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, errTorn) {
		// A read error says nothing about the bytes: cutting them off
		// could lose acknowledged mail. Let the operator look.
		return false, fmt.Errorf("spool: recover %s at offset %d: %w", seg.path, off, err)
	}
	s.log.Warn("truncating segment at a torn or corrupt record",
		"segment", seg.path, "offset", off, "size", end, "err", err)
	if err := f.Truncate(off); err != nil {
		return false, fmt.Errorf("spool: recover %s: truncate torn tail: %w", seg.path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("spool: recover %s: truncate torn tail: %w", seg.path, err)
	}
	return true, nil
}

// scan reads frames from r, positioned at off, until end. It returns where
// the last good frame ended and why it stopped (nil at a clean end).
func (s *Spool) scan(seg *segment, r io.Reader, off, end int64) (int64, error) {
	var hdr [frameHeader]byte
	var payload []byte
	for off < end {
		if end-off < frameHeader {
			return off, fmt.Errorf("%w: %d bytes of header", errTorn, end-off)
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return off, fmt.Errorf("read header: %w", err)
		}
		n, crc, err := parseHeader(hdr[:])
		if err != nil {
			return off, err
		}
		if int64(n) > end-off-frameHeader {
			return off, fmt.Errorf("%w: %d byte payload past end of file", errTorn, n)
		}
		if cap(payload) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return off, fmt.Errorf("read payload: %w", err)
		}
		if err := checkFrame(hdr[:], crc, payload); err != nil {
			return off, err
		}
		if err := s.apply(seg, off, payload); err != nil {
			return off, err
		}
		off += frameHeader + int64(n)
	}
	return off, nil
}

// apply replays one record whose CRC matched.
func (s *Spool) apply(seg *segment, off int64, payload []byte) error {
	switch recordKind(payload[0]) {
	case kindMessage:
		m, err := decodeMessage(payload)
		if err != nil {
			return err
		}
		var env Envelope
		if err := json.Unmarshal(m.envelope, &env); err != nil || env.ID == "" {
			return fmt.Errorf("%w: envelope: %v", errTorn, err)
		}
		if _, dup := s.items[env.ID]; dup {
			s.log.Warn("ignoring second record of a message id", "id", env.ID, "segment", seg.path)
			return nil
		}
		it := &item{seg: seg, entry: Entry{
			Envelope: env,
			Size:     int64(len(m.inline)) + m.bodySize,
			seg:      seg.path,
			inlineAt: off + frameHeader + int64(m.inlineAt),
			inline:   int64(len(m.inline)),
			bodySize: m.bodySize,
		}}
		if it.entry.body, err = s.bodyPath(m.body); err != nil {
			return err
		}
		s.addItem(it)
	case kindDone:
		ids, err := decodeDone(payload)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if it, ok := s.items[id]; ok {
				s.retire(it, seg)
			}
		}
	case kindState:
		us, err := decodeState(payload)
		if err != nil {
			return err
		}
		for _, u := range us {
			it, ok := s.items[u.id]
			if !ok {
				continue
			}
			var st DeliveryState
			if err := json.Unmarshal(u.state, &st); err != nil {
				return fmt.Errorf("%w: state of %s: %v", errTorn, u.id, err)
			}
			s.setState(it, st, seg, false)
		}
	case kindMove:
		m, err := decodeMove(payload)
		if err != nil {
			return err
		}
		var env Envelope
		if err := json.Unmarshal(m.envelope, &env); err != nil || env.ID == "" {
			return fmt.Errorf("%w: envelope: %v", errTorn, err)
		}
		var st DeliveryState
		if err := json.Unmarshal(m.state, &st); err != nil {
			return fmt.Errorf("%w: state of %s: %v", errTorn, env.ID, err)
		}
		body, err := s.bodyPath(m.body)
		if err != nil {
			return err
		}
		inlineAt := off + frameHeader + int64(m.inlineAt)
		if it, ok := s.items[env.ID]; ok {
			s.moveItem(it, seg, inlineAt, st, false)
			return nil
		}
		// The segment of the original record is gone already.
		s.addItem(&item{seg: seg, entry: Entry{
			Envelope: env,
			State:    st,
			Size:     int64(len(m.inline)) + m.bodySize,
			seg:      seg.path,
			inlineAt: inlineAt,
			inline:   int64(len(m.inline)),
			body:     body,
			bodySize: m.bodySize,
		}})
	default:
		if seg.v1 {
			return fmt.Errorf("%w: record kind %d", errTorn, payload[0])
		}
		// A whole record of a newer writer: skipping it may lose what it
		// says, truncating here would lose every message behind it.
		s.log.Warn("skipping a record of an unknown kind", "segment", seg.path, "offset", off, "kind", payload[0])
	}
	return nil
}

// bodyPath checks a body file name from a record and returns its path ("" for
// none).
func (s *Spool) bodyPath(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if name != filepath.Base(name) || !isBodyName(name) {
		return "", fmt.Errorf("%w: body file name %q", errTorn, name)
	}
	return filepath.Join(s.dir, name), nil
}

func isBodyName(name string) bool {
	return strings.HasPrefix(name, bodyPrefix) || strings.HasPrefix(name, bodyPrefixV1)
}
