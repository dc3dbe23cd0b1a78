package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// On disk a segment is a magic number followed by frames. A frame is
//
//	length  uint32 LE  (of the payload)
//	crc     uint32 LE  (CRC-32C of the length bytes and the payload)
//	payload            (kind byte, then the kind's fields)
//
// The CRC covers the length too, so a run of zeros or a torn header never
// parses as a record. A frame is visible only once it is whole and its CRC
// matches: that is what makes an append atomic.
//
// Versions: segments written by this code start with segMagic
// ("SESPOOL2"); segments of the first format ("SESPOOL1", kinds 1 and 2
// only) are still read. A binary that knows only SESPOOL1 leaves a SESPOOL2
// segment alone as "bad magic" instead of truncating it at the first record
// kind it does not know. For the same reason a SESPOOL2 reader skips (with a
// warning) a whole, CRC-valid record of an unknown kind instead of treating it
// as torn: a newer writer's record must never make an older reader cut off
// the messages behind it.
const (
	segMagic    = "SESPOOL2"
	segMagicV1  = "SESPOOL1"
	frameHeader = 8
	// maxPayload bounds what a reader trusts a length field for. Message
	// payloads are at most MemoryLimit plus an envelope and a prefix (bigger
	// messages live in body files), done payloads a batch of ids.
	maxPayload = 1 << 30
)

type recordKind byte

const (
	// kindMessage: uvarint+envelope JSON, uvarint+body file name ("" when
	// inline), uvarint body file size, then the inline message bytes.
	kindMessage recordKind = 1
	// kindDone: uvarint count, then count × (uvarint+id).
	kindDone recordKind = 2
	// kindState (SESPOOL2): uvarint count, then count × (uvarint+id,
	// uvarint+DeliveryState JSON). The latest state record of a pending id
	// wins.
	kindState recordKind = 3
	// kindMove (SESPOOL2): a pending message copied forward by compaction,
	// with its state: uvarint+envelope JSON, uvarint+DeliveryState JSON,
	// uvarint+body file name, uvarint body file size, inline bytes. It
	// replaces any earlier record of its id in one atomic frame (a done
	// record followed by a copy could be torn between the two).
	kindMove recordKind = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errTorn = errors.New("torn or corrupt record")

// messageRecord is a decoded kindMessage payload. inline aliases the payload.
type messageRecord struct {
	envelope []byte
	body     string
	bodySize int64
	inline   []byte
	// inlineAt is where inline starts within the payload.
	inlineAt int
}

// encodeMessage returns a whole frame for a message record. The inline bytes
// are the concatenation of parts.
func encodeMessage(envelope []byte, body string, bodySize int64, parts ...[]byte) []byte {
	n := 1 + binary.MaxVarintLen64*3 + len(envelope) + len(body)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, frameHeader, frameHeader+n)
	b = append(b, byte(kindMessage))
	b = binary.AppendUvarint(b, uint64(len(envelope)))
	b = append(b, envelope...)
	b = binary.AppendUvarint(b, uint64(len(body)))
	b = append(b, body...)
	b = binary.AppendUvarint(b, uint64(bodySize))
	for _, p := range parts {
		b = append(b, p...)
	}
	return sealFrame(b)
}

// encodeMove returns a whole frame for a move record.
func encodeMove(envelope, state []byte, body string, bodySize int64, inline []byte) []byte {
	b := make([]byte, frameHeader, frameHeader+1+binary.MaxVarintLen64*4+len(envelope)+len(state)+len(body)+len(inline))
	b = append(b, byte(kindMove))
	b = binary.AppendUvarint(b, uint64(len(envelope)))
	b = append(b, envelope...)
	b = binary.AppendUvarint(b, uint64(len(state)))
	b = append(b, state...)
	b = binary.AppendUvarint(b, uint64(len(body)))
	b = append(b, body...)
	b = binary.AppendUvarint(b, uint64(bodySize))
	b = append(b, inline...)
	return sealFrame(b)
}

// stateUpdate is one id's new delivery state in a state record.
type stateUpdate struct {
	id    string
	state []byte // DeliveryState JSON
}

// encodeState returns a whole frame for a state record.
func encodeState(us []stateUpdate) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, u := range us {
		n += 2*binary.MaxVarintLen64 + len(u.id) + len(u.state)
	}
	b := make([]byte, frameHeader, frameHeader+n)
	b = append(b, byte(kindState))
	b = binary.AppendUvarint(b, uint64(len(us)))
	for _, u := range us {
		b = binary.AppendUvarint(b, uint64(len(u.id)))
		b = append(b, u.id...)
		b = binary.AppendUvarint(b, uint64(len(u.state)))
		b = append(b, u.state...)
	}
	return sealFrame(b)
}

// encodeDone returns a whole frame for a done record.
func encodeDone(ids []string) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, id := range ids {
		n += binary.MaxVarintLen64 + len(id)
	}
	b := make([]byte, frameHeader, frameHeader+n)
	b = append(b, byte(kindDone))
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	return sealFrame(b)
}

// sealFrame fills in the header of b, whose payload follows frameHeader.
func sealFrame(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(b)-frameHeader))
	crc := crc32.Update(0, castagnoli, b[0:4])
	crc = crc32.Update(crc, castagnoli, b[frameHeader:])
	binary.LittleEndian.PutUint32(b[4:8], crc)
	return b
}

// parseHeader returns the payload length and CRC of a frame header,
// refusing lengths no writer produces.
func parseHeader(h []byte) (n int, crc uint32, err error) {
	l := binary.LittleEndian.Uint32(h[0:4])
	if l == 0 || l > maxPayload {
		return 0, 0, fmt.Errorf("%w: payload length %d", errTorn, l)
	}
	return int(l), binary.LittleEndian.Uint32(h[4:8]), nil
}

// checkFrame verifies the CRC of a header and its payload.
func checkFrame(h []byte, crc uint32, payload []byte) error {
	got := crc32.Update(0, castagnoli, h[0:4])
	got = crc32.Update(got, castagnoli, payload)
	if got != crc {
		return fmt.Errorf("%w: crc %08x, header says %08x", errTorn, got, crc)
	}
	return nil
}

// payloadReader decodes fields without ever trusting a length it has not
// checked against what is left.
type payloadReader struct {
	b   []byte
	off int
	err error
}

func (r *payloadReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint at %d", errTorn, r.off)
		return 0
	}
	r.off += n
	return v
}

func (r *payloadReader) bytes() []byte {
	l := r.uvarint()
	if r.err != nil {
		return nil
	}
	if l > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%w: field of %d bytes at %d overruns payload", errTorn, l, r.off)
		return nil
	}
	v := r.b[r.off : r.off+int(l)]
	r.off += int(l)
	return v
}

func decodeMessage(p []byte) (messageRecord, error) {
	if len(p) == 0 || recordKind(p[0]) != kindMessage {
		return messageRecord{}, fmt.Errorf("%w: not a message record", errTorn)
	}
	r := payloadReader{b: p, off: 1}
	var m messageRecord
	m.envelope = r.bytes()
	m.body = string(r.bytes())
	size := r.uvarint()
	if r.err != nil {
		return messageRecord{}, r.err
	}
	if size > 1<<50 || (m.body == "" && size != 0) {
		return messageRecord{}, fmt.Errorf("%w: body size %d", errTorn, size)
	}
	m.bodySize = int64(size)
	m.inlineAt = r.off
	m.inline = p[r.off:]
	return m, nil
}

// moveRecord is a decoded kindMove payload; inline aliases the payload.
type moveRecord struct {
	messageRecord
	state []byte
}

func decodeMove(p []byte) (moveRecord, error) {
	if len(p) == 0 || recordKind(p[0]) != kindMove {
		return moveRecord{}, fmt.Errorf("%w: not a move record", errTorn)
	}
	r := payloadReader{b: p, off: 1}
	var m moveRecord
	m.envelope = r.bytes()
	m.state = r.bytes()
	m.body = string(r.bytes())
	size := r.uvarint()
	if r.err != nil {
		return moveRecord{}, r.err
	}
	if size > 1<<50 || (m.body == "" && size != 0) {
		return moveRecord{}, fmt.Errorf("%w: body size %d", errTorn, size)
	}
	m.bodySize = int64(size)
	m.inlineAt = r.off
	m.inline = p[r.off:]
	return m, nil
}

func decodeState(p []byte) ([]stateUpdate, error) {
	if len(p) == 0 || recordKind(p[0]) != kindState {
		return nil, fmt.Errorf("%w: not a state record", errTorn)
	}
	r := payloadReader{b: p, off: 1}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if n > uint64(len(p))/2 { // every update takes at least two bytes
		return nil, fmt.Errorf("%w: %d states in %d bytes", errTorn, n, len(p))
	}
	us := make([]stateUpdate, 0, n)
	for i := uint64(0); i < n; i++ {
		id := r.bytes()
		st := r.bytes()
		if r.err != nil {
			return nil, r.err
		}
		us = append(us, stateUpdate{id: string(id), state: st})
	}
	if r.off != len(p) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errTorn, len(p)-r.off)
	}
	return us, nil
}

func decodeDone(p []byte) ([]string, error) {
	if len(p) == 0 || recordKind(p[0]) != kindDone {
		return nil, fmt.Errorf("%w: not a done record", errTorn)
	}
	r := payloadReader{b: p, off: 1}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if n > uint64(len(p)) { // every id takes at least one byte
		return nil, fmt.Errorf("%w: %d ids in %d bytes", errTorn, n, len(p))
	}
	ids := make([]string, 0, n)
	for i := uint64(0); i < n; i++ {
		id := r.bytes()
		if r.err != nil {
			return nil, r.err
		}
		ids = append(ids, string(id))
	}
	if r.off != len(p) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errTorn, len(p)-r.off)
	}
	return ids, nil
}
