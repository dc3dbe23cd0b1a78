package mailmsg

import "bytes"

// MaxNameLen is the longest header name sesame looks up (the longest of the
// unique fields and the control headers); longer names are never one.
const MaxNameLen = 40

// HeaderEnd returns the length of the header section (through the last
// field's line ending) when b holds the blank line that ends it, else -1.
func HeaderEnd(b []byte, from int) int {
	// A blank first line means an empty header section.
	if from == 0 {
		if bytes.HasPrefix(b, []byte("\r\n")) || bytes.HasPrefix(b, []byte("\n")) {
			return 0
		}
	}
	for i := from; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		p := i + j + 1 // start of the next line
		if p < len(b) && b[p] == '\n' {
			return p
		}
		if p+1 < len(b) && b[p] == '\r' && b[p+1] == '\n' {
			return p
		}
		i = p
	}
}

// FieldEnd returns the length of the field at the start of sec, through the
// line ending of its last continuation line (RFC 5322 §2.2.3 folding).
func FieldEnd(sec []byte) int {
	i := 0
	for {
		j := bytes.IndexByte(sec[i:], '\n')
		if j < 0 {
			return len(sec)
		}
		i += j + 1
		if i == len(sec) || (sec[i] != ' ' && sec[i] != '\t') {
			return i
		}
	}
}

// SES's control headers (spec §9): fields a client puts in a message to
// tell SES how to send it, which SES reads and removes before delivery and
// keeps out of the DKIM signature. They work the same over SMTP and in a
// raw API message:
//
//   - X-SES-CONFIGURATION-SET: <name> — the message's configuration set
//     (its sending switch, delivery options, suppression options), unless
//     the API call named one;
//   - X-SES-MESSAGE-TAGS: n1=v1, n2=v2 — the message tags, unless the API
//     call gave tags (SES never merges the two);
//   - X-SES-SOURCE-ARN, X-SES-FROM-ARN, X-SES-RETURN-PATH-ARN — sending
//     authorization: the identity ARN a delegate sends the envelope
//     sender, the From address, the Return-Path as (sending/authorize.go),
//     unless the API call named its own;
//   - X-SES-LIST-MANAGEMENT-OPTIONS: <list>; topic=<topic> — the contact
//     list the message is sent for (sending.ParseListManagementOptions).
//
// The first instance of a field is the one used. Sending reads them once,
// in its header scan; the spool keeps the message as received; delivery
// removes them on the way out (StripForDelivery), in capture and MX mode
// alike, before signing.
var controlHeaders = map[string]bool{
	"x-ses-configuration-set":       true,
	"x-ses-message-tags":            true,
	"x-ses-source-arn":              true,
	"x-ses-from-arn":                true,
	"x-ses-return-path-arn":         true,
	"x-ses-list-management-options": true,
}

// IsControlHeader reports whether lower (a lower-case field name) is one of
// SES's control headers.
func IsControlHeader(lower []byte) bool {
	return len(lower) > 6 && string(lower[:6]) == "x-ses-" && controlHeaders[string(lower)]
}

// StripForDelivery returns msg as it leaves sesame: without SES's control
// header fields, without a Return-Path field (the receiver adds its own,
// the envelope sender), and without the client's own Message-ID and Date,
// which SES overrides (spec §9): Submit puts sesame's in front of every message,
// so the first Message-ID and the first Date are kept and any later one is
// the client's (the header rules allow one of each, so there is at most
// one more). Whole fields go, continuation lines included; names match
// without regard to case. The body is never touched, and the header
// section ends where sending's scan (HeaderEnd) ends it (the blank line, or the first
// line that is not a field). The spool keeps the message as received;
// events can still report the client's headers. A message with nothing to
// remove is returned as is, without a copy.
func StripForDelivery(msg []byte) []byte {
	end := HeaderEnd(msg, 0)
	if end < 0 {
		end = len(msg) // all header
	}
	// First pass: is there anything to remove? (No allocation.)
	found := false
	forEachField(msg[:end], func(_ []byte, drop bool) bool {
		found = drop
		return !found
	})
	if !found {
		return msg
	}
	out := make([]byte, 0, len(msg))
	n := 0 // bytes of msg the walk has passed
	forEachField(msg[:end], func(field []byte, drop bool) bool {
		if !drop {
			out = append(out, field...)
		}
		n += len(field)
		return true
	})
	return append(out, msg[n:]...)
}

// forEachField calls fn with each field of a header section, in order,
// and whether StripForDelivery drops it, until fn returns false or the
// section ends (its end, or a line that is not a field: what follows is
// body to sending's scan, and so to this one).
func forEachField(sec []byte, fn func(field []byte, drop bool) bool) {
	var seenID, seenDate bool
	for len(sec) > 0 {
		n := FieldEnd(sec)
		field := sec[:n]
		colon := bytes.IndexByte(field, ':')
		if colon <= 0 || bytes.IndexByte(field[:colon], '\n') >= 0 {
			return
		}
		drop := false
		switch lowerName(field[:colon]) {
		case "":
		case "message-id":
			drop, seenID = seenID, true
		case "date":
			drop, seenDate = seenDate, true
		case "return-path":
			// The receiver records the envelope sender as Return-Path;
			// SES's recipients never see the one a client wrote.
			drop = true
		default:
			drop = true // a control header
		}
		if !fn(field, drop) {
			return
		}
		sec = sec[n:]
	}
}

// lowerName returns a field name (as written, maybe with trailing blanks
// before the colon) in lower case when it is one StripForDelivery may
// drop — a control header, message-id, date or return-path — and ""
// otherwise, without allocating.
func lowerName(name []byte) string {
	name = bytes.TrimRight(name, " \t")
	if len(name) > MaxNameLen || len(name) < 4 {
		return ""
	}
	var lower [MaxNameLen]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	l := lower[:len(name)]
	switch {
	case string(l) == "message-id":
		return "message-id"
	case string(l) == "date":
		return "date"
	case string(l) == "return-path":
		return "return-path"
	case IsControlHeader(l):
		return "control"
	}
	return ""
}
