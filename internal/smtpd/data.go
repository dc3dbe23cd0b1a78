package smtpd

import (
	"bufio"
	"bytes"
	"io"

	"sesame/internal/seserr"
)

const (
	// maxTextLine is RFC 5321 §4.5.3.1.6's limit on a text line, CRLF included.
	maxTextLine = 1000
	// dataBatch is how many bytes are gathered before one Draft.Write.
	dataBatch = 64 << 10
)

// readData reads the message text after the 354 reply up to the end of data
// into w, undoing dot-stuffing (RFC 5321 §4.5.2). It always reads to the end
// of data, so the dialogue stays in step; a message that breaks a rule is
// read to the end, not stored, and reported as refusal (the first rule it
// broke). err is an I/O failure: the session cannot go on.
//
// Only <CRLF>.<CRLF> ends the data. A bare CR or LF never does and makes the
// message refused: SMTP smuggling (CVE-2023-51764 and kin) relies on servers
// reading <LF>.<LF> or <LF>.<CRLF> as the end, so a message that contains
// one is never passed on.
func (s *session) readData(w io.Writer) (refusal *seserr.Error, err error) {
	if s.batch == nil {
		s.batch = make([]byte, 0, dataBatch)
	}
	buf := s.batch[:0]
	limit := s.srv.cfg.MaxMessageBytes
	var size int64
	refuse := func(e *seserr.Error) {
		if refusal == nil {
			refusal = e
		}
	}
	// lineStart: the previous octets were a CRLF (or the data's start).
	// midLine: the current line overflowed the read buffer; prevCR tells
	// whether that overflowing part ended in CR.
	lineStart, midLine, prevCR := true, false, false
	for {
		line, err := s.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			refuse(seserr.LineTooLong())
			midLine, prevCR = true, line[len(line)-1] == '\r'
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		n := len(line)
		crlf := n >= 2 && line[n-2] == '\r' || n == 1 && midLine && prevCR
		if midLine {
			// The tail of an over-long line: it is refused already; only
			// where the line ends matters.
			midLine, lineStart = false, crlf
			if !crlf {
				refuse(seserr.BareLineEnding())
			}
			continue
		}
		if !crlf {
			refuse(seserr.BareLineEnding())
			lineStart = false
			continue
		}
		if n == 3 && line[0] == '.' && lineStart {
			break
		}
		wasLineStart := lineStart
		lineStart = true
		text := line[:n-2]
		if bytes.IndexByte(text, '\r') >= 0 {
			refuse(seserr.BareLineEnding())
		}
		if bytes.IndexByte(text, 0) >= 0 {
			refuse(seserr.NULByte())
		}
		if wasLineStart && line[0] == '.' {
			line = line[1:]
		}
		if len(line) > maxTextLine {
			refuse(seserr.LineTooLong())
		}
		if refusal != nil {
			continue // keep reading, stop storing
		}
		size += int64(len(line))
		if size > limit {
			refuse(seserr.MessageTooLong())
			continue
		}
		if len(buf)+len(line) > cap(buf) {
			if _, err := w.Write(buf); err != nil {
				refuse(seserr.As(err))
			}
			buf = buf[:0]
		}
		buf = append(buf, line...)
	}
	if refusal == nil && len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			refuse(seserr.As(err))
		}
	}
	return refusal, nil
}
