package api

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// ListEmailIdentities' Filter narrows the list by name substring, type and
// verification status (all keys together), pages within the filtered
// list, and refuses keys and values outside the model's enumerations.
func TestListEmailIdentitiesFilter(t *testing.T) {
	t.Parallel()
	e := newIDEnv(t)
	ctx := context.Background()
	for _, name := range []string{"shop.example", "news.example", "a@shop.example", "b@shop.example", "c@other.example"} {
		if _, err := e.v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := follow(t, e.verificationLink(t, "b@shop.example")); code != http.StatusOK {
		t.Fatalf("verification link: %d", code)
	}
	list := func(filter map[string]string, size int32) []string {
		t.Helper()
		var names []string
		in := &sesv2.ListEmailIdentitiesInput{Filter: filter}
		if size > 0 {
			in.PageSize = aws.Int32(size)
		}
		pages := sesv2.NewListEmailIdentitiesPaginator(e.v2, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range page.EmailIdentities {
				names = append(names, aws.ToString(id.IdentityName))
			}
		}
		return names
	}
	for _, c := range []struct {
		filter map[string]string
		size   int32
		want   []string
	}{
		{nil, 0, []string{"a@shop.example", "b@shop.example", "c@other.example", "news.example", "shop.example"}},
		{map[string]string{"IDENTITY_NAME_CONTAINS": "SHOP"}, 0, []string{"a@shop.example", "b@shop.example", "shop.example"}},
		{map[string]string{"IDENTITY_NAME_CONTAINS": "shop"}, 1, []string{"a@shop.example", "b@shop.example", "shop.example"}},
		{map[string]string{"IDENTITY_TYPE": "DOMAIN"}, 0, []string{"news.example", "shop.example"}},
		{map[string]string{"IDENTITY_TYPE": "EMAIL_ADDRESS", "IDENTITY_NAME_CONTAINS": "shop"}, 0, []string{"a@shop.example", "b@shop.example"}},
		{map[string]string{"IDENTITY_TYPE": "MANAGED_DOMAIN"}, 0, nil},
		{map[string]string{"VERIFICATION_STATUS": "SUCCESS"}, 0, []string{"b@shop.example"}},
		{map[string]string{"VERIFICATION_STATUS": "PENDING", "IDENTITY_TYPE": "EMAIL_ADDRESS"}, 0, []string{"a@shop.example", "c@other.example"}},
		{map[string]string{"VERIFICATION_STATUS": "FAILED"}, 0, nil},
	} {
		if got := list(c.filter, c.size); !slices.Equal(got, c.want) {
			t.Errorf("filter %v (page %d): %v, want %v", c.filter, c.size, got, c.want)
		}
	}
	for _, bad := range []map[string]string{
		{"IDENTITY_NAME": "shop"},
		{"IDENTITY_TYPE": "EmailAddress"},
		{"VERIFICATION_STATUS": "Success"},
	} {
		_, err := e.v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{Filter: bad})
		wantErrCode(t, err, "BadRequestException")
	}
}
