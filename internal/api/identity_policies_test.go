package api

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"sesame/internal/store"
)

// sendPolicy is a policy letting account principal send as arn.
func sendPolicy(arn, principal, extra string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":%q,`+
		`"Principal":{"AWS":[%q]},"Action":["ses:SendEmail","ses:SendRawEmail"]%s}]}`, arn, principal, extra)
}

// v2 Create/Get/Update/Delete, GetEmailIdentity's Policies and SES's
// refusals: a bad document, a bad name, a name that exists, a policy or
// identity that does not, the 20-policy limit.
func TestIdentityPoliciesV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if err := e.st.PutIdentity(ctx, store.Identity{AccountID: e.acct, Region: e.region, Name: "example.com"}); err != nil {
		t.Fatal(err)
	}
	arn := e.arn("identity/example.com")
	doc := sendPolicy(arn, "111122223333", "")
	create := func(name, doc string) error {
		_, err := e.v2.CreateEmailIdentityPolicy(ctx, &sesv2.CreateEmailIdentityPolicyInput{
			EmailIdentity: aws.String("example.com"), PolicyName: aws.String(name), Policy: aws.String(doc)})
		return err
	}
	if err := create("p1", doc); err != nil {
		t.Fatal(err)
	}
	wantErrCode(t, create("p1", doc), "AlreadyExistsException")
	wantErrCode(t, create("bad name", doc), "BadRequestException")
	wantErrCode(t, create(strings.Repeat("n", 65), doc), "BadRequestException")
	for _, bad := range []string{
		`{"Version":"2012-10-17"}`,                                                                                              // no statement
		sendPolicy(e.arn("identity/other.com"), "111122223333", ""),                                                             // another identity
		strings.Replace(doc, `"ses:SendEmail"`, `"ses:DeleteEmailIdentity"`, 1),                                                 // not a send action
		strings.Replace(doc, `"Principal":{"AWS":["111122223333"]},`, "", 1),                                                    // no principal
		sendPolicy(arn, "111122223333", `,"Condition":{"StringLike":{"ses:FromAddress":`+`"a@`+strings.Repeat("x", 4096)+`"}}`), // over 4 KB
	} {
		err := create("p2", bad)
		wantErrCode(t, err, "BadRequestException")
		if !strings.Contains(err.Error(), "Invalid policy") {
			t.Errorf("refusal of %.60s…: %v; want an Invalid policy message", bad, err)
		}
	}
	_, err := e.v2.CreateEmailIdentityPolicy(ctx, &sesv2.CreateEmailIdentityPolicyInput{
		EmailIdentity: aws.String("nope.com"), PolicyName: aws.String("p"), Policy: aws.String(doc)})
	wantErrCode(t, err, "NotFoundException")

	updated := sendPolicy(arn, "444455556666", "")
	if _, err := e.v2.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{
		EmailIdentity: aws.String("example.com"), PolicyName: aws.String("p1"), Policy: aws.String(updated)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{
		EmailIdentity: aws.String("example.com"), PolicyName: aws.String("p9"), Policy: aws.String(updated)})
	wantErrCode(t, err, "NotFoundException")

	got, err := e.v2.GetEmailIdentityPolicies(ctx, &sesv2.GetEmailIdentityPoliciesInput{EmailIdentity: aws.String("example.com")})
	if err != nil || !reflect.DeepEqual(got.Policies, map[string]string{"p1": updated}) {
		t.Fatalf("GetEmailIdentityPolicies = %v, %v", got, err)
	}
	id, err := e.v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err != nil || !reflect.DeepEqual(id.Policies, map[string]string{"p1": updated}) {
		t.Fatalf("GetEmailIdentity's Policies = %v, %v", id.Policies, err)
	}
	for i := 2; i <= maxIdentityPolicies; i++ {
		if err := create(fmt.Sprintf("p%d", i), doc); err != nil {
			t.Fatal(err)
		}
	}
	wantErrCode(t, create("p21", doc), "LimitExceededException")

	if _, err := e.v2.DeleteEmailIdentityPolicy(ctx, &sesv2.DeleteEmailIdentityPolicyInput{
		EmailIdentity: aws.String("example.com"), PolicyName: aws.String("p1")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.DeleteEmailIdentityPolicy(ctx, &sesv2.DeleteEmailIdentityPolicyInput{
		EmailIdentity: aws.String("example.com"), PolicyName: aws.String("p1")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.GetEmailIdentityPolicies(ctx, &sesv2.GetEmailIdentityPoliciesInput{EmailIdentity: aws.String("nope.com")})
	wantErrCode(t, err, "NotFoundException")
}

// v1 Put (create or replace), Get (the names asked for that exist), List,
// Delete (a missing policy is no error); Identity by name or by ARN.
func TestIdentityPoliciesV1(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	if err := e.st.PutIdentity(ctx, store.Identity{AccountID: e.acct, Region: e.region, Name: "me@example.com"}); err != nil {
		t.Fatal(err)
	}
	arn := e.arn("identity/me@example.com")
	doc := sendPolicy(arn, "111122223333", "")
	put := func(identity, name, doc string) error {
		_, err := e.v1.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: aws.String(identity), PolicyName: aws.String(name), Policy: aws.String(doc)})
		return err
	}
	if err := put("me@example.com", "a", doc); err != nil {
		t.Fatal(err)
	}
	if err := put(arn, "b", doc); err != nil {
		t.Fatalf("PutIdentityPolicy by ARN: %v", err)
	}
	replaced := sendPolicy(arn, "444455556666", "")
	if err := put("me@example.com", "a", replaced); err != nil {
		t.Fatal(err)
	}
	wantErrCode(t, put("me@example.com", "c", `{"Statement":[]}`), "InvalidPolicy")
	wantErrCode(t, put("me@example.com", "c", `not json`), "InvalidPolicy")
	wantErrCode(t, put("other@example.com", "c", doc), "NotFound")
	wantErrCode(t, put(strings.Replace(arn, e.acct, "999999999999", 1), "c", doc), "NotFound")

	list, err := e.v1.ListIdentityPolicies(ctx, &ses.ListIdentityPoliciesInput{Identity: aws.String("me@example.com")})
	if err != nil || !slices.Equal(list.PolicyNames, []string{"a", "b"}) {
		t.Fatalf("ListIdentityPolicies = %v, %v", list, err)
	}
	got, err := e.v1.GetIdentityPolicies(ctx, &ses.GetIdentityPoliciesInput{Identity: aws.String(arn), PolicyNames: []string{"a", "zz"}})
	if err != nil || !reflect.DeepEqual(got.Policies, map[string]string{"a": replaced}) {
		t.Fatalf("GetIdentityPolicies = %v, %v", got, err)
	}
	if _, err := e.v1.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String("me@example.com"), PolicyName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: aws.String("me@example.com"), PolicyName: aws.String("a")}); err != nil {
		t.Errorf("deleting a missing policy: %v; SES answers success", err)
	}
	list, err = e.v1.ListIdentityPolicies(ctx, &ses.ListIdentityPoliciesInput{Identity: aws.String("me@example.com")})
	if err != nil || !slices.Equal(list.PolicyNames, []string{"b"}) {
		t.Fatalf("ListIdentityPolicies after delete = %v, %v", list, err)
	}
}
