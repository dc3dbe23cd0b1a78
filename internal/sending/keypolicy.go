package sending

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"sesame/internal/policy"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// A send is held to the policy of the access key that made it (the API
// call's signer, or the key SMTP AUTH named), as IAM holds a user's sends:
// Action ses:<operation> (ses:SendRawEmail over SMTP), Resource the
// sending identity's ARN, and SES's send condition keys (ses:FromAddress,
// ses:FromDisplayName, ses:Recipients, ses:FeedbackAddress) with the
// request's (aws:SourceIp, aws:CurrentTime, aws:SecureTransport). The key
// and its parsed policy come from the key cache: no SQL, no JSON per
// message.

// smtpOperation is Meta.Operation over SMTP; IAM knows the action as
// ses:SendRawEmail.
const smtpOperation = "SendSmtpEmail"

// checkKeyPolicy refuses the submission when its key's policy does not
// allow it (seserr.KeyNotAuthorized). Mail without a caller (sesame's own)
// and keys without a policy pass. A send naming a configuration set (the
// call's or X-SES-CONFIGURATION-SET's; not an identity's default) needs
// the action allowed on that set too, as IAM asks of every resource a
// send names; the identity is decided first.
func (s *Sender) checkKeyPolicy(ctx context.Context, sub *Submission, request func() policy.Request, configSet string) error {
	keyID := sub.Meta.CallerIdentity
	if keyID == "" {
		return nil
	}
	k, err := s.key(ctx, keyID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Deleted since the session authenticated: whatever it was
		// allowed, it is allowed nothing now.
		k = Key{AccessKey: store.AccessKey{ID: keyID, AccountID: sub.AccountID},
			policyErr: fmt.Errorf("sending: access key %s was deleted", keyID)}
	case err != nil:
		return seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: access key %s: %w", keyID, err))
	}
	if !k.Scoped() {
		return nil
	}
	r := request()
	if err := k.Authorize(r); err != nil || configSet == "" {
		return err
	}
	r.Resource = "arn:aws:ses:" + sub.Region + ":" + sub.AccountID + ":configuration-set/" + configSet
	return k.Authorize(r)
}

// sendRequest is the submission as IAM sees a send (admit sets the
// Resource of a delegate's send to the owner's identity).
func (s *Sender) sendRequest(sub *Submission, h *header, senders []string, ids *identitySet) policy.Request {
	op := sub.Meta.Operation
	if op == "" || op == smtpOperation {
		op = "SendRawEmail"
	}
	from := ""
	if len(senders) > 0 {
		from = senders[0] // the first From address: senderAddresses lists From first
	}
	feedback := sub.MailFrom
	if sub.Meta.FeedbackTo != "" {
		feedback = sub.Meta.FeedbackTo
	}
	ip, _ := netip.ParseAddr(sub.Meta.SourceIP)
	return policy.Request{
		Principal:       sub.AccountID,
		Action:          "ses:" + op,
		Resource:        IdentityARN(sub.Region, sub.AccountID, ids.identityOf(from)),
		FromAddress:     from,
		FromDisplayName: displayName(h.from),
		Recipients:      sub.Recipients,
		FeedbackAddress: feedback,
		APIVersion:      sub.APIVersion,
		SourceIP:        ip.Unmap(),
		Time:            s.clk.Now(),
		SecureTransport: sub.Secure,
	}
}

// IdentityARN is an SES identity's ARN.
func IdentityARN(region, account, identity string) string {
	return "arn:aws:ses:" + region + ":" + account + ":identity/" + identity
}

// identityOf names the identity a sender address is sent under, as SES
// picks it: the address's own identity (without a "+label"), else its
// domain's or the nearest parent domain's. An address no identity covers
// is its own (unverified) identity.
func (s *identitySet) identityOf(addr string) string {
	local, domain := splitAddress(addr)
	if domain == "" {
		return addr
	}
	d := strings.ToLower(domain)
	if locals := s.addresses[d]; locals != nil {
		if _, ok := locals[local]; ok {
			return local + "@" + domain
		}
		if plus := strings.IndexByte(local, '+'); plus > 0 {
			if _, ok := locals[local[:plus]]; ok {
				return local[:plus] + "@" + domain
			}
		}
	}
	for p := d; p != ""; {
		if _, ok := s.domains[p]; ok {
			return p
		}
		dot := strings.IndexByte(p, '.')
		if dot < 0 {
			break
		}
		p = p[dot+1:]
	}
	return addr
}

// displayName is the first From address's display name, decoded ("" when
// it has none or the field does not parse: the address check has already
// refused a field that does not).
func displayName(from string) string {
	list, err := addressParser.ParseList(from)
	if err != nil || len(list) == 0 {
		return ""
	}
	return list[0].Name
}
