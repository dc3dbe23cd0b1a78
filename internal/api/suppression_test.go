package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/store"
)

func TestSuppressedDestinationRoundTripV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()

	if _, err := e.v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{
		EmailAddress: aws.String("Bob@Example.com"), Reason: "BOUNCE"}); err != nil {
		t.Fatal(err)
	}
	// Addresses match in any case; "+" and "@" survive the path.
	for _, addr := range []string{"Bob@Example.com", "bob@example.com", "BOB@EXAMPLE.COM"} {
		got, err := e.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(addr)})
		if err != nil {
			t.Fatalf("get %s: %v", addr, err)
		}
		d := got.SuppressedDestination
		if aws.ToString(d.EmailAddress) != "Bob@Example.com" || d.Reason != "BOUNCE" || d.LastUpdateTime == nil ||
			d.LastUpdateTime.Sub(e.clk.Now()).Abs() > time.Millisecond {
			t.Errorf("get %s = %s %s %v", addr, aws.ToString(d.EmailAddress), d.Reason, d.LastUpdateTime)
		}
	}
	// A second put replaces the entry (reason, time, spelling).
	e.clk.Advance(time.Minute)
	if _, err := e.v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{
		EmailAddress: aws.String("bob+tag@example.com"), Reason: "COMPLAINT"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{
		EmailAddress: aws.String("bob@example.com"), Reason: "COMPLAINT"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("bob+tag@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.SuppressedDestination; d.Reason != "COMPLAINT" || aws.ToString(d.EmailAddress) != "bob+tag@example.com" {
		t.Errorf("bob+tag = %+v", d)
	}
	got, err = e.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("BOB@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.SuppressedDestination; d.Reason != "COMPLAINT" || aws.ToString(d.EmailAddress) != "bob@example.com" {
		t.Errorf("after replace = %s %s", aws.ToString(d.EmailAddress), d.Reason)
	}

	// Entries that bounce handling lists carry the message and feedback ids.
	if err := e.st.PutSuppressedDestination(ctx, store.SuppressedDestination{AccountID: e.acct, Region: e.region,
		Address: "auto@example.com", Reason: "BOUNCE", MessageID: "m-1", FeedbackID: "f-1"}); err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("auto@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if a := got.SuppressedDestination.Attributes; a == nil || aws.ToString(a.MessageId) != "m-1" || aws.ToString(a.FeedbackId) != "f-1" {
		t.Errorf("Attributes = %+v", a)
	}

	if _, err := e.v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("BOB@EXAMPLE.COM")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("bob@example.com")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: aws.String("bob@example.com")})
	wantErrCode(t, err, "NotFoundException")

	// The list is per region.
	other, _ := e.clients("us-east-1")
	_, err = other.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("bob+tag@example.com")})
	wantErrCode(t, err, "NotFoundException")
}

func TestPutSuppressedDestinationErrorsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	tests := []struct {
		name   string
		addr   string
		reason v2types.SuppressionListReason
	}{
		{"unknown reason", "a@example.com", "SPAM"},
		{"no domain", "a@", "BOUNCE"},
		{"no at", "example.com", "BOUNCE"},
		{"header injection", "a@example.com\r\nBcc: x@example.com", "BOUNCE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.v2.PutSuppressedDestination(context.Background(), &sesv2.PutSuppressedDestinationInput{
				EmailAddress: aws.String(tc.addr), Reason: tc.reason})
			wantErrCode(t, err, "BadRequestException")
		})
	}
}

func TestListSuppressedDestinationsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	t0 := e.clk.Now().Truncate(time.Second)
	// 25 addresses, one minute apart, reasons alternating.
	for i := range 25 {
		reason := "BOUNCE"
		if i%2 == 1 {
			reason = "COMPLAINT"
		}
		if err := e.st.PutSuppressedDestination(ctx, store.SuppressedDestination{AccountID: e.acct, Region: e.region,
			Address: fmt.Sprintf("user%02d@example.com", i), Reason: reason, Updated: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		in       sesv2.ListSuppressedDestinationsInput
		want     int
		wantPage int // pages needed
	}{
		{"all in one page", sesv2.ListSuppressedDestinationsInput{}, 25, 1},
		{"pages of 7", sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(7)}, 25, 4},
		{"pages of 25", sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(25)}, 25, 1},
		{"bounces", sesv2.ListSuppressedDestinationsInput{Reasons: []v2types.SuppressionListReason{"BOUNCE"}, PageSize: aws.Int32(5)}, 13, 3},
		{"both reasons", sesv2.ListSuppressedDestinationsInput{Reasons: []v2types.SuppressionListReason{"BOUNCE", "COMPLAINT"}}, 25, 1},
		{"start date", sesv2.ListSuppressedDestinationsInput{StartDate: aws.Time(t0.Add(20 * time.Minute))}, 5, 1},
		{"date range", sesv2.ListSuppressedDestinationsInput{StartDate: aws.Time(t0.Add(5 * time.Minute)),
			EndDate: aws.Time(t0.Add(9 * time.Minute)), PageSize: aws.Int32(2)}, 5, 3},
		{"range and reason", sesv2.ListSuppressedDestinationsInput{StartDate: aws.Time(t0.Add(5 * time.Minute)),
			EndDate: aws.Time(t0.Add(9 * time.Minute)), Reasons: []v2types.SuppressionListReason{"COMPLAINT"}}, 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			pages := 0
			in := tc.in
			prev := ""
			for {
				out, err := e.v2.ListSuppressedDestinations(ctx, &in)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, d := range out.SuppressedDestinationSummaries {
					addr := aws.ToString(d.EmailAddress)
					if seen[addr] {
						t.Fatalf("%s listed twice", addr)
					}
					if addr <= prev {
						t.Fatalf("%s after %s: not in order", addr, prev)
					}
					prev = addr
					seen[addr] = true
					if len(tc.in.Reasons) == 1 && d.Reason != tc.in.Reasons[0] {
						t.Errorf("%s has reason %s", addr, d.Reason)
					}
					if d.LastUpdateTime == nil {
						t.Errorf("%s has no LastUpdateTime", addr)
					}
				}
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			if len(seen) != tc.want || pages != tc.wantPage {
				t.Errorf("%d addresses in %d pages, want %d in %d", len(seen), pages, tc.want, tc.wantPage)
			}
		})
	}

	// The SDK's paginator walks the same pages.
	p := sesv2.NewListSuppressedDestinationsPaginator(e.v2, &sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(10)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.SuppressedDestinationSummaries)
	}
	if n != 25 {
		t.Errorf("paginator saw %d addresses, want 25", n)
	}

	bad := []struct {
		name string
		in   sesv2.ListSuppressedDestinationsInput
	}{
		{"page size 0", sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(0)}},
		{"page size 1001", sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(1001)}},
		{"forged token", sesv2.ListSuppressedDestinationsInput{NextToken: aws.String("not-a-token")}},
		{"unknown reason", sesv2.ListSuppressedDestinationsInput{Reasons: []v2types.SuppressionListReason{"SPAM"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.v2.ListSuppressedDestinations(ctx, &tc.in)
			wantErrCode(t, err, "BadRequestException")
		})
	}
}

func TestQueryTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"2026-11-23T10:00:00Z", want, false},
		{"2026-11-23T11:00:00+01:00", want, false},
		{"2026-11-23T10:00:00.000Z", want, false},
		{"2026-11-23T10:00:00", want, false},
		{"2026-11-23", want.Truncate(24 * time.Hour), false},
		{"1795428000", want, false},
		{"yesterday", time.Time{}, true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/v2/email/suppression/addresses?StartDate="+url.QueryEscape(tc.in), nil)
		got, err := queryTime(r, "StartDate")
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("%q: %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
