package sending

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// submitAs submits msg as the key keyID would over SMTP (or, with op set,
// as that API operation), from ip.
func (h *harness) submitAs(t *testing.T, keyID, op, ip string, secure bool, mailFrom string, rcpts []string, msg string) error {
	t.Helper()
	d, err := h.s.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(d, msg); err != nil {
		t.Fatal(err)
	}
	if op == "" {
		op = smtpOperation
	}
	_, err = h.s.Submit(context.Background(), &Submission{
		AccountID: h.account, Region: region, MailFrom: mailFrom, Recipients: rcpts, Draft: d, Via: spool.ViaSMTP,
		Meta: spool.Meta{Operation: op, SourceIP: ip, CallerIdentity: keyID}, Secure: secure,
	})
	return err
}

// TestKeyPolicySends: a send is decided by its key's policy as IAM decides
// a user's: the action (ses:SendRawEmail over SMTP, the operation over the
// API), the sending identity's ARN as resource, the send condition keys
// and the request's; an explicit Deny wins; no Allow refuses; a key
// without a policy sends as before; sesame's own mail (no caller) is not
// held to any key.
func TestKeyPolicySends(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	ctx := context.Background()
	arn := func(id string) string { return IdentityARN(region, h.account, id) }
	scoped := func(name, doc string) store.AccessKey {
		k, err := h.st.CreateScopedAccessKey(ctx, h.account, name, doc)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	oneIdentity := scoped("verified-only", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"`+arn("verified.com")+`"},
		{"Effect":"Deny","Action":"ses:Send*","Resource":"*","Condition":{"ForAnyValue:StringNotLike":{"ses:Recipients":"*@example.com"}}}]}`)
	conditions := scoped("", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*","Condition":{
			"StringEquals":{"ses:FromDisplayName":"Shop","ses:FeedbackAddress":"bounces@verified.com"},
			"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
			"Bool":{"aws:SecureTransport":"true"}}}]}`)
	nothing := scoped("", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:GetAccount","Resource":"*"}]}`)

	msg := func(from string) string { return "From: " + from + "\r\nSubject: hi\r\n\r\nbody\r\n" }
	type denial struct {
		user, action, resource string
		explicit               bool
	}
	for _, tc := range []struct {
		name     string
		key      store.AccessKey
		op, ip   string
		secure   bool
		mailFrom string
		rcpts    []string
		from     string
		deny     *denial
	}{
		{name: "no policy: as before", key: h.key, mailFrom: "a@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "a@verified.com"},
		{name: "no caller: sesame's own mail", mailFrom: "a@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "a@verified.com"},
		{name: "its identity, an allowed recipient", key: oneIdentity, mailFrom: "a@verified.com",
			rcpts: []string{"x@example.com"}, from: "Shop <a@sub.verified.com>"},
		{name: "another identity", key: oneIdentity, mailFrom: "me@example.org", rcpts: []string{"x@example.com"}, from: "me+tag@example.org",
			deny: &denial{"user/verified-only", "ses:SendRawEmail", arn("me@example.org"), false}},
		{name: "a recipient the Deny's condition refuses", key: oneIdentity, mailFrom: "a@verified.com",
			rcpts: []string{"x@example.com", "y@elsewhere.net"}, from: "a@verified.com",
			deny: &denial{"user/verified-only", "ses:SendRawEmail", arn("verified.com"), true}},
		{name: "the API's action is not SMTP's", key: oneIdentity, op: "SendEmail", mailFrom: "a@verified.com",
			rcpts: []string{"x@example.com"}, from: "a@verified.com",
			deny: &denial{"user/verified-only", "ses:SendEmail", arn("verified.com"), false}},
		{name: "every condition holds", key: conditions, op: "SendEmail", ip: "10.1.2.3", secure: true,
			mailFrom: "bounces@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "Shop <a@verified.com>"},
		{name: "display name differs", key: conditions, op: "SendEmail", ip: "10.1.2.3", secure: true,
			mailFrom: "bounces@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "Other <a@verified.com>",
			deny: &denial{"user/" + conditions.ID, "ses:SendEmail", arn("verified.com"), false}},
		{name: "feedback address differs", key: conditions, op: "SendEmail", ip: "10.1.2.3", secure: true,
			mailFrom: "other@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "Shop <a@verified.com>",
			deny: &denial{"user/" + conditions.ID, "ses:SendEmail", arn("verified.com"), false}},
		{name: "source address outside", key: conditions, op: "SendEmail", ip: "192.0.2.1", secure: true,
			mailFrom: "bounces@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "Shop <a@verified.com>",
			deny: &denial{"user/" + conditions.ID, "ses:SendEmail", arn("verified.com"), false}},
		{name: "not over TLS", key: conditions, op: "SendEmail", ip: "10.1.2.3",
			mailFrom: "bounces@verified.com", rcpts: []string{"x@elsewhere.net"}, from: "Shop <a@verified.com>",
			deny: &denial{"user/" + conditions.ID, "ses:SendEmail", arn("verified.com"), false}},
		{name: "no send allowed", key: nothing, mailFrom: "a@verified.com", rcpts: []string{"x@example.com"}, from: "a@verified.com",
			deny: &denial{"user/" + nothing.ID, "ses:SendRawEmail", arn("verified.com"), false}},
	} {
		err := h.submitAs(t, tc.key.ID, tc.op, tc.ip, tc.secure, tc.mailFrom, tc.rcpts, msg(tc.from))
		if tc.deny == nil {
			if err != nil {
				t.Errorf("%s: refused: %v", tc.name, err)
			}
			continue
		}
		want := seserr.KeyNotAuthorized("arn:aws:iam::"+h.account+":"+tc.deny.user, tc.deny.action, tc.deny.resource, tc.deny.explicit)
		e := seserr.As(err)
		if err == nil || e.SMTPReply() != want.SMTPReply() || e.Message != want.Message || e.APICode != "AccessDeniedException" {
			t.Errorf("%s: err = %v (%s); want %s / %s", tc.name, err, seserr.As(err).Message, want.SMTPReply(), want.Message)
		}
	}
	// Only the allowed sends were spooled.
	want := 4
	ctxT, cancel := context.WithTimeout(ctx, 5e9)
	defer cancel()
	entries, err := h.sp.Claim(ctxT, 100)
	if err != nil || len(entries) != want {
		t.Errorf("spooled %d messages (%v); want %d", len(entries), err, want)
	}
}

// A refused send costs no quota: the check comes before the reservation.
// A deleted key sends nothing, whatever its policy was.
func TestKeyPolicyDeletedKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, 0)
	k, err := h.st.CreateAccessKey(context.Background(), h.account)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.DeleteAccessKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	err = h.submitAs(t, k.ID, "", "", false, "me@example.org", []string{"me@example.org"}, "From: me@example.org\r\n\r\nx\r\n")
	if e := seserr.As(err); err == nil || !strings.HasPrefix(e.SMTPReply(), "554 Access denied: User `arn:aws:iam::"+h.account+":user/"+k.ID+"'") {
		t.Errorf("send with a deleted key: %v", err)
	}
}

// The SMTP face is SES's 554 line, byte for byte.
func TestKeyNotAuthorizedText(t *testing.T) {
	t.Parallel()
	e := seserr.KeyNotAuthorized("arn:aws:iam::123456789012:user/shop", "ses:SendRawEmail", "arn:aws:ses:eu-west-1:123456789012:identity/example.com", false)
	if want := "554 Access denied: User `arn:aws:iam::123456789012:user/shop' is not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:eu-west-1:123456789012:identity/example.com'"; e.SMTPReply() != want {
		t.Errorf("SMTP reply = %q; want %q", e.SMTPReply(), want)
	}
	if want := "User: arn:aws:iam::123456789012:user/shop is not authorized to perform: ses:SendRawEmail on resource: arn:aws:ses:eu-west-1:123456789012:identity/example.com because no identity-based policy allows the ses:SendRawEmail action"; e.Message != want {
		t.Errorf("message = %q; want %q", e.Message, want)
	}
	if e.HTTPStatus != 403 || e.APICode != "AccessDeniedException" || e.QueryCode != "AccessDenied" {
		t.Errorf("API face = %d %s %s", e.HTTPStatus, e.APICode, e.QueryCode)
	}
}

// A send naming a configuration set (here by X-SES-CONFIGURATION-SET over
// SMTP) needs the action allowed on the set too; the identity is decided
// first.
func TestKeyPolicyConfigurationSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	ctx := context.Background()
	for _, name := range []string{"allowed", "other"} {
		if err := h.st.CreateConfigurationSet(ctx, store.ConfigurationSet{AccountID: h.account, Region: region, Name: name}, 0); err != nil {
			t.Fatal(err)
		}
	}
	csARN := func(name string) string {
		return "arn:aws:ses:" + region + ":" + h.account + ":configuration-set/" + name
	}
	k, err := h.st.CreateScopedAccessKey(ctx, h.account, "cs", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":["`+IdentityARN(region, h.account, "verified.com")+`","`+csARN("allowed")+`"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(from, set string) string {
		return "From: " + from + "\r\nX-SES-CONFIGURATION-SET: " + set + "\r\n\r\nx\r\n"
	}
	user := "arn:aws:iam::" + h.account + ":user/cs"
	for _, tc := range []struct{ from, set, deniedOn string }{
		{"a@verified.com", "allowed", ""},
		{"a@verified.com", "other", csARN("other")},
		{"me@example.org", "other", IdentityARN(region, h.account, "me@example.org")},
	} {
		err := h.submitAs(t, k.ID, "", "", false, tc.from, []string{"x@elsewhere.net"}, msg(tc.from, tc.set))
		switch {
		case tc.deniedOn == "" && err != nil:
			t.Errorf("%s with %s: %v", tc.from, tc.set, err)
		case tc.deniedOn != "":
			want := seserr.KeyNotAuthorized(user, "ses:SendRawEmail", tc.deniedOn, false).SMTPReply()
			if got := seserr.As(err).SMTPReply(); err == nil || got != want {
				t.Errorf("%s with %s: %v; want %s", tc.from, tc.set, err, want)
			}
		}
	}
}

// aws:CurrentTime is the Sender's clock: a key allowed to send until a
// date is refused after it.
func TestKeyPolicyCurrentTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(s *store.AccountSettings) { s.Production = true }, 0)
	k, err := h.st.CreateScopedAccessKey(context.Background(), h.account, "", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-12-01T00:00:00Z"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	send := func() error {
		return h.submitAs(t, k.ID, "", "", false, "a@verified.com", []string{"x@elsewhere.net"}, "From: a@verified.com\r\n\r\nx\r\n")
	}
	if err := send(); err != nil { // acceptTime is 2026-11-23
		t.Errorf("before the date: %v", err)
	}
	h.clk.Advance(10 * 24 * time.Hour)
	if err := send(); seserr.As(err).APICode != "AccessDeniedException" {
		t.Errorf("after the date: %v; want AccessDeniedException", err)
	}
}
