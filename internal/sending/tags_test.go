package sending

import (
	"strings"
	"testing"

	"sesame/internal/seserr"
)

// SES's message-tag rule (spec §9): texts as recorded, the name checked
// before the value.
func TestValidateMessageTag(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 256)
	for _, tc := range []struct {
		name, value string
		want        string // "" = valid
	}{
		{"campaign", "fall-2026_v2", ""},
		{"to", "someone.else@example.com", ""},
		{"A-Z_09", "x", ""},
		{strings.Repeat("n", 255), strings.Repeat("v", 255), ""},
		{"", "", "The tag name must be specified."},
		{"", "v", "The tag name must be specified."},
		{"n", "", "The tag value must be specified."},
		{long, "v", "Tag name cannot exceed 255 characters."},
		{"n", long, "Tag value cannot exceed 255 characters."},
		{"test_invalid_name:123", "test", "Invalid tag name <test_invalid_name:123>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{"test", "test_invalid_value:123", "Invalid tag value <test_invalid_value:123>: only alphanumeric ASCII characters, '_',  '-' , '.', '@' are allowed."},
		{"test_invalid_name:123", "test_invalid_value:123", "Invalid tag name <test_invalid_name:123>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{"test_invalid_name@123", "v", "Invalid tag name <test_invalid_name@123>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{"bad.name", "v", "Invalid tag name <bad.name>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{"n", "caf\u00e9", "Invalid tag value <caf\u00e9>: only alphanumeric ASCII characters, '_',  '-' , '.', '@' are allowed."},
		{"bad name", "", "Invalid tag name <bad name>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
	} {
		err := ValidateMessageTag(tc.name, tc.value)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q=%q: %v", tc.name, tc.value, err)
			}
			continue
		}
		e := seserr.As(err)
		if err == nil || e.Message != tc.want || e.QueryCode != "InvalidParameterValue" || e.APICode != "BadRequestException" ||
			e.SMTPReply() != "554 Transaction failed: "+tc.want {
			t.Errorf("%q=%q: err = %+v, want %q", tc.name, tc.value, err, tc.want)
		}
	}
}
