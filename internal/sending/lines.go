package sending

import (
	"errors"

	"sesame/internal/mailmsg"
	"sesame/internal/seserr"
)

// RawContent applies to raw API content (v1 SendRawEmail's
// RawMessage.Data, v2 SendEmail's Content.Raw.Data) the line-ending rule
// SMTP's DATA applies (mailmsg's): a bare LF becomes CRLF, or refuses the
// message when [smtp] bare_lf is "reject"; a bare CR or a NUL refuses it.
// Raw content is the one way an API caller hands sesame message bytes;
// composed and rendered messages are sesame's own and always CRLF.
func (s *Sender) RawContent(msg []byte) ([]byte, error) {
	out, err := mailmsg.NormalizeLines(msg, s.bareLF)
	if err != nil {
		return nil, LineError(err)
	}
	return out, nil
}

// LineError is SES's face of a mailmsg line-rule error, the same for SMTP
// and the API.
func LineError(err error) *seserr.Error {
	if errors.Is(err, mailmsg.ErrNUL) {
		return seserr.NULByte()
	}
	return seserr.BareLineEnding()
}
