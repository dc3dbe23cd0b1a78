package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// Issue 11, item 8: the template lists validate their paging as the other
// lists do — a token sesame did not hand out is refused, not read as a name.
func TestListTemplatesPaging(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String(fmt.Sprintf("t%d", i)),
			TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s"), Text: aws.String("t")}}); err != nil {
			t.Fatal(err)
		}
	}
	// A page's token leads to the next page, in both APIs.
	l2, err := e.v2.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(2)})
	if err != nil || len(l2.TemplatesMetadata) != 2 || l2.NextToken == nil {
		t.Fatalf("v2 first page = %+v, %v", l2, err)
	}
	l2, err = e.v2.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(2), NextToken: l2.NextToken})
	if err != nil || len(l2.TemplatesMetadata) != 1 || aws.ToString(l2.TemplatesMetadata[0].TemplateName) != "t2" || l2.NextToken != nil {
		t.Fatalf("v2 second page = %+v, %v", l2, err)
	}
	l1, err := e.v1.ListTemplates(ctx, &ses.ListTemplatesInput{MaxItems: aws.Int32(2)})
	if err != nil || len(l1.TemplatesMetadata) != 2 || l1.NextToken == nil {
		t.Fatalf("v1 first page = %+v, %v", l1, err)
	}
	l1, err = e.v1.ListTemplates(ctx, &ses.ListTemplatesInput{NextToken: l1.NextToken})
	if err != nil || len(l1.TemplatesMetadata) != 1 || aws.ToString(l1.TemplatesMetadata[0].Name) != "t2" {
		t.Fatalf("v1 second page = %+v, %v", l1, err)
	}

	// A template's name is no token (it was, before: t0 listed what follows t0).
	_, err = e.v2.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{NextToken: aws.String("t0")})
	wantAPIError(t, err, "BadRequestException", "The NextToken is invalid.")
	_, err = e.v1.ListTemplates(ctx, &ses.ListTemplatesInput{NextToken: aws.String("%%garbage")})
	wantAPIError(t, err, "InvalidParameterValue", "The NextToken is invalid.")

	// v2's PageSize is 1–100; v1's MaxItems is lenient, as SES documents.
	for _, n := range []int32{0, -1, 101} {
		_, err = e.v2.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{PageSize: aws.Int32(n)})
		wantAPIError(t, err, "BadRequestException", "PageSize must be between 1 and 100.")
	}
	l1, err = e.v1.ListTemplates(ctx, &ses.ListTemplatesInput{MaxItems: aws.Int32(1000)})
	if err != nil || len(l1.TemplatesMetadata) != 3 {
		t.Fatalf("v1 MaxItems=1000 = %+v, %v", l1, err)
	}
}

// Issue 11, item 8: an Action SES does not have is answered with AWS's
// Query text.
func TestV1UnknownAction(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	for _, action := range []string{"NoSuchThing", "ReceiveEmail"} {
		form := url.Values{"Action": {action}, "Version": {"2010-12-01"}}
		code, body := e.rawQuery(t, form)
		want := "The action " + action + " is not valid for this web service."
		if code != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") || !strings.Contains(body, want) {
			t.Errorf("Action=%q: %d %s", action, code, body)
		}
	}
}
