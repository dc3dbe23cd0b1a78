package sending

import (
	"bytes"
	"errors"
	"io"

	"github.com/emersion/go-message"
)

// SES scans what it accepts for viruses: a message with one is accepted (the
// caller gets its MessageId or a 250), never delivered, and becomes a Reject
// event with reason "Bad content". sesame has no virus scanner; it knows the
// one file every scanner knows, EICAR's test file, so that an application's
// handling of Reject events can be tested as against SES. The string is
// found in the raw message (7bit, 8bit and most quoted-printable parts) or,
// when the message has base64 parts, in any decoded part.

// eicar is the EICAR anti-virus test file.
var eicar = []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)

// RejectReason is the reason of SES's Reject events.
const RejectReason = "Bad content"

// hasVirus reads the message open gives (size bytes; once, and a second
// time when it has base64 parts) and says whether it holds EICAR's test
// file.
func hasVirus(open func() io.Reader, size int64) (bool, error) {
	found, base64, err := scanRaw(open(), size)
	if err != nil || found || !base64 {
		return found, err
	}
	e, err := message.Read(open())
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return false, nil // not MIME go-message reads: the raw scan is all there is
	}
	// A part that does not decode carries nothing; the walk stops at the
	// first part with the file.
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil || part.MultipartReader() != nil {
			return nil
		}
		if f, _, _ := scanRaw(part.Body, size); f {
			return errFound
		}
		return nil
	})
	return errors.Is(err, errFound), nil
}

var errFound = errors.New("found")

// scanRaw looks for the test file in r's bytes (about size of them), across
// reads, and notes whether "base64" appears (in any case) on the way.
func scanRaw(r io.Reader, size int64) (found, base64 bool, err error) {
	buf := make([]byte, min(64<<10, size+int64(len(eicar))))
	keep := 0 // bytes carried over from the last read, so no match is cut
	for {
		n, rerr := r.Read(buf[keep:])
		win := buf[:keep+n]
		if bytes.Contains(win, eicar) {
			return true, base64, nil
		}
		base64 = base64 || bytes.Contains(win, []byte("ase64")) || bytes.Contains(win, []byte("ASE64"))
		if rerr == io.EOF {
			return false, base64, nil
		}
		if rerr != nil {
			return false, base64, rerr
		}
		keep = min(len(eicar)-1, len(win))
		copy(buf, win[len(win)-keep:])
	}
}
