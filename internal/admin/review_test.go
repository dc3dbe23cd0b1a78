package admin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"sesame/internal/store"
)

// account review lists pending requests (all, or one account's / region's)
// and decides one: grant puts the account in production in that region
// only, deny leaves it in the sandbox; a decided request is not pending.
func TestAccountReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	ask := func(acct, region string) store.AccountDetails {
		t.Helper()
		d, err := f.st.PutAccountDetails(ctx, store.AccountDetails{AccountID: acct, Region: region, MailType: "TRANSACTIONAL",
			WebsiteURL: "https://example.com"}, true)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ask(f.ids[0], "us-east-1")
	ask(f.ids[0], "eu-west-1")
	asked := ask(f.ids[1], "us-east-1")
	list := func(args ...string) []store.AccountDetails {
		t.Helper()
		out, err := f.run(append([]string{"account", "review"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var got []store.AccountDetails
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return got
	}
	if got := list(); len(got) != 3 || got[0].ReviewStatus != store.ReviewPending || got[0].CaseID == "" {
		t.Fatalf("all pending = %+v; want 3 PENDING with case ids", got)
	}
	if got := list("--account", "$1"); len(got) != 1 || got[0].CaseID != asked.CaseID {
		t.Fatalf("account 1's = %+v; want its one request", got)
	}
	if got := list("--region", "eu-west-1"); len(got) != 1 || got[0].AccountID != f.ids[0] {
		t.Fatalf("eu-west-1's = %+v; want account 0's", got)
	}

	out, err := f.run("account", "review", "--account", "$0", "--grant")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"review_status": "GRANTED"`) || !strings.Contains(out, `"production_access_enabled": true`) {
		t.Errorf("grant printed %s", out)
	}
	for region, want := range map[string]bool{"us-east-1": true, "eu-west-1": false} {
		set, err := f.st.AccountSettings(ctx, f.ids[0], region)
		if err != nil {
			t.Fatal(err)
		}
		if set.Production != want || set.MaxSendRate != 1 {
			t.Errorf("%s: production %v, rate %v; want %v, the sandbox's quota kept", region, set.Production, set.MaxSendRate, want)
		}
	}
	if _, err := f.run("account", "review", "--account", "$1", "--region", "us-east-1", "--deny"); err != nil {
		t.Fatal(err)
	}
	if set, _ := f.st.AccountSettings(ctx, f.ids[1], "us-east-1"); set.Production {
		t.Error("denied account in production")
	}
	d, err := f.st.AccountDetails(ctx, f.ids[1], "us-east-1")
	if err != nil || d.ReviewStatus != store.ReviewDenied || d.Reviewed.IsZero() {
		t.Errorf("denied request = %+v, %v; want DENIED with a time", d, err)
	}
	if got := list(); len(got) != 1 || got[0].Region != "eu-west-1" {
		t.Errorf("pending after two decisions = %+v; want account 0's eu-west-1", got)
	}

	// Errors: nothing pending, both decisions, no such account.
	if _, err := f.run("account", "review", "--account", "$0", "--deny"); err == nil || !strings.Contains(err.Error(), "no pending") {
		t.Errorf("deciding twice: %v", err)
	}
	if _, err := f.run("account", "review", "--account", "$0", "--grant", "--deny"); err == nil {
		t.Error("--grant --deny accepted")
	}
	if _, err := f.run("account", "review", "--account", "000000000000"); err == nil {
		t.Error("unknown account accepted")
	}
	// Decided, the account may ask again.
	if _, err := f.st.PutAccountDetails(ctx, store.AccountDetails{AccountID: f.ids[1], Region: "us-east-1", MailType: "MARKETING",
		WebsiteURL: "https://example.com"}, true); err != nil {
		t.Errorf("asking again after a denial: %v", err)
	}
}
