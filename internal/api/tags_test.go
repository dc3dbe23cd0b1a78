package api

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func tagsOf(kv ...string) []v2types.Tag {
	tags := []v2types.Tag{}
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, v2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return tags
}

func tagPairs(tags []v2types.Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

func (e *acctEnv) arn(resource string) string {
	return fmt.Sprintf("arn:aws:ses:%s:%s:%s", e.region, e.acct, resource)
}

func (e *acctEnv) listTags(t *testing.T, arn string) []string {
	t.Helper()
	out, err := e.v2.ListTagsForResource(context.Background(), &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource(%s): %v", arn, err)
	}
	if out.Tags == nil {
		t.Fatalf("ListTagsForResource(%s): no Tags member", arn)
	}
	return tagPairs(out.Tags)
}

// Each taggable resource, made with tags at create time: Get returns them,
// TagResource adds and replaces, UntagResource removes, ListTagsForResource
// lists, and deleting the resource deletes its tags.
func TestTagsPerResourceType(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	created := tagsOf("team", "mail", "env", "prod")

	types := []struct {
		resource string
		create   func() error
		get      func() ([]v2types.Tag, error)
		del      func() error
	}{
		{"configuration-set/cs1",
			func() error {
				_, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs1"), Tags: created})
				return err
			},
			func() ([]v2types.Tag, error) {
				out, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("cs1")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			func() error {
				_, err := e.v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("cs1")})
				return err
			}},
		{"identity/example.com",
			func() error {
				_, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("Example.com"), Tags: created})
				return err
			},
			func() ([]v2types.Tag, error) {
				out, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.COM")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			func() error {
				_, err := e.v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("example.com")})
				return err
			}},
		{"template/tpl1",
			func() error {
				_, err := e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("tpl1"),
					TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s"), Text: aws.String("t")}, Tags: created})
				return err
			},
			func() ([]v2types.Tag, error) {
				out, err := e.v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("tpl1")})
				if err != nil {
					return nil, err
				}
				return out.Tags, nil
			},
			func() error {
				_, err := e.v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: aws.String("tpl1")})
				return err
			}},
	}
	for _, tc := range types {
		t.Run(strings.Split(tc.resource, "/")[0], func(t *testing.T) {
			arn := e.arn(tc.resource)
			if err := tc.create(); err != nil {
				t.Fatal(err)
			}
			got, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"team=mail", "env=prod"}; !reflect.DeepEqual(tagPairs(got), want) {
				t.Errorf("Get's Tags = %v, want %v", tagPairs(got), want)
			}
			if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn),
				Tags: tagsOf("env", "staging", "owner", "")}); err != nil {
				t.Fatal(err)
			}
			if got, want := e.listTags(t, arn), []string{"team=mail", "env=staging", "owner="}; !reflect.DeepEqual(got, want) {
				t.Errorf("after TagResource: %v, want %v", got, want)
			}
			if _, err := e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(arn),
				TagKeys: []string{"team", "owner", "never-set"}}); err != nil {
				t.Fatal(err)
			}
			if got, want := e.listTags(t, arn), []string{"env=staging"}; !reflect.DeepEqual(got, want) {
				t.Errorf("after UntagResource: %v, want %v", got, want)
			}
			if got, _ := tc.get(); !reflect.DeepEqual(tagPairs(got), []string{"env=staging"}) {
				t.Errorf("Get's Tags after untag = %v", tagPairs(got))
			}
			if err := tc.del(); err != nil {
				t.Fatal(err)
			}
			_, err = e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			wantErrCode(t, err, "NotFoundException")
			// Made again under the same name, it starts without tags.
			if err := tc.create(); err != nil {
				t.Fatal(err)
			}
			if _, err := e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team", "env"}}); err != nil {
				t.Fatal(err)
			}
			if err := tc.del(); err != nil {
				t.Fatal(err)
			}
			if err := tc.create(); err != nil {
				t.Fatal(err)
			}
			if got := e.listTags(t, arn); !reflect.DeepEqual(got, []string{"team=mail", "env=prod"}) {
				t.Errorf("re-made with tags: %v (the old ones must be gone)", got)
			}
		})
	}

	// A resource made without tags answers an empty list, not none.
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("bare")}); err != nil {
		t.Fatal(err)
	}
	if got := e.listTags(t, e.arn("configuration-set/bare")); len(got) != 0 {
		t.Errorf("tags of an untagged set = %v", got)
	}
	out, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("bare")})
	if err != nil || out.Tags == nil || len(out.Tags) != 0 {
		t.Errorf("GetConfigurationSet Tags = %v, %v; want []", out, err)
	}
}

func TestTagResourceErrors(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	arn := e.arn("configuration-set/cs")
	many := func(n int) []v2types.Tag {
		var tags []v2types.Tag
		for i := range n {
			tags = append(tags, v2types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
		}
		return tags
	}
	const charsMsg = "Tags can only contain letters, numbers, spaces, and the following special characters: _ . : / = + - @"
	tests := []struct {
		name string
		arn  string
		tags []v2types.Tag
		code string
		msg  string
	}{
		{"51 tags", arn, many(51), "BadRequestException",
			"Maximum of 50 user tags are allowed per resource, consider reducing the number of tags in the request"},
		{"bad key character", arn, tagsOf("a*b", "v"), "BadRequestException", charsMsg},
		{"bad value character", arn, tagsOf("k", "a#b"), "BadRequestException", charsMsg},
		{"aws: prefix", arn, tagsOf("AWS:thing", "v"), "BadRequestException", "Caller is an end user and not allowed to mutate system tags"},
		{"key too long", arn, tagsOf("ok", "v", strings.Repeat("k", 129), "v"), "BadRequestException",
			"1 validation error detected: Value at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"key and value too long", arn, tagsOf(strings.Repeat("k", 129), strings.Repeat("v", 257)), "BadRequestException",
			"2 validation errors detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256; " +
				"Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"empty key", arn, tagsOf("", "v"), "BadRequestException",
			"1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"duplicate key", arn, tagsOf("k", "1", "k", "2"), "BadRequestException", "Cannot provide multiple tags with the same key"},
		{"missing set", e.arn("configuration-set/nope"), tagsOf("k", "v"), "NotFoundException", "No ConfigurationSet present with name: nope"},
		{"missing identity", e.arn("identity/nobody@example.com"), tagsOf("k", "v"), "NotFoundException", "No EmailIdentity present with name: nobody@example.com"},
		{"missing template", e.arn("template/nope"), tagsOf("k", "v"), "NotFoundException", "No Template present with name: nope"},
		{"contact list (none yet)", e.arn("contact-list/l"), tagsOf("k", "v"), "NotFoundException", "No ContactList present with name: l"},
		{"dedicated IP pool (none yet)", e.arn("dedicated-ip-pool/p"), tagsOf("k", "v"), "NotFoundException", "No DedicatedIpPool present with name: p"},
		{"not an ARN", "cs", tagsOf("k", "v"), "BadRequestException", "Invalid resource ARN: cs"},
		{"another service", "arn:aws:sns:eu-west-1:" + e.acct + ":configuration-set/cs", tagsOf("k", "v"), "BadRequestException",
			"Invalid resource ARN: arn:aws:sns:eu-west-1:" + e.acct + ":configuration-set/cs"},
		{"unknown type", e.arn("bucket/cs"), tagsOf("k", "v"), "BadRequestException", "Invalid resource ARN: " + e.arn("bucket/cs")},
		{"another region", "arn:aws:ses:us-east-1:" + e.acct + ":configuration-set/cs", tagsOf("k", "v"), "BadRequestException", "Failed to tag resource"},
		{"another account", "arn:aws:ses:eu-west-1:123456789012:configuration-set/cs", tagsOf("k", "v"), "BadRequestException", "Failed to tag resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: tc.tags})
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	if got := e.listTags(t, arn); len(got) != 0 {
		t.Fatalf("refused requests left tags: %v", got)
	}

	// Letters and digits of any script, white space and the allowed symbols.
	ok := tagsOf("Größe 1", "値 _.:/=+-@", "empty", "")
	if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: ok}); err != nil {
		t.Fatal(err)
	}
	// 50 in all is the limit: a change of a key it has is fine at 50, one
	// more key is not, and a refused request changes nothing.
	if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: many(48)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagsOf("k0", "changed")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagsOf("k0", "again", "one-more", "v")})
	wantAPIError(t, err, "BadRequestException",
		"Maximum of 50 user tags are allowed per resource, consider reducing the number of tags in the request or delete existing tags and retry")
	got := e.listTags(t, arn)
	if len(got) != 50 || got[2] != "k0=changed" {
		t.Errorf("after a refused merge: %d tags, third %q", len(got), got[2])
	}
	// An empty list changes nothing, and still asks that the resource exists.
	if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: []v2types.Tag{}}); err != nil {
		t.Errorf("empty Tags: %v", err)
	}
	_, err = e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(e.arn("template/none")), Tags: []v2types.Tag{}})
	wantErrCode(t, err, "NotFoundException")

	// Create-time tags are checked before anything is made.
	_, err = e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("dup"), Tags: tagsOf("k", "1", "k", "2")})
	wantAPIError(t, err, "BadRequestException", "Cannot provide multiple tags with the same key")
	_, err = e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("bad-tags.example"), Tags: tagsOf("aws:x", "1")})
	wantAPIError(t, err, "BadRequestException", "Caller is an end user and not allowed to mutate system tags")
	_, err = e.v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: aws.String("t"),
		TemplateContent: &v2types.EmailTemplateContent{Subject: aws.String("s")}, Tags: many(51)})
	wantErrCode(t, err, "BadRequestException")
	for _, get := range []func() error{
		func() error {
			_, err := e.v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("dup")})
			return err
		},
		func() error {
			_, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("bad-tags.example")})
			return err
		},
		func() error {
			_, err := e.v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: aws.String("t")})
			return err
		},
	} {
		wantErrCode(t, get(), "NotFoundException")
	}
}

func TestUntagAndListErrors(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"), Tags: tagsOf("k", "v")}); err != nil {
		t.Fatal(err)
	}
	foreignRegion := "arn:aws:ses:us-east-1:" + e.acct + ":configuration-set/cs"
	foreignAccount := "arn:aws:ses:eu-west-1:123456789012:configuration-set/cs"

	_, err := e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(foreignRegion), TagKeys: []string{"k"}})
	wantAPIError(t, err, "BadRequestException", "Failed to untag resource")
	_, err = e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(foreignAccount), TagKeys: []string{"k"}})
	wantAPIError(t, err, "BadRequestException", "Failed to untag resource")
	_, err = e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(e.arn("configuration-set/cs")), TagKeys: []string{"aws:k"}})
	wantAPIError(t, err, "BadRequestException", "Caller is an end user and not allowed to mutate system tags")
	_, err = e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String(e.arn("template/none")), TagKeys: []string{"k"}})
	wantAPIError(t, err, "NotFoundException", "No Template present with name: none")
	_, err = e.v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: aws.String("nonsense"), TagKeys: []string{"k"}})
	wantAPIError(t, err, "BadRequestException", "Invalid resource ARN: nonsense")

	for _, arn := range []string{foreignRegion, foreignAccount} {
		_, err = e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		wantAPIError(t, err, "NotFoundException", "No ConfigurationSet present with name: cs")
	}
	_, err = e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(e.arn("identity/x.example"))})
	wantAPIError(t, err, "NotFoundException", "No EmailIdentity present with name: x.example")

	// The set's tags are untouched by all of that.
	if got := e.listTags(t, e.arn("configuration-set/cs")); !reflect.DeepEqual(got, []string{"k=v"}) {
		t.Errorf("tags = %v", got)
	}
}

// Tags are an account's and a region's: another account with a set of the
// same name sees its own tags only, and cannot reach the first one's.
func TestTagsPerAccountAndRegion(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	acct2, key2, err := e.st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := sesv2.NewFromConfig(aws.Config{Region: e.region, RetryMaxAttempts: 1, BaseEndpoint: aws.String(e.url),
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: key2.ID, SecretAccessKey: key2.Secret}}})
	otherRegion, _ := e.clients("us-east-1")
	for i, c := range []*sesv2.Client{e.v2, other, otherRegion} {
		if _, err := c.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
			Tags: tagsOf("who", fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i, tc := range []struct {
		c   *sesv2.Client
		arn string
	}{
		{e.v2, e.arn("configuration-set/cs")},
		{other, "arn:aws:ses:eu-west-1:" + acct2.ID + ":configuration-set/cs"},
		{otherRegion, "arn:aws:ses:us-east-1:" + e.acct + ":configuration-set/cs"},
	} {
		out, err := tc.c.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagPairs(out.Tags); !reflect.DeepEqual(got, []string{fmt.Sprintf("who=%d", i)}) {
			t.Errorf("%s: %v", tc.arn, got)
		}
	}
	// The second account names the first's set by its ARN: refused.
	_, err = other.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(e.arn("configuration-set/cs")), Tags: tagsOf("x", "y")})
	wantAPIError(t, err, "BadRequestException", "Failed to tag resource")
	_, err = other.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(e.arn("configuration-set/cs"))})
	wantErrCode(t, err, "NotFoundException")
	if got := e.listTags(t, e.arn("configuration-set/cs")); !reflect.DeepEqual(got, []string{"who=0"}) {
		t.Errorf("first account's tags = %v", got)
	}
}
