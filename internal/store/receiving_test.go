package store

import (
	"context"
	"slices"
	"testing"
)

// Who receives for an address: accounts with a verified identity covering
// it (the address, its domain, a parent domain); with unverified, also
// those whose identity is pending or failed (development mode).
func TestAccountsReceiving(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	for _, id := range []Identity{
		{AccountID: "a1", Region: "us-east-1", Name: "example.com", Status: StatusSuccess},
		{AccountID: "a2", Region: "us-east-1", Name: "sub.example.com"},
		{AccountID: "a3", Region: "us-east-1", Name: "x@example.com", Status: StatusFailed},
		{AccountID: "a4", Region: "eu-west-1", Name: "example.com", Status: StatusSuccess},
	} {
		if err := s.CreateIdentity(ctx, IdentityDetails{Identity: id}, MaxIdentities); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		rcpt       string
		unverified bool
		want       []string
	}{
		{"x@example.com", false, []string{"a1"}},
		{"x@example.com", true, []string{"a1", "a3"}},
		{"y@sub.example.com", false, []string{"a1"}},
		{"y@sub.example.com", true, []string{"a1", "a2"}},
		{"z@other.test", true, nil},
	} {
		got, err := s.AccountsReceiving(ctx, "us-east-1", tc.rcpt, tc.unverified)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("AccountsReceiving(%s, unverified=%v) = %v, %v; want %v", tc.rcpt, tc.unverified, got, err, tc.want)
		}
	}
}
