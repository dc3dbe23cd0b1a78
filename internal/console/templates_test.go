package console

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"sesame/internal/api"
)

// The editor's preview goes through the API's own rendering: the MIME
// message it answers reads back as the parts, non-ASCII subject and
// quoted-printable bodies included.
func TestTemplatesRenderedParts(t *testing.T) {
	raw, err := api.TestRenderContent("t", aws.String("Grüße {{name}}"), aws.String("Hi {{name}},\nline two = ok"),
		aws.String(`<p style="color:red">Hi {{name}}</p>`), `{"name":"Zoë"}`, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseRendered(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := renderedMessage{Subject: "Grüße Zoë", Text: "Hi Zoë,\nline two = ok", HTML: `<p style="color:red">Hi Zoë</p>`,
		HasText: true, HasHTML: true}
	if m != want {
		t.Errorf("parsed %+v\nwant   %+v\nfrom:\n%s", m, want, raw)
	}

	raw, err = api.TestRenderContent("t", aws.String("s"), nil, aws.String("<b>only html</b>"), `{}`, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := parseRendered(raw); err != nil || m.HasText || m.HTML != "<b>only html</b>" {
		t.Errorf("an HTML-only render parsed as %+v, %v", m, err)
	}
}

// The preview's errors are SES's, in v2's code and words.
func TestTemplatesPreviewErrors(t *testing.T) {
	for _, c := range []struct{ data, html, want string }{
		{`{}`, "Hi {{name}}", "BadRequestException: Attribute 'name' is not present in the rendering data."},
		{`{"name":`, "Hi {{name}}", "BadRequestException: Unable to parse template data (invalid JSON)."},
		{`{}`, "Hi {{#if x}}", "BadRequestException: Template t is invalid: "},
	} {
		_, err := api.TestRenderContent("t", nil, nil, aws.String(c.html), c.data, time.Unix(0, 0))
		if err == nil {
			t.Errorf("%s over %s: no error", c.html, c.data)
			continue
		}
		if got := errorText(sesError(err)); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s over %s: %q, want %q", c.html, c.data, got, c.want)
		}
	}
}

func TestTemplatesSampleData(t *testing.T) {
	got := sampleData("Hello {{ name }}", "{{#if vip}}{{contact.first}} {{{contact.last}}}{{else}}x{{/if}} {{this}} {{amazonSESUnsubscribeUrl}}")
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	want := map[string]any{"name": "name", "contact": map[string]any{"first": "contact.first", "last": "contact.last"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("sample data %s, want %v", got, want)
	}
	if got := sampleData("no variables"); got != "{}" {
		t.Errorf("sample data of a template without variables: %s", got)
	}
}
