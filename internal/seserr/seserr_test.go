package seserr

import (
	"errors"
	"testing"
)

// A refusal's status in SendBulkEmail's results comes from the catalogue,
// not from its text.
func TestBulkStatus(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{DailyQuotaExceeded(), "ACCOUNT_DAILY_QUOTA_EXCEEDED"},
		{MaxSendRateExceeded(), "ACCOUNT_THROTTLED"},
		{NotVerified("us-east-1", []string{"a@example.com"}), "MESSAGE_REJECTED"},
		{TemplateDoesNotExist("t"), "TEMPLATE_NOT_FOUND"},
		{SendingPaused(), "ACCOUNT_SENDING_PAUSED"},
		{TemporaryFailure(), "TRANSIENT_FAILURE"},
		{InvalidTemplate("t", "why"), "INVALID_PARAMETER"},
	} {
		if got := c.err.BulkStatus(); got != c.want {
			t.Errorf("%s (%s): BulkStatus = %s, want %s", c.err.APICode, c.err.Message, got, c.want)
		}
	}
}

// A region sesame does not serve: AWS's code and status, AWS's opening
// sentence, and how to add the region.
func TestUnknownRegionSaysHowToAddIt(t *testing.T) {
	e := UnknownRegion("eu-central-1")
	if e.APICode != "SignatureDoesNotMatch" || e.QueryCode != "SignatureDoesNotMatch" || e.HTTPStatus != 403 {
		t.Errorf("code %s/%s, status %d", e.APICode, e.QueryCode, e.HTTPStatus)
	}
	want := "Credential should be scoped to a valid region, not 'eu-central-1'. " +
		"Region eu-central-1 is not served by this sesame; add it to `regions` in the configuration."
	if e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}

// A body that fails in a way the decoder does not describe by member (an
// unmarshaler's own error) gets the bare sentence; the cause is kept for
// the log.
func TestUnparsableBodyOtherCause(t *testing.T) {
	cause := errors.New("not a timestamp: x")
	e := UnparsableBody(cause)
	if e.Message != "Could not parse the request body." || e.APICode != "BadRequestException" || !errors.Is(e, cause) {
		t.Errorf("%+v", e)
	}
}
