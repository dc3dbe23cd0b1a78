package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"

	"github.com/emersion/go-message/textproto"
)

// Off the hot path (sending's scan and delivery's strip work on bytes, for
// speed), a header section is found by HeaderSection or ReadHeaderSection
// and its fields read by Fields, so that every reader of a stored or
// received message agrees on where the header ends and what a field is.

// HeaderSection returns msg's header section through the blank line that
// ends it, or all of msg when there is none (a message without a body).
func HeaderSection(msg []byte) []byte {
	if n := sectionEnd(msg, 0); n >= 0 {
		return msg[:n]
	}
	return msg
}

// ReadHeaderSection reads what HeaderSection returns from r, reading at
// most max bytes (r may be read past the section). When max is reached
// before the blank line, the section read is cut back to its last whole
// line: a field cut mid-line would read as a shorter value that was never
// written. The end of r before a blank line is not an error.
func ReadHeaderSection(r io.Reader, max int) ([]byte, error) {
	const chunk = 4 << 10
	var buf []byte
	from := 0 // where HeaderEnd resumes: the last line end read, or 0
	for len(buf) < max {
		n := min(chunk, max-len(buf))
		buf = slices.Grow(buf, n)
		read := len(buf)
		m, err := r.Read(buf[read : read+n])
		buf = buf[:read+m]
		if end := sectionEnd(buf, from); end >= 0 {
			return buf[:end], nil
		}
		if i := bytes.LastIndexByte(buf[read:], '\n'); i >= 0 {
			// The line after it may be a blank one still unread.
			from = read + i
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return buf[:bytes.LastIndexByte(buf, '\n')+1], nil
}

// sectionEnd is the length of the header section through its blank line,
// or -1 when b holds no blank line after from.
func sectionEnd(b []byte, from int) int {
	n := HeaderEnd(b, from)
	switch {
	case n < 0:
		return -1
	case b[n] == '\n':
		return n + 1
	default: // "\r\n"
		return n + 2
	}
}

// Fields reads the fields of a header section (or of a whole message: the
// blank line ends the read), CRLF or LF line ends. It is lenient, as the
// readers of a message a sender wrote must be: a line that is not a field
// ends the section, and the fields before it count.
func Fields(section []byte) textproto.Header {
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(section)))
	return h
}
