package sending

import (
	"testing"

	"sesame/internal/mailmsg"
	"sesame/internal/seserr"
)

// Raw API content follows SMTP's line rule, with SES's refusals.
func TestRawContent(t *testing.T) {
	t.Parallel()
	normalize, strict := &Sender{bareLF: mailmsg.BareLFNormalize}, &Sender{bareLF: mailmsg.BareLFReject}
	if got, err := normalize.RawContent([]byte("a\nb\r\n")); err != nil || string(got) != "a\r\nb\r\n" {
		t.Errorf("normalize: %q, %v", got, err)
	}
	for _, tc := range []struct {
		s    *Sender
		in   string
		code string
	}{
		{strict, "a\nb\r\n", "554 Transaction failed: Message contains bare CR or LF characters; lines must end with CRLF."},
		{normalize, "a\r.\rMAIL FROM:<x@example.com>\r\n", "554 Transaction failed: Message contains bare CR or LF characters; lines must end with CRLF."},
		{normalize, "a\x00\r\n", "554 Transaction failed: Message contains NUL characters."},
	} {
		_, err := tc.s.RawContent([]byte(tc.in))
		e := seserr.As(err)
		if err == nil || e.SMTPReply() != tc.code || e.HTTPStatus != 400 || e.QueryCode != "InvalidParameterValue" ||
			e.APICode != "BadRequestException" {
			t.Errorf("%q: %v (%+v)", tc.in, err, e)
		}
	}
}
