package mailmsg

import (
	"encoding/hex"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
)

// regionPrefixes are the MessageId prefixes SES uses (spec §1).
var regionPrefixes = map[string]string{
	"us-east-1":      "0100",
	"us-west-2":      "0101",
	"eu-west-1":      "0102",
	"ap-northeast-1": "0106",
	"eu-central-1":   "0107",
}

// regionPrefix returns the region's MessageId prefix. Regions without a
// known prefix get 0x8000 | (FNV-1a-32(region) & 0x7fff) in hex: stable
// across restarts and nodes, and in a range SES's own prefixes (0000-01ff so
// far) do not reach, so the two never collide.
func regionPrefix(region string) string {
	if p, ok := regionPrefixes[region]; ok {
		return p
	}
	h := fnv.New32a()
	h.Write([]byte(region))
	v := 0x8000 | h.Sum32()&0x7fff
	return hex.EncodeToString([]byte{byte(v >> 8), byte(v)})
}

// NewMessageID makes an SES MessageId: region prefix, 12 hex digits of Unix
// milliseconds, a random UUID, "-000000" — 60 lower-case characters, e.g.
// 0100016e4ab7c399-5058a2a5-d4ad-407b-92b8-94472f229325-000000.
func NewMessageID(region string, t time.Time) string {
	var b [60]byte
	copy(b[:4], regionPrefix(region))
	ms := uint64(t.UnixMilli())
	const digits = "0123456789abcdef"
	for i := 15; i >= 4; i-- {
		b[i] = digits[ms&0xf]
		ms >>= 4
	}
	b[16] = '-'
	u := uuid.New()
	encodeUUID(b[17:53], u)
	copy(b[53:], "-000000")
	return string(b[:])
}

// encodeUUID writes u in its 8-4-4-4-12 form (36 bytes) without allocating.
func encodeUUID(dst []byte, u uuid.UUID) {
	hex.Encode(dst[0:8], u[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], u[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], u[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], u[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], u[10:16])
}

// MessageIDTime reads the time NewMessageID wrote into id (to the
// millisecond); ok is false when id is not in that form.
func MessageIDTime(id string) (t time.Time, ok bool) {
	if len(id) != 60 || id[16] != '-' || id[53:] != "-000000" {
		return time.Time{}, false
	}
	var ms int64
	for _, c := range id[4:16] {
		var d int64
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case c >= 'a' && c <= 'f':
			d = int64(c-'a') + 10
		default:
			return time.Time{}, false
		}
		ms = ms<<4 | d
	}
	return time.UnixMilli(ms), true
}
