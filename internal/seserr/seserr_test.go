package seserr

import "testing"

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
