package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func TestTemplatesV2(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	create := func(name, subject string) error {
		_, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String(name),
			TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String(subject), Text: aws.String("Dear {{name}},"),
				Html: aws.String("<h1>Hello {{name}}</h1>{{#if vip}}<p>VIP</p>{{/if}}")}})
		return err
	}
	if err := create("welcome", "Welcome, {{name}}!"); err != nil {
		t.Fatal(err)
	}
	wantErrCode(t, create("welcome", "x"), "AlreadyExistsException")
	wantErrCode(t, create("broken", "{{#if x}}never closed"), "BadRequestException")
	wantErrCode(t, create("huge", strings.Repeat("x", maxTemplateBytes)), "BadRequestException")

	got, err := e.v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("welcome")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.TemplateName) != "welcome" || aws.ToString(got.TemplateContent.Subject) != "Welcome, {{name}}!" ||
		aws.ToString(got.TemplateContent.Text) != "Dear {{name}}," {
		t.Errorf("GetEmailTemplate = %+v", got.TemplateContent)
	}
	_, err = e.v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")

	if _, err := e.v2.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("welcome"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("Hi {{name}}"), Html: aws.String("<b>{{name}}</b>")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("nope"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s")}})
	wantErrCode(t, err, "NotFoundException")

	r, err := e.v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("welcome"),
		TemplateData: aws.String(`{"name":"<Ann>"}`)})
	if err != nil {
		t.Fatal(err)
	}
	out := aws.ToString(r.RenderedTemplate)
	for _, want := range []string{"\r\nSubject: Hi <Ann>\r\n", "MIME-Version: 1.0\r\n", "Content-Type: text/html; charset=UTF-8\r\n", "<b><Ann></b>"} {
		if !strings.Contains(out, want) {
			t.Errorf("RenderedTemplate lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "Date: ") {
		t.Errorf("RenderedTemplate does not start with Date:\n%s", out)
	}
	_, err = e.v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{}`)})
	wantErrCode(t, err, "BadRequestException")
	if !strings.Contains(err.Error(), "Attribute 'name' is not present in the rendering data.") {
		t.Errorf("missing attribute error = %v", err)
	}
	_, err = e.v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("welcome"), TemplateData: aws.String(`{`)})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantErrCode(t, err, "NotFoundException")

	// Listing pages by name.
	for i := range 4 {
		if err := create(fmt.Sprintf("t%d", i), "s"); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var token *string
	for pages := 0; ; pages++ {
		l, err := e.v2.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range l.TemplatesMetadata {
			if m.CreatedTimestamp == nil || m.CreatedTimestamp.IsZero() {
				t.Errorf("%s: no CreatedTimestamp", aws.ToString(m.TemplateName))
			}
			names = append(names, aws.ToString(m.TemplateName))
		}
		if token = l.NextToken; token == nil {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
	}
	if strings.Join(names, ",") != "t0,t1,t2,t3,welcome" {
		t.Errorf("listed %v", names)
	}

	if _, err := e.v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("welcome")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("welcome")})
	wantErrCode(t, err, "NotFoundException")
}

func TestTemplatesV1(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	create := func(name, subject string) error {
		_, err := e.v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &v1types.Template{TemplateName: aws.String(name),
			SubjectPart: aws.String(subject), TextPart: aws.String("{{#each items}}{{@index}}:{{title}} {{/each}}")}})
		return err
	}
	if err := create("order", "Order {{id}}"); err != nil {
		t.Fatal(err)
	}
	wantErrCode(t, create("order", "x"), "AlreadyExists")
	wantErrCode(t, create("bad", "{{/if}}"), "InvalidTemplate")

	got, err := e.v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("order")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Template.SubjectPart) != "Order {{id}}" || got.Template.HtmlPart != nil {
		t.Errorf("GetTemplate = %+v", got.Template)
	}
	_, err = e.v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("nope")})
	wantErrCode(t, err, "TemplateDoesNotExist")
	_, err = e.v1.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: &v1types.Template{TemplateName: aws.String("nope"), SubjectPart: aws.String("s")}})
	wantErrCode(t, err, "TemplateDoesNotExist")

	r, err := e.v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("order"),
		TemplateData: aws.String(`{"id":42,"items":[{"title":"a"},{"title":"b"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out := aws.ToString(r.RenderedTemplate); !strings.Contains(out, "Subject: Order 42\r\n") || !strings.Contains(out, "0:a 1:b=20") { // quoted-printable keeps the trailing space
		t.Errorf("RenderedTemplate:\n%s", out)
	}
	_, err = e.v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("order"), TemplateData: aws.String(`{"items":[]}`)})
	wantErrCode(t, err, "MissingRenderingAttribute")
	_, err = e.v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("order"), TemplateData: aws.String(`not json`)})
	wantErrCode(t, err, "InvalidRenderingParameter")
	_, err = e.v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantErrCode(t, err, "TemplateDoesNotExist")

	if err := create("another", "s"); err != nil {
		t.Fatal(err)
	}
	l, err := e.v1.ListTemplates(ctx, &ses.ListTemplatesInput{MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.TemplatesMetadata) != 1 || aws.ToString(l.TemplatesMetadata[0].Name) != "another" || l.NextToken == nil ||
		l.TemplatesMetadata[0].CreatedTimestamp == nil {
		t.Fatalf("ListTemplates = %+v", l)
	}
	l, err = e.v1.ListTemplates(ctx, &ses.ListTemplatesInput{NextToken: l.NextToken})
	if err != nil || len(l.TemplatesMetadata) != 1 || aws.ToString(l.TemplatesMetadata[0].Name) != "order" || l.NextToken != nil {
		t.Fatalf("second page = %+v, %v", l, err)
	}
	if _, err := e.v1.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("order")}); err != nil {
		t.Fatal(err)
	}
	// v1 DeleteTemplate is idempotent.
	if _, err := e.v1.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("order")}); err != nil {
		t.Fatal(err)
	}
}

// Template data that is not a JSON object gets SES's one answer, in v1
// (InvalidRenderingParameter) and v2 (BadRequest), never the JSON
// decoder's words, which reached clients before.
func TestTemplateDataErrorsInSESWords(t *testing.T) {
	t.Parallel()
	e := newSendEnv(t, true)
	ctx := context.Background()
	if _, err := e.v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &v1types.Template{TemplateName: aws.String("t"),
		SubjectPart: aws.String("Hi {{name}}"), TextPart: aws.String("x")}}); err != nil {
		t.Fatal(err)
	}
	const want = "Unable to parse template data (invalid JSON)."
	for _, data := range []string{
		`{`,                                // was "unexpected EOF"
		`not json`,                         // was "invalid character 'o' in literal null (expecting 'u')"
		`{"name":}`,                        // was "invalid character '}' looking for beginning of value"
		`{"name":"a"} {"name":"b"}`,        // was "content after the JSON value"
		`{"name":"a",}`,                    // was "invalid character '}' looking for beginning of object key string"
		strings.Repeat("[", 300),           // was "nested too deeply"
		`["name"]`, `"name"`, `42`, `null`, // JSON, not an object
		``,
	} {
		_, err := e.v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("t"), TemplateData: aws.String(data)})
		if errCode(err) != "InvalidRenderingParameter" || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("v1 TestRenderTemplate(%.20q): %v", data, err)
		}
		_, err = e.v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("t"), TemplateData: aws.String(data)})
		if errCode(err) != "BadRequestException" || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("v2 TestRenderEmailTemplate(%.20q): %v", data, err)
		}
		_, err = e.v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
			Destination: &v2types.Destination{ToAddresses: []string{"to@example.com"}},
			Content:     &v2types.EmailContent{Template: &v2types.Template{TemplateName: aws.String("t"), TemplateData: aws.String(data)}}})
		if errCode(err) != "BadRequestException" || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("v2 SendEmail(%.20q): %v", data, err)
		}
	}
}
