package verdict

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// maxDKIMSignatures bounds the signatures verified per message: each costs
// a DNS lookup and an RSA verification, and a sender gains nothing from
// more than a few.
const maxDKIMSignatures = 5

type spfOutcome struct {
	status string // SES's
	result string // RFC 7208's
	domain string // the domain checked
	// decidedBy is the domain whose record decided the result (an
	// include's for a pass through one).
	decidedBy string
}

// checkSPF checks the MAIL FROM identity (RFC 7208 §2.4); for the null
// sender that is postmaster@ the HELO name, as the RFC says.
func (c *Checker) checkSPF(ctx context.Context, in Input) spfOutcome {
	sender := in.MailFrom
	if sender == "" {
		sender = "postmaster@" + in.Helo
	}
	domain := domainOf(sender)
	if domain == "" {
		domain = strings.ToLower(in.Helo) // as the library does for a sender without a domain
	}
	var decider decidingDomain
	res, err := spf.CheckHostWithSender(in.IP.Unmap().AsSlice(), in.Helo, sender,
		spf.WithContext(ctx), spf.WithResolver(c.dns), spf.WithTraceFunc(decider.trace))
	if res == spf.TempError || res == spf.PermError {
		c.cfg.Log.Info("verdict: spf", "domain", domain, "ip", in.IP, "result", string(res), "err", err)
	}
	out := spfOutcome{result: string(res), domain: domain, decidedBy: decider.decided}
	if out.decidedBy == "" {
		out.decidedBy = domain
	}
	switch res {
	case spf.Pass:
		out.status = Pass
	case spf.Fail, spf.SoftFail:
		out.status = Fail
	case spf.Neutral, spf.None:
		out.status = Gray
	default:
		out.status = ProcessingFailed
	}
	return out
}

type dkimOutcome struct {
	status  string
	passed  []string // d= domains of the signatures that verified
	tempErr []string // d= domains whose key could not be fetched
}

// checkDKIM verifies the message's DKIM signatures (RFC 6376).
func (c *Checker) checkDKIM(ctx context.Context, msg []byte) dkimOutcome {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT:        c.dns.txtFunc(ctx),
		MaxVerifications: maxDKIMSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		c.cfg.Log.Info("verdict: dkim: message unreadable", "err", err)
		return dkimOutcome{status: ProcessingFailed}
	}
	if len(verifs) == 0 {
		return dkimOutcome{status: Gray}
	}
	var out dkimOutcome
	for _, v := range verifs {
		switch {
		case v.Err == nil:
			out.passed = append(out.passed, strings.ToLower(v.Domain))
		case dkim.IsTempFail(v.Err):
			out.tempErr = append(out.tempErr, strings.ToLower(v.Domain))
			c.cfg.Log.Info("verdict: dkim: key unavailable", "domain", v.Domain, "err", v.Err)
		}
	}
	switch {
	case len(out.passed) > 0:
		out.status = Pass
	case len(out.tempErr) > 0:
		out.status = ProcessingFailed
	default:
		out.status = Fail
	}
	return out
}

type dmarcOutcome struct {
	status     string
	policy     string // set when status is FAIL
	fromDomain string
}

// dmarcRank orders outcomes for a message with several author domains:
// the worst one is the message's.
var dmarcRank = map[string]int{Gray: 0, Pass: 1, ProcessingFailed: 2, Fail: 3}

// policyRank orders DMARC policies by strictness.
var policyRank = map[string]int{"": 0, "none": 1, "quarantine": 2, "reject": 3}

// checkDMARC evaluates the DMARC policy of the message's author domain
// (RFC 7489 §6.6) against the SPF and DKIM outcomes. A message with
// several author domains (several From addresses or fields) is checked
// for each, as §6.6.1 allows, and gets the worst outcome: adding a second
// author must not turn a spoofed From's FAIL into GRAY.
func (c *Checker) checkDMARC(ctx context.Context, msg []byte, spfRes spfOutcome, dk dkimOutcome) dmarcOutcome {
	domains := fromDomains(msg)
	if len(domains) == 0 {
		// No author domain: there is no policy to evaluate.
		return dmarcOutcome{status: Gray}
	}
	var worst dmarcOutcome
	for i, from := range domains {
		out := c.checkDMARCDomain(ctx, from, spfRes, dk)
		if i == 0 || dmarcRank[out.status] > dmarcRank[worst.status] ||
			(out.status == Fail && policyRank[out.policy] > policyRank[worst.policy]) {
			worst = out
		}
	}
	return worst
}

// checkDMARCDomain evaluates one author domain's policy.
func (c *Checker) checkDMARCDomain(ctx context.Context, from string, spfRes spfOutcome, dk dkimOutcome) dmarcOutcome {
	out := dmarcOutcome{fromDomain: from}
	rec, orgLevel, err := c.lookupPolicy(ctx, from)
	switch {
	case err != nil:
		c.cfg.Log.Info("verdict: dmarc: policy lookup failed", "domain", from, "err", err)
		out.status = ProcessingFailed
		return out
	case rec == nil:
		out.status = Gray
		return out
	}
	if spfRes.status == Pass && aligned(spfRes.domain, from, rec.SPFAlignment) {
		out.status = Pass
		return out
	}
	for _, d := range dk.passed {
		if aligned(d, from, rec.DKIMAlignment) {
			out.status = Pass
			return out
		}
	}
	// Nothing aligned passed. Had SPF or a key lookup not failed for a
	// moment, it might have: that is no FAIL to act on.
	if spfRes.result == string(spf.TempError) || len(dk.tempErr) > 0 {
		out.status = ProcessingFailed
		return out
	}
	out.status = Fail
	out.policy = string(rec.Policy)
	// RFC 7489 §6.3: sp applies to subdomains of the organizational
	// domain whose record was found.
	if orgLevel && rec.SubdomainPolicy != "" {
		out.policy = string(rec.SubdomainPolicy)
	}
	return out
}

// lookupPolicy finds the DMARC record for domain, falling back to its
// organizational domain's (RFC 7489 §6.6.3); orgLevel says the fallback
// answered. No record at either is (nil, false, nil); an invalid record
// counts as none.
func (c *Checker) lookupPolicy(ctx context.Context, domain string) (rec *dmarc.Record, orgLevel bool, err error) {
	opts := &dmarc.LookupOptions{LookupTXT: c.dns.txtFunc(ctx)}
	rec, err = dmarc.LookupWithOptions(domain, opts)
	if err == nil || dmarc.IsTempFail(err) {
		return rec, false, err
	}
	org := orgDomain(domain)
	if org == domain {
		return nil, false, nil
	}
	rec, err = dmarc.LookupWithOptions(org, opts)
	if err == nil || dmarc.IsTempFail(err) {
		return rec, true, err
	}
	return nil, false, nil
}

// aligned reports whether an authenticated domain is aligned with the
// From domain (RFC 7489 §3.1): the same name in strict mode, the same
// organizational domain in relaxed mode (the default).
func aligned(authDomain, from string, mode dmarc.AlignmentMode) bool {
	authDomain, from = strings.ToLower(authDomain), strings.ToLower(from)
	if mode == dmarc.AlignmentStrict {
		return authDomain == from
	}
	return orgDomain(authDomain) == orgDomain(from)
}

// orgDomain is domain's organizational domain by the public suffix list
// (RFC 7489 §3.2); a name that is itself a public suffix is its own.
func orgDomain(domain string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimSuffix(domain, "."))
	if err != nil {
		return domain
	}
	return org
}

// fromDomains are the distinct domains of the message's authors, the
// addresses of its From fields (RFC 7489 §6.6.1), in order; none when it
// has no From or one that cannot be parsed.
func fromDomains(msg []byte) []string {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(msg)))
	if err != nil {
		return nil
	}
	var out []string
	for _, value := range h.Values("From") {
		addrs, err := mail.ParseAddressList(value)
		if err != nil {
			return nil
		}
		for _, a := range addrs {
			if d := domainOf(a.Address); d != "" && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// domainOf is the lower-cased domain of an address.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[i+1:], "."))
}
