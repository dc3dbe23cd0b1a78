package mailmsg

import (
	"strings"
	"testing"
	"time"
)

func TestNewMessageID(t *testing.T) {
	t.Parallel()
	at := time.Date(2019, 11, 8, 11, 13, 7, 481e6, time.UTC) // spec §1's example
	tests := []struct {
		region, prefix string
	}{
		{"us-east-1", "0100"},
		{"us-west-2", "0101"},
		{"eu-west-1", "0102"},
		{"ap-northeast-1", "0106"},
		{"eu-central-1", "0107"},
	}
	for _, tc := range tests {
		id := NewMessageID(tc.region, at)
		checkMessageIDShape(t, id)
		if want := tc.prefix + "016e4ab7c399-"; !strings.HasPrefix(id, want) {
			t.Errorf("NewMessageID(%s) = %s, want prefix %s", tc.region, id, want)
		}
	}
	if a, b := NewMessageID("us-east-1", at), NewMessageID("us-east-1", at); a == b {
		t.Errorf("two MessageIds are equal: %s", a)
	}
}

func TestNewMessageIDOtherRegions(t *testing.T) {
	t.Parallel()
	at := time.Unix(1700000000, 0)
	seen := map[string]string{}
	for _, r := range []string{"ap-south-1", "sa-east-1", "eu-north-1", "us-east-2", "local"} {
		id := NewMessageID(r, at)
		checkMessageIDShape(t, id)
		p := id[:4]
		if p < "8000" {
			t.Errorf("region %s: prefix %s not in 8000-ffff", r, p)
		}
		if again := NewMessageID(r, at)[:4]; again != p {
			t.Errorf("region %s: prefix unstable: %s then %s", r, p, again)
		}
		if other, dup := seen[p]; dup {
			t.Errorf("regions %s and %s share prefix %s", r, other, p)
		}
		seen[p] = r
	}
}

func checkMessageIDShape(t *testing.T, id string) {
	t.Helper()
	if len(id) != 60 {
		t.Fatalf("MessageId %q has %d chars, want 60", id, len(id))
	}
	for i, c := range id {
		switch i {
		case 16, 25, 30, 35, 40, 53:
			if c != '-' {
				t.Fatalf("MessageId %q: char %d is %q, want '-'", id, i, c)
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				t.Fatalf("MessageId %q: char %d is %q, want lower-case hex", id, i, c)
			}
		}
	}
	if !strings.HasSuffix(id, "-000000") {
		t.Fatalf("MessageId %q does not end in -000000", id)
	}
	if id[31] != '4' {
		t.Fatalf("MessageId %q: uuid is not version 4", id)
	}
}

func TestMessageIDTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2019, 11, 8, 11, 13, 7, 481e6, time.UTC)
	for _, region := range []string{"us-east-1", "xx-test-9"} {
		got, ok := MessageIDTime(NewMessageID(region, at))
		if !ok || !got.Equal(at) {
			t.Errorf("MessageIDTime(NewMessageID(%s)) = %v, %v; want %v", region, got, ok, at)
		}
	}
	for _, bad := range []string{"", "postmaster", strings.Repeat("z", 60),
		"0100016e4ab7c39Z-5058a2a5-d4ad-407b-92b8-94472f229325-000000"} {
		if _, ok := MessageIDTime(bad); ok {
			t.Errorf("MessageIDTime(%q) ok", bad)
		}
	}
}
