package delivery

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/emersion/go-smtp"

	"sesame/internal/outcome"
)

// replyFailure turns a go-smtp client error into a Failure. Errors that are
// not replies (I/O, timeouts) are temporary: the receiver never said no.
func replyFailure(err error, mta string) *outcome.Failure {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return &outcome.Failure{Code: 451, Enhanced: "4.4.2", Text: fmt.Sprintf("connection to %s failed: %v", mta, err), MTA: mta}
	}
	f := &outcome.Failure{Code: se.Code, Text: se.Message, Permanent: se.Code >= 500, Remote: true, MTA: mta}
	if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
		e := se.EnhancedCode
		f.Enhanced = strconv.Itoa(e[0]) + "." + strconv.Itoa(e[1]) + "." + strconv.Itoa(e[2])
	}
	return f
}
