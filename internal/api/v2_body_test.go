package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// A v2 body of the wrong shape is answered in the API's member names, never
// in Go's decoder's words (which named sesame's Go types: "json: cannot
// unmarshal object into Go struct field templateV2.Content.Template…"). The
// AWS SDK for JavaScript sends a TemplateData given as an object unchanged,
// so that mistake is told what TemplateData must be.
func TestV2BodyErrorsInSESWords(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	const (
		send    = "/v2/email/outbound-emails"
		prefix  = "Could not parse the request body: "
		asText  = "a string (the data as JSON text)"
		dest    = `"Destination":{"ToAddresses":["to@example.com"]}`
		fromArg = `"FromEmailAddress":"sender@example.com",`
	)
	for _, tc := range []struct{ path, body, want string }{
		{send, `{` + fromArg + dest + `,"Content":{"Template":{"TemplateName":"t","TemplateData":{"name":"Ann"}}}}`,
			prefix + "Content.Template.TemplateData must be " + asText + ", not an object."},
		{"/v2/email/templates/t/render", `{"TemplateData":{"name":"Ann"}}`, prefix + "TemplateData must be " + asText + ", not an object."},
		{"/v2/email/outbound-bulk-emails", `{` + fromArg + `"DefaultContent":{"Template":{"TemplateName":"t","TemplateData":"{}"}},` +
			`"BulkEmailEntries":[{"Destination":{"ToAddresses":["a@example.com"]},` +
			`"ReplacementEmailContent":{"ReplacementTemplate":{"ReplacementTemplateData":{"name":"Ann"}}}}]}`,
			prefix + "BulkEmailEntries.ReplacementEmailContent.ReplacementTemplate.ReplacementTemplateData must be " + asText + ", not an object."},
		{send, `{"FromEmailAddress":5}`, prefix + "FromEmailAddress must be a string, not a number."},
		{send, `{` + fromArg + `"Destination":{"ToAddresses":"to@example.com"}}`, prefix + "Destination.ToAddresses must be a list, not a string."},
		{send, `{` + fromArg + dest + `,"Content":"hello"}`, prefix + "Content must be an object, not a string."},
		{send, `[1]`, prefix + "it must be a JSON object, not a list."},
		{send, `{bad`, prefix + "it is not valid JSON (at byte 2)."},
		{send, `{"FromEmailAddress":"a@example.com"`, prefix + "it is not valid JSON (at byte 35)."},
	} {
		status, body := e.signedCall(t, "POST", tc.path, "application/json", tc.body)
		var got struct{ Message string }
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: %s", tc.body, body)
		}
		if status != 400 || got.Message != tc.want {
			t.Errorf("%s %s:\n got %d %q\nwant 400 %q", tc.path, tc.body, status, got.Message, tc.want)
		}
		if strings.Contains(body, "Go struct") || strings.Contains(body, "json:") {
			t.Errorf("%s: Go's decoder's words reach the client: %s", tc.body, body)
		}
	}
}
