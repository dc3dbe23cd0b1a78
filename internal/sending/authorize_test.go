package sending

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// delegationHarness is a harness (whose account is the delegate) plus an
// owner account with verified identities owner.example (with a policy set
// per case) and bare.example (no policy), and pending.example (with a
// policy, not verified). Both accounts are out of the sandbox unless a case
// says otherwise.
type delegationHarness struct {
	*harness
	owner string
}

func newDelegationHarness(t *testing.T) *delegationHarness {
	t.Helper()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	ctx := context.Background()
	owner, _, err := h.st.CreateAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []store.Identity{
		{Name: "owner.example", Status: store.StatusSuccess},
		{Name: "bare.example", Status: store.StatusSuccess},
		{Name: "pending.example", Status: store.StatusPending},
	} {
		id.AccountID, id.Region = owner.ID, region
		if err := h.st.PutIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	set := store.DefaultSettings(owner.ID, region)
	set.Production = true
	if err := h.st.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	return &delegationHarness{harness: h, owner: owner.ID}
}

func (h *delegationHarness) arn(identity string) string {
	return fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", region, h.owner, identity)
}

// allow gives identity one policy: allow the delegate ses:Send* under
// condition (a JSON object, "" for none), plus extra statements.
func (h *delegationHarness) allow(t *testing.T, identity, condition, extra string) {
	t.Helper()
	cond := ""
	if condition != "" {
		cond = `,"Condition":` + condition
	}
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"ses:Send*","Resource":"%s"%s}%s]}`,
		h.account, h.arn(identity), cond, extra)
	if err := h.st.PutIdentityPolicy(context.Background(), h.owner, region, identity, store.IdentityPolicy{Name: "p", Policy: doc}, store.PolicyUpsert, 20); err != nil {
		t.Fatal(err)
	}
	h.s.IdentityPoliciesChanged(h.owner, region, identity)
}

func (h *delegationHarness) send(t *testing.T, sub Submission, msg string) (string, error) {
	t.Helper()
	d, err := h.s.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(d, msg); err != nil {
		t.Fatal(err)
	}
	sub.AccountID, sub.Region, sub.Draft, sub.Via = h.account, region, d, "smtp"
	if sub.Recipients == nil {
		sub.Recipients = []string{"ann@rcpt.test"}
	}
	h.clk.Advance(2 * time.Second) // a fresh rate-limit second for each send
	return h.s.Submit(context.Background(), &sub)
}

func denied(h *delegationHarness, arn, action string) string {
	return fmt.Sprintf("554 Access denied: User `arn:aws:iam::%s:root' is not authorized to perform `%s' on resource `%s'", h.account, action, arn)
}

// A delegate sends as the owner's identity when the owner's policy allows
// it, and is refused with SES's Access denied when a condition (each of
// SES's keys, a date) does not hold, when no policy matches, or when a
// Deny statement applies.
func TestDelegatedSending(t *testing.T) {
	t.Parallel()
	h := newDelegationHarness(t)
	arn := h.arn("owner.example")
	header := func(from string) string {
		return "X-SES-SOURCE-ARN: " + arn + "\r\nFrom: " + from + "\r\nSubject: s\r\n\r\nbody\r\n"
	}
	for _, tc := range []struct {
		name, condition, extra string
		sub                    Submission
		from                   string // the From field
		refused                string // "" allowed; "denied": Access denied on owner.example
	}{
		{name: "allowed", from: "News <news@owner.example>"},
		{name: "ses:FromAddress holds", condition: `{"StringLike":{"ses:FromAddress":"news*@owner.example"}}`, from: "news-1@owner.example"},
		{name: "ses:FromAddress does not hold", condition: `{"StringLike":{"ses:FromAddress":"news*@owner.example"}}`, from: "sales@owner.example", refused: "denied"},
		{name: "ses:FromDisplayName holds", condition: `{"StringEquals":{"ses:FromDisplayName":"Owner News"}}`, from: "Owner News <news@owner.example>"},
		{name: "ses:FromDisplayName does not hold", condition: `{"StringEquals":{"ses:FromDisplayName":"Owner News"}}`, from: "Someone <news@owner.example>", refused: "denied"},
		{name: "ses:Recipients holds", condition: `{"ForAllValues:StringLike":{"ses:Recipients":"*@rcpt.test"}}`, from: "news@owner.example",
			sub: Submission{Recipients: []string{"ann@rcpt.test", "bo@rcpt.test"}}},
		{name: "ses:Recipients does not hold for one", condition: `{"ForAllValues:StringLike":{"ses:Recipients":"*@rcpt.test"}}`, from: "news@owner.example",
			sub: Submission{Recipients: []string{"ann@rcpt.test", "eve@elsewhere.test"}}, refused: "denied"},
		{name: "ses:FeedbackAddress holds", condition: `{"StringEquals":{"ses:FeedbackAddress":"bounces@owner.example"}}`, from: "news@owner.example",
			sub: Submission{MailFrom: "bounces@owner.example"}},
		{name: "ses:FeedbackAddress does not hold", condition: `{"StringEquals":{"ses:FeedbackAddress":"bounces@owner.example"}}`, from: "news@owner.example",
			refused: "denied"},
		{name: "a date in the future holds", condition: `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, from: "news@owner.example"},
		{name: "a date in the past does not hold", condition: `{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, from: "news@owner.example", refused: "denied"},
		{name: "a Deny statement wins", from: "news@owner.example", refused: "denied",
			extra: fmt.Sprintf(`,{"Effect":"Deny","Principal":"*","Action":"ses:SendRawEmail","Resource":%q}`, arn)},
		{name: "a policy for another account does not match", from: "news@owner.example", refused: "denied",
			condition: `{"StringEquals":{"aws:PrincipalAccount":"999999999999"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.allow(t, "owner.example", tc.condition, tc.extra)
			sub := tc.sub
			if sub.MailFrom == "" {
				sub.MailFrom = "news@owner.example"
			}
			_, err := h.send(t, sub, header(tc.from))
			switch tc.refused {
			case "":
				if err != nil {
					t.Fatal(err)
				}
				e, _ := h.claimOne(t)
				if e.IdentityAccountID != h.owner || e.IdentityAccount() != h.owner || e.SigningAccount() != h.owner || e.AccountID != h.account {
					t.Errorf("spooled as account %s, identity account %q, signing %q; want %s as %s", e.AccountID, e.IdentityAccountID, e.SigningAccountID, h.account, h.owner)
				}
			case "denied":
				wantReply(t, err, denied(h, arn, "ses:SendRawEmail"))
				if se := seserr.As(err); se.HTTPStatus != 403 || se.QueryCode != "AccessDenied" || se.APICode != "AccessDeniedException" {
					t.Errorf("API face %d %s/%s; want 403 AccessDenied/AccessDeniedException", se.HTTPStatus, se.QueryCode, se.APICode)
				}
			}
		})
	}
}

// The refusals around the policies: no policy at all, an identity the
// owner has not verified, an ARN that is not an identity of this region,
// an ARN whose identity does not cover the address; no ARN at all leaves
// the owner's address unverified for the delegate. A call's own ARN beats
// the header's; the action asked about is the call's.
func TestDelegatedSendingRefusals(t *testing.T) {
	t.Parallel()
	h := newDelegationHarness(t)
	h.allow(t, "owner.example", "", "")
	h.allow(t, "pending.example", "", "")
	msg := func(hdr, from string) string {
		return hdr + "From: " + from + "\r\nSubject: s\r\n\r\nbody\r\n"
	}
	for _, tc := range []struct {
		name string
		sub  Submission
		msg  string
		want string // SMTP reply; "" accepted
	}{
		{"no policy", Submission{MailFrom: "a@bare.example"},
			msg("X-SES-SOURCE-ARN: "+h.arn("bare.example")+"\r\n", "a@bare.example"), denied(h, h.arn("bare.example"), "ses:SendRawEmail")},
		{"the owner's identity is not verified", Submission{MailFrom: "a@pending.example"},
			msg("X-SES-SOURCE-ARN: "+h.arn("pending.example")+"\r\n", "a@pending.example"),
			seserr.NotVerified(region, []string{"a@pending.example"}).SMTPReply()},
		{"another region", Submission{MailFrom: "a@owner.example"},
			msg("X-SES-SOURCE-ARN: arn:aws:ses:us-west-2:"+h.owner+":identity/owner.example\r\n", "a@owner.example"),
			seserr.InvalidIdentityArn("SourceArn", "arn:aws:ses:us-west-2:"+h.owner+":identity/owner.example", region).SMTPReply()},
		{"not an identity ARN", Submission{MailFrom: "a@owner.example", FromArn: "arn:aws:ses:" + region + ":" + h.owner + ":template/t"},
			msg("", "a@owner.example"),
			seserr.InvalidIdentityArn("FromArn", "arn:aws:ses:"+region+":"+h.owner+":template/t", region).SMTPReply()},
		{"the identity does not cover the address", Submission{MailFrom: "a@verified.com"},
			msg("X-SES-FROM-ARN: "+h.arn("owner.example")+"\r\n", "a@verified.com"), denied(h, h.arn("owner.example"), "ses:SendRawEmail")},
		{"no ARN: the owner's address is not the delegate's", Submission{MailFrom: "a@owner.example"},
			msg("", "a@owner.example"), seserr.NotVerified(region, []string{"a@owner.example"}).SMTPReply()},
		{"the call's ARN beats the header's", Submission{MailFrom: "a@owner.example", SourceArn: h.arn("owner.example")},
			msg("X-SES-SOURCE-ARN: "+h.arn("bare.example")+"\r\n", "a@owner.example"), ""},
		{"the action is the call's", Submission{MailFrom: "a@bare.example", SourceArn: h.arn("bare.example"), Meta: spool.Meta{Operation: "SendTemplatedEmail"}},
			msg("", "a@bare.example"), denied(h, h.arn("bare.example"), "ses:SendTemplatedEmail")},
		{"each address its own ARN", Submission{MailFrom: "bounce@verified.com"},
			msg("X-SES-FROM-ARN: "+h.arn("owner.example")+"\r\n", "news@owner.example"), ""},
		{"the delegate's own address beside the owner's still needs verifying", Submission{MailFrom: "x@unverified.test"},
			msg("X-SES-FROM-ARN: "+h.arn("owner.example")+"\r\n", "news@owner.example"),
			seserr.NotVerified(region, []string{"x@unverified.test"}).SMTPReply()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.send(t, tc.sub, tc.msg)
			if tc.want != "" {
				wantReply(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e, _ := h.claimOne(t)
			// Whose identities the envelope sender and the From address are.
			wantIdentity, wantSigning := h.owner, h.owner
			if strings.HasSuffix(tc.sub.MailFrom, "@verified.com") {
				wantIdentity = ""
			}
			if e.IdentityAccountID != wantIdentity || e.SigningAccountID != wantSigning {
				t.Errorf("identity account %q, signing account %q; want %q, %q", e.IdentityAccountID, e.SigningAccountID, wantIdentity, wantSigning)
			}
		})
	}
}

// Both accounts must be out of the sandbox for unverified recipients:
// the owner's sandbox refuses them as the delegate's does.
func TestDelegatedSendingSandbox(t *testing.T) {
	t.Parallel()
	h := newDelegationHarness(t)
	h.allow(t, "owner.example", "", "")
	ctx := context.Background()
	set := store.DefaultSettings(h.owner, region)
	set.Production = false
	if err := h.st.PutAccountSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(2 * time.Second) // past the settings cache
	msg := "X-SES-SOURCE-ARN: " + h.arn("owner.example") + "\r\nFrom: a@owner.example\r\n\r\nbody\r\n"
	_, err := h.send(t, Submission{MailFrom: "a@owner.example"}, msg)
	wantReply(t, err, seserr.NotVerified(region, []string{"ann@rcpt.test"}).SMTPReply())
	// The mailbox simulator is reachable from the sandbox.
	if _, err := h.send(t, Submission{MailFrom: "a@owner.example", Recipients: []string{"success@simulator.amazonses.com"}}, msg); err != nil {
		t.Fatal(err)
	}
	if e, _ := h.claimOne(t); !strings.HasPrefix(e.Recipients[0], "success@") {
		t.Errorf("spooled %v", e.Recipients)
	}
}

// X-SES-RETURN-PATH-ARN authorizes the Return-Path alone: the envelope
// sender is the owner's (its MAIL FROM, its notifications), the From
// address the delegate's own (its key signs); a later instance of the
// header is ignored, as SES reads the first.
func TestDelegatedReturnPathHeader(t *testing.T) {
	t.Parallel()
	h := newDelegationHarness(t)
	h.allow(t, "owner.example", `{"StringEquals":{"ses:FeedbackAddress":"bounces@owner.example"}}`, "")
	msg := "X-SES-RETURN-PATH-ARN: " + h.arn("owner.example") + "\r\nX-SES-RETURN-PATH-ARN: " + h.arn("bare.example") +
		"\r\nFrom: me@example.org\r\nReturn-Path: <bounces@owner.example>\r\nSubject: s\r\n\r\nbody\r\n"
	if _, err := h.send(t, Submission{MailFrom: "bounces@owner.example"}, msg); err != nil {
		t.Fatal(err)
	}
	e, _ := h.claimOne(t)
	if e.IdentityAccountID != h.owner || e.SigningAccountID != "" || e.FeedbackTo != "bounces@owner.example" {
		t.Errorf("identity account %q, signing account %q, feedback to %q; want %s, the delegate's, bounces@owner.example",
			e.IdentityAccountID, e.SigningAccountID, e.FeedbackTo, h.owner)
	}
	// Without the header the owner's address is not the delegate's.
	_, err := h.send(t, Submission{MailFrom: "bounces@owner.example"}, "From: me@example.org\r\nSubject: s\r\n\r\nbody\r\n")
	wantReply(t, err, seserr.NotVerified(region, []string{"bounces@owner.example"}).SMTPReply())
}

// In development mode the owner's pending identity counts as verified,
// but its policies still decide.
func TestDelegatedSendingDevelopment(t *testing.T) {
	t.Parallel()
	h := newDelegationHarness(t)
	h.allow(t, "pending.example", "", "")
	dev := h.developmentSender(t)
	send := func(identity string) error {
		d, err := dev.NewDraft()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(d, "X-SES-SOURCE-ARN: "+h.arn(identity)+"\r\nFrom: a@"+identity+"\r\n\r\nbody\r\n"); err != nil {
			t.Fatal(err)
		}
		_, err = dev.Submit(context.Background(), &Submission{AccountID: h.account, Region: region, MailFrom: "a@" + identity,
			Recipients: []string{"ann@rcpt.test"}, Draft: d, Via: "smtp"})
		return err
	}
	if err := send("pending.example"); err != nil {
		t.Fatalf("a pending identity with a policy, in development mode: %v", err)
	}
	wantReply(t, send("bare.example"), denied(h, h.arn("bare.example"), "ses:SendRawEmail"))
}

// A delegate's access key acts on the owner's identity: its key policy is
// asked about the owner's identity ARN, as IAM asks about the resource a
// send names, and both that policy and the owner's must allow the send.
func TestDelegatedSendingKeyPolicy(t *testing.T) {
	t.Parallel()
	h := newDelegationHarness(t)
	h.allow(t, "owner.example", "", "")
	ctx := context.Background()
	scoped := func(resource string) string {
		k, err := h.st.CreateScopedAccessKey(ctx, h.account, "", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"`+resource+`"}]}`)
		if err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	ownersOnly, delegatesOwn := scoped(h.arn("owner.example")), scoped(IdentityARN(region, h.account, "verified.com"))
	msg := "X-SES-SOURCE-ARN: " + h.arn("owner.example") + "\r\nFrom: a@owner.example\r\n\r\nbody\r\n"
	h.clk.Advance(2 * time.Second)
	if err := h.submitAs(t, ownersOnly, "", "", true, "a@owner.example", []string{"ann@rcpt.test"}, msg); err != nil {
		t.Fatalf("a key allowed the owner's identity: %v", err)
	}
	h.claimOne(t)
	h.clk.Advance(2 * time.Second)
	err := h.submitAs(t, delegatesOwn, "", "", true, "a@owner.example", []string{"ann@rcpt.test"}, msg)
	if se := seserr.As(err); err == nil || se.SMTPCode != 554 || !strings.Contains(se.SMTPText, "on resource `"+h.arn("owner.example")+"'") {
		t.Fatalf("a key allowed only the delegate's own identity: %v; want Access denied on %s", err, h.arn("owner.example"))
	}
}
