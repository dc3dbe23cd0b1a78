package smtpd

import (
	"bufio"
	"io"

	"sesame/internal/mailmsg"
	"sesame/internal/sending"
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
// Only <CRLF>.<CRLF> ends the data: SMTP smuggling (CVE-2023-51764 and
// kin) relies on servers reading <LF>.<LF>, <LF>.<CRLF> or <CR>.<CR> as the
// end. Lines follow mailmsg's rule: a bare CR or a NUL is refused; a bare
// LF ends a line and is stored as CRLF (Config.BareLF normalize, Postfix
// 3.9's smtpd_forbid_bare_newline = normalize) or refused (reject). As in
// Postfix, a lone "." line that ends in a bare LF or follows one is neither
// the end nor stored.
func (s *session) readData(w io.Writer) (refusal *seserr.Error, err error) {
	if s.batch == nil {
		s.batch = make([]byte, 0, dataBatch)
	}
	buf := s.batch[:0]
	limit := s.srv.cfg.MaxMessageBytes
	normalize := s.srv.cfg.BareLF == mailmsg.BareLFNormalize
	var size int64
	refuse := func(e *seserr.Error) {
		if refusal == nil {
			refusal = e
		}
	}
	// lineStart: the previous octets ended a line (or the data starts).
	// prevBareLF: that line ended in a bare LF.
	// midLine: the current line overflowed the read buffer; prevCR tells
	// whether that overflowing part ended in CR.
	lineStart, prevBareLF, midLine, prevCR := true, false, false, false
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
		if !crlf && !normalize {
			refuse(lineError(mailmsg.ErrBareLF))
		}
		if midLine {
			// The tail of an over-long line: it is refused already; only
			// where the line ends matters.
			midLine = false
			lineStart, prevBareLF = crlf || normalize, !crlf
			continue
		}
		if !crlf && !normalize {
			lineStart = false
			continue
		}
		text := line[:n-1]
		if crlf {
			text = line[:n-2]
		}
		wasLineStart, wasBareLF := lineStart, prevBareLF
		lineStart, prevBareLF = true, !crlf
		if wasLineStart && len(text) == 1 && text[0] == '.' {
			if crlf && !wasBareLF {
				break
			}
			continue // not the end, and not content either (Postfix)
		}
		if err := mailmsg.CheckLineText(text); err != nil {
			refuse(lineError(err))
		}
		if wasLineStart && len(text) > 0 && text[0] == '.' {
			text = text[1:]
		}
		if len(text)+2 > maxTextLine {
			refuse(seserr.LineTooLong())
		}
		if refusal != nil {
			continue // keep reading, stop storing
		}
		size += int64(len(text) + 2)
		if size > limit {
			refuse(seserr.MessageTooLong())
			continue
		}
		if len(buf)+len(text)+2 > cap(buf) {
			if _, err := w.Write(buf); err != nil {
				refuse(seserr.As(err))
			}
			buf = buf[:0]
		}
		buf = append(buf, text...)
		buf = append(buf, '\r', '\n')
	}
	if refusal == nil && len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			refuse(seserr.As(err))
		}
	}
	return refusal, nil
}

// lineError is SES's face of a mailmsg line-rule error.
func lineError(err error) *seserr.Error { return sending.LineError(err) }
