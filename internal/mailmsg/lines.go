package mailmsg

import (
	"bytes"
	"errors"
	"fmt"
)

// The line-ending rule for message content, one for SMTP DATA and for raw
// API content (SendRawEmail, SendEmail Content.Raw): every line ends in
// CRLF (RFC 5322 §2.3). A bare LF is taken as a line end and becomes CRLF
// (BareLFNormalize, Postfix 3.9's default smtpd_forbid_bare_newline =
// normalize) or is refused (BareLFReject). A bare CR and a NUL are refused
// either way: no client sends them by accident, and a bare CR is what SMTP
// smuggling through a lenient relay rides on.
//
// The SMTP reader applies the same rule line by line (it must also find the
// end of data, which only <CRLF>.<CRLF> marks); NormalizeLines applies it to
// a whole message.

// BareLF says what becomes of a bare LF in message content.
type BareLF uint8

const (
	// BareLFNormalize treats a bare LF as a line end and stores CRLF.
	BareLFNormalize BareLF = iota
	// BareLFReject refuses a message that has one.
	BareLFReject
)

// ParseBareLF reads the config value: "normalize" (or "") or "reject".
func ParseBareLF(s string) (BareLF, error) {
	switch s {
	case "", "normalize":
		return BareLFNormalize, nil
	case "reject":
		return BareLFReject, nil
	}
	return 0, fmt.Errorf("must be \"normalize\" or \"reject\", got %q", s)
}

func (b BareLF) String() string {
	if b == BareLFReject {
		return "reject"
	}
	return "normalize"
}

// The ways content breaks the rule; callers map them to SES's replies.
var (
	ErrBareCR = errors.New("mailmsg: bare CR in message content")
	ErrBareLF = errors.New("mailmsg: bare LF in message content")
	ErrNUL    = errors.New("mailmsg: NUL in message content")
)

// CheckLineText checks one line's text, its line ending removed: a CR or a
// NUL in it breaks the rule.
func CheckLineText(text []byte) error {
	if bytes.IndexByte(text, '\r') >= 0 {
		return ErrBareCR
	}
	if bytes.IndexByte(text, 0) >= 0 {
		return ErrNUL
	}
	return nil
}

// NormalizeLines applies the rule to a whole message: it returns msg
// itself when every line already ends in CRLF, a copy with CRLF line ends
// when it has bare LFs and bareLF is BareLFNormalize, or the first error.
// A last line without any line end is kept as it is.
func NormalizeLines(msg []byte, bareLF BareLF) ([]byte, error) {
	var out []byte // nil until a bare LF needs a copy
	rest := msg
	for len(rest) > 0 {
		text, end := rest, len(rest)
		lf := bytes.IndexByte(rest, '\n')
		if lf >= 0 {
			text, end = rest[:lf], lf+1
		}
		crlf := lf > 0 && rest[lf-1] == '\r'
		if crlf {
			text = text[:len(text)-1]
		}
		if err := CheckLineText(text); err != nil {
			return nil, err
		}
		if lf >= 0 && !crlf {
			if bareLF == BareLFReject {
				return nil, ErrBareLF
			}
			if out == nil {
				out = make([]byte, 0, len(msg)+len(msg)/32+2)
				out = append(out, msg[:len(msg)-len(rest)]...)
			}
			out = append(out, text...)
			out = append(out, '\r', '\n')
		} else if out != nil {
			out = append(out, rest[:end]...)
		}
		rest = rest[end:]
	}
	if out == nil {
		return msg, nil
	}
	return out, nil
}
