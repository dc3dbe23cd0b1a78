package verify

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"sesame/internal/mailmsg"
	"sesame/internal/sending"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// VerifyEmailPath is where the link in the verification mail points, on the
// API listener (served unauthenticated).
const VerifyEmailPath = "/_sesame/verify-email"

// CreateEmail creates an email address identity Pending (v2
// CreateEmailIdentity) and mails it the verification link under linkBase
// (the API's base URL). seserr errors: IdentityExists, IdentityLimitExceeded,
// and admitMail's (a suspended or paused account, the mail limits).
func (v *Verifier) CreateEmail(ctx context.Context, account, region, address, linkBase string) (store.IdentityDetails, error) {
	if _, err := v.cfg.Store.IdentityDetails(ctx, account, region, address); err == nil {
		// An existing identity is refused as before, without costing a mail.
		return store.IdentityDetails{}, seserr.IdentityExists(address)
	}
	if err := v.admitMail(ctx, account, region); err != nil {
		return store.IdentityDetails{}, err
	}
	now := v.clk.Now()
	token, hash := newLinkToken()
	d := store.IdentityDetails{
		Identity:        store.Identity{AccountID: account, Region: region, Name: address, Type: store.EmailAddress, Status: store.StatusPending, Created: now},
		VerifyTokenHash: hash, VerifyExpires: now.Add(EmailLinkTTL), VerifyStarted: now, FeedbackForwarding: true,
	}
	if err := v.cfg.Store.CreateIdentity(ctx, d, v.cfg.MaxIdentities); err != nil {
		return d, apiErr(err, address, v.cfg.MaxIdentities)
	}
	if _, err := v.sendLink(ctx, account, region, address, linkBase, token, nil); err != nil {
		// Without the mail the identity could never verify; let the
		// client's retry create it afresh.
		if derr := v.cfg.Store.DeleteIdentity(ctx, account, region, address); derr != nil {
			v.log.Warn("verify: removing an identity whose mail failed", "identity", address, "err", derr)
		}
		return d, err
	}
	return v.cfg.Store.IdentityDetails(ctx, account, region, address)
}

// VerifyEmail is v1 VerifyEmailIdentity / VerifyEmailAddress: it creates
// the identity or, if there, starts a new 24-hour link (a verified address
// stays verified) and mails the link again. A request admitMail refuses
// changes nothing.
func (v *Verifier) VerifyEmail(ctx context.Context, account, region, address, linkBase string) error {
	_, err := v.verifyEmail(ctx, account, region, address, linkBase, nil)
	return err
}

// SendCustom is SendCustomVerificationEmail: VerifyEmail with the mail made
// from a custom verification email template. It returns the mail's
// MessageId. The caller has checked what the template demands (its From
// address verified, the account out of the sandbox).
func (v *Verifier) SendCustom(ctx context.Context, account, region, address, linkBase string, m CustomMail) (string, error) {
	return v.verifyEmail(ctx, account, region, address, linkBase, &m)
}

// CustomMail is what a custom verification email template makes of the
// verification mail.
type CustomMail struct {
	From    string // FromEmailAddress: the From and the envelope sender
	Subject string // TemplateSubject
	HTML    string // TemplateContent, followed by the link and SES's disclaimer
	// LinkID names the template in the link, so the link redirects to the
	// template's success or failure URL (store.CustomVerificationTemplate).
	LinkID string
	// ConfigurationSet is the set the mail is sent with ("" = none).
	ConfigurationSet string
}

func (v *Verifier) verifyEmail(ctx context.Context, account, region, address, linkBase string, custom *CustomMail) (string, error) {
	if err := v.admitMail(ctx, account, region); err != nil {
		return "", err
	}
	now := v.clk.Now()
	token, hash := newLinkToken()
	d := store.IdentityDetails{
		Identity:        store.Identity{AccountID: account, Region: region, Name: address, Type: store.EmailAddress, Status: store.StatusPending, Created: now},
		VerifyTokenHash: hash, VerifyExpires: now.Add(EmailLinkTTL), VerifyStarted: now, FeedbackForwarding: true,
	}
	err := v.cfg.Store.CreateIdentity(ctx, d, v.cfg.MaxIdentities)
	if errors.Is(err, store.ErrExists) {
		_, err = v.cfg.Store.UpdateIdentity(ctx, account, region, address, func(cur *store.IdentityDetails) error {
			cur.VerifyTokenHash, cur.VerifyExpires, cur.VerifyStarted = hash, now.Add(EmailLinkTTL), now
			if cur.Status != store.StatusSuccess {
				cur.Status = store.StatusPending
			}
			return nil
		})
	}
	if err != nil {
		return "", apiErr(err, address, v.cfg.MaxIdentities)
	}
	return v.sendLink(ctx, account, region, address, linkBase, token, custom)
}

// Confirmation is what following a verification link did.
type Confirmation int

const (
	// Invalid: no identity has this token (wrong, or replaced by a newer mail).
	Invalid Confirmation = iota
	// Verified: the identity is now (or was already) verified.
	Verified
	// Expired: the link is older than 24 hours; the identity is Failed.
	Expired
)

// ConfirmEmail follows a verification link's token.
func (v *Verifier) ConfirmEmail(ctx context.Context, token string) (store.IdentityDetails, Confirmation, error) {
	if token == "" {
		return store.IdentityDetails{}, Invalid, nil
	}
	d, err := v.cfg.Store.IdentityByVerifyToken(ctx, hashLinkToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return d, Invalid, nil
	}
	if err != nil {
		return d, Invalid, fmt.Errorf("verify: %w", err)
	}
	now := v.clk.Now()
	result := Verified
	d, err = v.cfg.Store.UpdateIdentity(ctx, d.AccountID, d.Region, d.Name, func(cur *store.IdentityDetails) error {
		if cur.VerifyTokenHash != hashLinkToken(token) {
			result = Invalid
			return nil
		}
		switch {
		case cur.Status == store.StatusSuccess:
		case now.After(cur.VerifyExpires):
			cur.Status, result = store.StatusFailed, Expired
			cur.Check.Checked, cur.Check.Error = now, ""
		default:
			// Following the link is the address's check, and its success.
			cur.Status = store.StatusSuccess
			cur.Check = store.VerificationCheck{Checked: now, Succeeded: now}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return d, Invalid, nil
	}
	if err != nil {
		return d, Invalid, fmt.Errorf("verify: %w", err)
	}
	if result != Invalid {
		v.Changed(d.AccountID, d.Region)
	}
	if result == Verified {
		v.log.Info("verify: email address verified", "account", d.AccountID, "region", d.Region, "identity", d.Name)
	}
	return d, result, nil
}

// sendLink mails the verification message through sesame itself: the
// default one, or the one custom makes. It returns the MessageId ("" when
// no mail goes out: a Verifier without a Sender).
func (v *Verifier) sendLink(ctx context.Context, account, region, address, linkBase, token string, custom *CustomMail) (string, error) {
	if v.cfg.Sender == nil {
		return "", nil
	}
	link := strings.TrimSuffix(linkBase, "/") + VerifyEmailPath + "?token=" + url.QueryEscape(token)
	m := sending.SystemMessage{AccountID: account, Region: region, Recipients: []string{address}}
	if custom != nil {
		link += "&" + LinkTemplateParam + "=" + url.QueryEscape(custom.LinkID)
		m.MailFrom, m.ConfigurationSet = custom.From, custom.ConfigurationSet
	} else {
		m.MailFrom = "no-reply@" + v.cfg.Hostname
	}
	m.Message = verificationMessage(m.MailFrom, address, RegionName(region), link, v.clk.Now(), custom)
	id, err := v.cfg.Sender.SubmitSystem(ctx, m)
	if err != nil {
		return "", fmt.Errorf("verify: mailing the verification link to %s: %w", address, err)
	}
	return id, nil
}

// LinkTemplateParam is the link's query parameter naming the custom
// verification template the mail came from (CustomMail.LinkID).
const LinkTemplateParam = "template"

// VerificationSubject is the verification mail's subject, SES's own.
func VerificationSubject(regionName string) string {
	return "Amazon Web Services - Email Address Verification Request in region " + regionName
}

// verificationMessage builds the mail. The default is plain text in SES's
// wording, the link on a line of its own so clients and tests find it. A
// custom template's is its HTML followed, as in SES, by the link and SES's
// disclaimer (which cannot be removed), under its From and Subject.
func verificationMessage(from, to, regionName, link string, now time.Time, custom *CustomMail) []byte {
	if custom != nil {
		body := custom.HTML + "\r\n<p><a href=\"" + html.EscapeString(link) + "\">" + html.EscapeString(link) + "</a></p>\r\n" +
			"<p>" + html.EscapeString(CustomDisclaimer) + "</p>\r\n"
		m := mailmsg.Text("text/html", body)
		m.Header = append([]mailmsg.Field{
			{Name: "From", Value: from},
			{Name: "To", Value: to},
			{Name: "Subject", Value: mailmsg.EncodeText(custom.Subject)},
			{Name: "MIME-Version", Value: "1.0"},
		}, append(m.Header, mailmsg.Field{Name: "Auto-Submitted", Value: "auto-generated"})...)
		return m.Bytes()
	}
	body := []string{
		"Dear sesame customer,",
		"",
		"We have received a request to authorize this email address for use with",
		"Amazon SES (served by sesame) in region " + regionName + ". If you requested this",
		"verification, please go to the following URL to confirm that you are",
		"authorized to use this email address:",
		"",
		link,
		"",
		"Your request will not be processed unless you confirm the address using",
		"this URL. This link expires 24 hours after your original verification",
		"request (" + now.UTC().Add(EmailLinkTTL).Format(time.RFC1123) + ").",
		"",
		"If you did NOT request to verify this email address, do not click on the",
		"link.",
	}
	// 8bit, not quoted-printable: the link must stay whole in the raw
	// message for those who find it there.
	m := &mailmsg.Part{
		Header: []mailmsg.Field{
			{Name: "From", Value: from},
			{Name: "To", Value: to},
			{Name: "Subject", Value: mailmsg.EncodeText(VerificationSubject(regionName))},
			{Name: "MIME-Version", Value: "1.0"},
			{Name: "Content-Type", Value: "text/plain; charset=UTF-8"},
			{Name: "Content-Transfer-Encoding", Value: "8bit"},
			{Name: "Auto-Submitted", Value: "auto-generated"},
		},
		Body: []byte(strings.Join(body, "\r\n") + "\r\n"),
	}
	return m.Bytes()
}

// CustomDisclaimer ends every custom verification mail, as SES's does.
const CustomDisclaimer = "If you did not request to verify this email address, please disregard this message."

// regionNames are AWS's display names, used in the verification subject.
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"af-south-1": "Africa (Cape Town)", "ap-east-1": "Asia Pacific (Hong Kong)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ap-south-2": "Asia Pacific (Hyderabad)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-southeast-3": "Asia Pacific (Jakarta)",
	"ca-central-1": "Canada (Central)", "eu-central-1": "Europe (Frankfurt)",
	"eu-central-2": "Europe (Zurich)", "eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)",
	"eu-west-3": "Europe (Paris)", "eu-north-1": "Europe (Stockholm)", "eu-south-1": "Europe (Milan)",
	"il-central-1": "Israel (Tel Aviv)", "me-south-1": "Middle East (Bahrain)",
	"me-central-1": "Middle East (UAE)", "sa-east-1": "South America (São Paulo)",
	"us-gov-west-1": "AWS GovCloud (US-West)", "us-gov-east-1": "AWS GovCloud (US-East)",
}

// RegionName is a region's display name ("US East (N. Virginia)"), or the
// region itself when it is not one of AWS's.
func RegionName(region string) string {
	if n, ok := regionNames[region]; ok {
		return n
	}
	return region
}
