package delivery

import (
	"errors"
	"testing"

	"github.com/emersion/go-smtp"

	"sesame/internal/outcome"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		f        outcome.Failure
		typ, sub string
	}{
		{outcome.Failure{Code: 550, Enhanced: "5.1.1", Text: "no such user", Permanent: true}, outcome.BouncePermanent, outcome.SubNoEmail},
		{outcome.Failure{Code: 550, Enhanced: "5.1.10", Text: "RESOLVER.ADR.RecipientNotFound", Permanent: true}, outcome.BouncePermanent, outcome.SubNoEmail},
		{outcome.Failure{Code: 550, Text: "User unknown", Permanent: true}, outcome.BouncePermanent, outcome.SubNoEmail},
		{outcome.Failure{Code: 552, Enhanced: "5.2.2", Text: "mailbox full", Permanent: true}, outcome.BounceTransient, outcome.SubMailboxFull},
		{outcome.Failure{Code: 552, Enhanced: "5.3.4", Text: "message too big", Permanent: true}, outcome.BounceTransient, outcome.SubMessageTooLarge},
		{outcome.Failure{Code: 554, Enhanced: "5.7.1", Text: "message content rejected as spam", Permanent: true}, outcome.BounceTransient, outcome.SubContentRejected},
		{outcome.Failure{Code: 554, Enhanced: "5.7.1", Text: "relaying denied", Permanent: true}, outcome.BouncePermanent, outcome.SubGeneral},
		{outcome.Failure{Code: 556, Enhanced: "5.1.10", Text: "null MX", Permanent: true}, outcome.BouncePermanent, outcome.SubGeneral},
		{outcome.Failure{Code: 451, Enhanced: "4.4.2", Text: "connection refused"}, outcome.BounceTransient, outcome.SubGeneral},
		{outcome.Failure{Code: 452, Enhanced: "4.2.2", Text: "over quota"}, outcome.BounceTransient, outcome.SubMailboxFull},
	}
	for _, tc := range tests {
		t.Run(tc.f.Error(), func(t *testing.T) {
			typ, sub := outcome.Classify(&tc.f)
			if typ != tc.typ || sub != tc.sub {
				t.Errorf("Classify = %s/%s, want %s/%s", typ, sub, tc.typ, tc.sub)
			}
		})
	}
}

func TestReplyFailure(t *testing.T) {
	f := replyFailure(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "gone"}, "mx.test")
	if !f.Permanent || !f.Remote || f.Status() != "5.1.1" || f.Diagnostic() != "smtp; 550 5.1.1 gone" {
		t.Errorf("reply: %+v", f)
	}
	f = replyFailure(&smtp.SMTPError{Code: 421, Message: "busy"}, "mx.test")
	if f.Permanent || f.Status() != "4.0.0" {
		t.Errorf("4xx without enhanced code: %+v", f)
	}
	f = replyFailure(errors.New("read: connection reset"), "mx.test")
	if f.Permanent || f.Remote || f.Status() != "4.4.2" {
		t.Errorf("I/O error: %+v", f)
	}
}

func TestDelayType(t *testing.T) {
	for _, tc := range []struct {
		f    outcome.Failure
		want string
	}{
		{outcome.Failure{Code: 451, Enhanced: "4.7.1", Text: "greylisted", Remote: true}, outcome.DelayRecipientServerError},
		{outcome.Failure{Code: 452, Enhanced: "4.2.2", Text: "full", Remote: true}, outcome.DelayMailboxFull},
		{outcome.Failure{Code: 451, Text: "spam score too high", Remote: true}, outcome.DelaySpamDetected},
		{outcome.Failure{Code: 451, Enhanced: "4.4.1", Text: "connection refused"}, outcome.DelayTransientCommunicationFailure},
		{outcome.Failure{Code: 451, Enhanced: "4.4.3", Text: "MX lookup failed"}, outcome.DelayGeneral},
		{outcome.Failure{Code: 451, Enhanced: "4.3.0", Text: "local error"}, outcome.DelayInternalFailure},
	} {
		if got := outcome.DelayType(&tc.f); got != tc.want {
			t.Errorf("DelayType(%s) = %s, want %s", tc.f.Error(), got, tc.want)
		}
	}
}
