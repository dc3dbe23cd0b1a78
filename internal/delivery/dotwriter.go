package delivery

import (
	"bufio"
	"bytes"
)

// dotWriter writes a message as SMTP DATA (RFC 5321 §4.5.2): every line
// ends in CRLF and a line starting with "." gets another. Unlike
// textproto's DotWriter, which passes a lone CR through (so "\r.\r" reaches
// the receiver unstuffed, an SMTP smuggling vector against receivers that
// end lines at a bare CR), it never emits a bare CR or LF, whatever the
// spool holds: CRLF, a lone CR and a lone LF each end a line and go out as
// CRLF, and the dot-stuffing follows those line ends.
type dotWriter struct {
	w     *bufio.Writer
	state int
}

const (
	dotBOL  = iota // at the start of a line
	dotData        // inside a line
	dotCR          // just after a CR, sent as CRLF: an LF next is the same line end
)

func newDotWriter(w *bufio.Writer) *dotWriter { return &dotWriter{w: w} }

func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		c := p[0]
		switch {
		case c == '\n' && d.state == dotCR:
			d.state = dotBOL
			p = p[1:]
			continue
		case c == '\r' || c == '\n':
			if _, err := d.w.WriteString("\r\n"); err != nil {
				return 0, err
			}
			d.state = dotBOL
			if c == '\r' {
				d.state = dotCR
			}
			p = p[1:]
			continue
		}
		if d.state != dotData && c == '.' {
			if err := d.w.WriteByte('.'); err != nil {
				return 0, err
			}
		}
		d.state = dotData
		// The rest of the line goes out in one piece.
		end := bytes.IndexAny(p, "\r\n")
		if end < 0 {
			end = len(p)
		}
		if _, err := d.w.Write(p[:end]); err != nil {
			return 0, err
		}
		p = p[end:]
	}
	return n, nil
}

// Close ends an unfinished last line and writes the final ".", then
// flushes.
func (d *dotWriter) Close() error {
	if d.state == dotData {
		if _, err := d.w.WriteString("\r\n"); err != nil {
			return err
		}
	}
	if _, err := d.w.WriteString(".\r\n"); err != nil {
		return err
	}
	return d.w.Flush()
}
