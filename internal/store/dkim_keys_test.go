package store

import (
	"context"
	"testing"
)

func TestEasyDKIMIdentities(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	for _, d := range []IdentityDetails{
		{Identity: Identity{AccountID: "a1", Region: "us-east-1", Name: "b.example"},
			DKIM: DKIM{Origin: DKIMOriginAWS, Tokens: []string{"t1", "t2", "t3"}, PrivateKey: []byte("k1")}},
		{Identity: Identity{AccountID: "a2", Region: "eu-west-1", Name: "a.example"},
			DKIM: DKIM{Origin: DKIMOriginAWS, Tokens: []string{"t4"}, PrivateKey: []byte("k2")}},
		{Identity: Identity{AccountID: "a1", Region: "us-east-1", Name: "byo.example"},
			DKIM: DKIM{Origin: DKIMOriginExternal, Selector: "s", PrivateKey: []byte("k3")}},
		{Identity: Identity{AccountID: "a1", Region: "us-east-1", Name: "none.example"}},
		{Identity: Identity{AccountID: "a1", Region: "us-east-1", Name: "me@b.example"}},
	} {
		if err := s.CreateIdentity(ctx, d, MaxIdentities); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		region string
		want   []string
	}{
		{"", []string{"a.example", "b.example"}},
		{"us-east-1", []string{"b.example"}},
		{"ap-south-1", nil},
	}
	for _, tc := range tests {
		got, err := s.EasyDKIMIdentities(ctx, tc.region)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range got {
			names = append(names, d.Name)
		}
		if len(names) != len(tc.want) || (len(names) > 0 && names[0] != tc.want[0]) || (len(names) > 1 && names[1] != tc.want[1]) {
			t.Errorf("region %q: %v, want %v", tc.region, names, tc.want)
		}
		if len(got) > 0 && len(got[0].DKIM.PrivateKey) == 0 {
			t.Errorf("region %q: the key is not unsealed", tc.region)
		}
	}
}
