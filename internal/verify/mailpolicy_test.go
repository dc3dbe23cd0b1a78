package verify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// A suspended or paused account gets the sending error for a verification
// request, no identity and no mail (issue 9: a SHUTDOWN account queued
// verification mail to outside addresses).
func TestVerificationMailObeysAccountSending(t *testing.T) {
	for _, refuse := range []*seserr.Error{seserr.AccountSuspended(), seserr.SendingPaused()} {
		t.Run(refuse.APICode, func(t *testing.T) {
			h := newHarness(t)
			h.sender.refuse = refuse
			ctx := context.Background()
			if err := h.v.VerifyEmail(ctx, acct, region, "v1@outside.example", "http://h"); seserr.As(err).APICode != refuse.APICode {
				t.Fatalf("VerifyEmail: %v", err)
			}
			if _, err := h.v.CreateEmail(ctx, acct, region, "v2@outside.example", "http://h"); seserr.As(err).APICode != refuse.APICode {
				t.Fatalf("CreateEmail: %v", err)
			}
			if n := h.sender.sent(); n != 0 {
				t.Fatalf("%d verification mails sent", n)
			}
			for _, a := range []string{"v1@outside.example", "v2@outside.example"} {
				if _, err := h.st.IdentityDetails(ctx, acct, region, a); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: identity left behind (%v)", a, err)
				}
			}
			// Domains need no mail: still created.
			if _, err := h.v.CreateDomain(ctx, acct, region, "fine.example", DKIMOptions{}); err != nil {
				t.Errorf("domain: %v", err)
			}
		})
	}
}

// Verification mail is throttled per account and region: a burst, then
// the rate; beyond either, SES's throttling error and no mail.
func TestVerificationMailRate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	verify := func(acct, addr string) error { return h.v.VerifyEmail(ctx, acct, region, addr, "http://h") }
	for i := range DefaultMailBurst {
		if err := verify(acct, fmt.Sprintf("a%d@outside.example", i)); err != nil {
			t.Fatalf("within the burst, %d: %v", i, err)
		}
	}
	err := verify(acct, "over@outside.example")
	if e := seserr.As(err); e.QueryCode != "Throttling" || e.Message != "Maximum sending rate exceeded." {
		t.Fatalf("past the burst: %v", err)
	}
	if _, err := h.st.IdentityDetails(ctx, acct, region, "over@outside.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a throttled request created its identity (%v)", err)
	}
	if _, err := h.v.CreateEmail(ctx, acct, region, "over2@outside.example", "http://h"); seserr.As(err).APICode != "TooManyRequestsException" {
		t.Fatalf("v2 past the burst: %v", err)
	}
	// Another account has its own bucket.
	if err := verify("210987654321", "b@outside.example"); err != nil {
		t.Fatalf("other account: %v", err)
	}
	h.clk.Advance(time.Second)
	if err := verify(acct, "later@outside.example"); err != nil {
		t.Fatalf("a second later: %v", err)
	}
	if err := verify(acct, "again@outside.example"); err == nil {
		t.Fatal("two in the same second after the burst")
	}
	if n := h.sender.sent(); n != DefaultMailBurst+2 {
		t.Fatalf("%d mails, want %d", n, DefaultMailBurst+2)
	}
}

func TestVerificationMailDailyCap(t *testing.T) {
	l := newMailLimiter(MailLimits{PerSecond: 1000, Burst: 1000, PerDay: 3})
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	k := accountRegion{acct, region}
	for i := range 3 {
		if err := l.take(k, now.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := l.take(k, now.Add(23*time.Hour)); seserr.As(err).Message != "Daily message quota exceeded." {
		t.Fatalf("fourth in a day: %v", err)
	}
	if err := l.take(k, now.Add(24*time.Hour)); err != nil {
		t.Fatalf("after the first left the window: %v", err)
	}
}

func TestMailLimiterForgetsIdleAccounts(t *testing.T) {
	l := newMailLimiter(MailLimits{})
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := range maxTrackedAccounts + 10 {
		if err := l.take(accountRegion{fmt.Sprint(i), region}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.take(accountRegion{"late", region}, now.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(l.by); n > maxTrackedAccounts {
		t.Fatalf("%d accounts tracked", n)
	}
}
