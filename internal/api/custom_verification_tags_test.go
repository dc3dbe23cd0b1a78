package api

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// Custom verification email templates carry tags like the other taggable
// resources: given to CreateCustomVerificationEmailTemplate, returned by
// Get, changed through their ARN, and deleted with the template.
func TestCustomVerificationTemplateTags(t *testing.T) {
	t.Parallel()
	e := newCVEnv(t, false)
	ctx := context.Background()
	key, err := e.st.AccessKey(ctx, e.creds.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	arn := fmt.Sprintf("arn:aws:ses:%s:%s:custom-verification-email-template/welcome", idRegion, key.AccountID)
	list := func() []string {
		t.Helper()
		out, err := e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return tagPairs(out.Tags)
	}
	get := func() []string {
		t.Helper()
		out, err := e.v2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Tags == nil {
			t.Fatal("Get: no Tags member")
		}
		return tagPairs(out.Tags)
	}

	// Before the template exists its ARN names nothing.
	_, err = e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagsOf("a", "1")})
	wantErrCode(t, err, "NotFoundException")

	// Bad tags refuse the create altogether.
	in := cvInputV2("welcome")
	in.Tags = tagsOf("aws:team", "x")
	_, err = e.v2.CreateCustomVerificationEmailTemplate(ctx, in)
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")})
	wantErrCode(t, err, "NotFoundException")

	in.Tags = tagsOf("team", "mail", "env", "prod")
	if _, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, want := get(), []string{"team=mail", "env=prod"}; !slices.Equal(got, want) {
		t.Fatalf("Get tags: %v, want %v", got, want)
	}
	if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagsOf("env", "test", "owner", "ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), []string{"env=test", "owner=ops"}; !slices.Equal(got, want) {
		t.Fatalf("listed: %v, want %v", got, want)
	}

	// Deleting the template deletes its tags: created again, it has none.
	if _, err := e.v2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("welcome")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	wantErrCode(t, err, "NotFoundException")
	if _, err := e.v2.CreateCustomVerificationEmailTemplate(ctx, cvInputV2("welcome")); err != nil {
		t.Fatal(err)
	}
	if got := get(); len(got) != 0 {
		t.Fatalf("recreated template has tags %v", got)
	}
}
