package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/testenv"
)

// TestAPITemplatesV2 drives Create/Get/List/Update/DeleteEmailTemplate and
// TestRenderEmailTemplate with the real sesv2 client.
func TestAPITemplatesV2(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	create := func(name string, c types.EmailTemplateContent) error {
		_, err := v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String(name), TemplateContent: &c})
		return err
	}
	order := types.EmailTemplateContent{
		Subject: aws.String("Order {{order.id}} for {{name}}"),
		Text: aws.String("{{#*inline \"line\"}}- {{this}}\n{{/inline}}" +
			"{{#each items}}{{> line}}{{/each}}{{#if vip}}VIP{{else}}regular{{/if}}"),
		Html: aws.String("<h1>{{name}}</h1>{{#each items}}<li>{{this}}</li>{{/each}}"),
	}
	if err := create("order", order); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b-template", "a-template"} {
		if err := create(n, types.EmailTemplateContent{Subject: aws.String(n), Text: aws.String("x")}); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, create("order", order), "AlreadyExistsException")
	wantCode(t, create("broken", types.EmailTemplateContent{Subject: aws.String("{{#if x}}unclosed"), Text: aws.String("t")}), "BadRequestException")
	wantCode(t, create("huge", types.EmailTemplateContent{Subject: aws.String("s"), Text: aws.String(strings.Repeat("x", 600<<10))}), "BadRequestException")

	got, err := v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("order")})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.TemplateContent; c == nil || aws.ToString(c.Subject) != aws.ToString(order.Subject) ||
		aws.ToString(c.Text) != aws.ToString(order.Text) || aws.ToString(c.Html) != aws.ToString(order.Html) {
		t.Errorf("GetEmailTemplate = %+v", got.TemplateContent)
	}
	_, err = v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("nope")})
	wantCode(t, err, "NotFoundException")

	var names []string
	p := sesv2.NewListEmailTemplatesPaginator(v2, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.TemplatesMetadata {
			if m.CreatedTimestamp == nil {
				t.Errorf("%s: no CreatedTimestamp", aws.ToString(m.TemplateName))
			}
			names = append(names, aws.ToString(m.TemplateName))
		}
	}
	if !slices.Equal(sorted(names), []string{"a-template", "b-template", "order"}) {
		t.Errorf("ListEmailTemplates (pages of 2) = %v", names)
	}

	renders := []struct {
		name, data string
		want       []string
		errCode    string
	}{
		{"each, if, inline partial, dotted path", `{"name":"Ann","vip":true,"order":{"id":7},"items":["a","b"]}`,
			[]string{"Subject: Order 7 for Ann", "- a\n- b\nVIP", "<h1>Ann</h1><li>a</li><li>b</li>"}, ""},
		{"else branch, no HTML escaping", `{"name":"<Bo & Co>","vip":false,"order":{"id":8},"items":[]}`,
			[]string{"regular", "<h1><Bo & Co></h1>"}, ""},
		{"missing attribute", `{"vip":true,"items":[]}`, nil, "BadRequestException"},
		{"data not JSON", `{not json`, nil, "BadRequestException"},
	}
	for _, r := range renders {
		t.Run("TestRender "+r.name, func(t *testing.T) {
			out, err := v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{
				TemplateName: aws.String("order"), TemplateData: aws.String(r.data)})
			if r.errCode != "" {
				wantCode(t, err, r.errCode)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msg := strings.ReplaceAll(aws.ToString(out.RenderedTemplate), "\r\n", "\n")
			for _, w := range r.want {
				if !strings.Contains(msg, w) && !strings.Contains(decodeQP(msg), w) {
					t.Errorf("rendered template lacks %q:\n%s", w, msg)
				}
			}
		})
	}
	_, err = v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: aws.String("nope"), TemplateData: aws.String("{}")})
	wantCode(t, err, "NotFoundException")

	// A send whose data lacks an attribute succeeds (SES records a
	// RenderingFailure event instead of refusing the call).
	if _, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &types.Destination{ToAddresses: []string{simulator}},
		Content: &types.EmailContent{Template: &types.Template{TemplateName: aws.String("order"),
			TemplateData: aws.String(`{"items":[]}`)}}}); err != nil {
		t.Errorf("send with a missing attribute: %v, want success", err)
	}

	if _, err := v2.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("order"),
		TemplateContent: &types.EmailTemplateContent{Subject: aws.String("Updated {{name}}"), Text: aws.String("new")}}); err != nil {
		t.Fatal(err)
	}
	got, err = v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("order")})
	if err != nil || aws.ToString(got.TemplateContent.Subject) != "Updated {{name}}" {
		t.Errorf("after update: %+v %v", got, err)
	}
	_, err = v2.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: aws.String("nope"),
		TemplateContent: &types.EmailTemplateContent{Subject: aws.String("s"), Text: aws.String("t")}})
	wantCode(t, err, "NotFoundException")
	if _, err := v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("order")}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("order")})
	wantCode(t, err, "NotFoundException")
}

// TestAPITemplatesV1 drives the v1 template actions; v1 and v2 share one
// store, with v1's own error codes.
func TestAPITemplatesV1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	v1, v2 := s.SESClient(t), s.SESv2Client(t)
	tmpl := &sesv1types.Template{TemplateName: aws.String("t1"), SubjectPart: aws.String("Hi {{name}}"),
		TextPart: aws.String("Dear {{name}}"), HtmlPart: aws.String("<p>{{name}}</p>")}
	if _, err := v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	_, err := v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: tmpl})
	wantCode(t, err, "AlreadyExists")
	got, err := v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("t1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Template.SubjectPart) != "Hi {{name}}" || aws.ToString(got.Template.HtmlPart) != "<p>{{name}}</p>" {
		t.Errorf("GetTemplate = %+v", got.Template)
	}
	if g2, err := v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("t1")}); err != nil ||
		aws.ToString(g2.TemplateContent.Text) != "Dear {{name}}" {
		t.Errorf("v2 sees v1's template: %+v %v", g2, err)
	}
	list, err := v1.ListTemplates(ctx, &ses.ListTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.TemplatesMetadata) != 1 || aws.ToString(list.TemplatesMetadata[0].Name) != "t1" {
		t.Errorf("ListTemplates = %+v", list.TemplatesMetadata)
	}
	rendered, err := v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("t1"), TemplateData: aws.String(`{"name":"Zed"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(rendered.RenderedTemplate), "Dear Zed") {
		t.Errorf("TestRenderTemplate = %s", aws.ToString(rendered.RenderedTemplate))
	}
	_, err = v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("t1"), TemplateData: aws.String(`{}`)})
	wantCode(t, err, "MissingRenderingAttribute")
	_, err = v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("t1"), TemplateData: aws.String(`{nope`)})
	wantCode(t, err, "InvalidRenderingParameter")
	tmpl.SubjectPart = aws.String("Hello {{name}}")
	if _, err := v1.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	if got, err := v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("t1")}); err != nil || aws.ToString(got.Template.SubjectPart) != "Hello {{name}}" {
		t.Errorf("after UpdateTemplate: %+v %v", got, err)
	}
	if _, err := v1.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("t1")}); err != nil {
		t.Fatal(err)
	}
	_, err = v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("t1")})
	wantCode(t, err, "TemplateDoesNotExist")
	_, err = v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &sesv1types.Template{TemplateName: aws.String("bad"),
		SubjectPart: aws.String("{{#each x}}"), TextPart: aws.String("t")}})
	wantCode(t, err, "InvalidTemplate")
}
