package verdict

import (
	"strings"
)

// Headers renders the header fields SES prepends to a received message,
// in SES's order and wording:
//
//	X-SES-Spam-Verdict: PASS
//	X-SES-Virus-Verdict: PASS
//	Received-SPF: pass (spfCheck: domain of example.com designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=a@example.com; helo=mail.example.com;
//
// The spam and virus lines are left out when scanning was off (DISABLED):
// SES's stored mail from rules without ScanEnabled carries Received-SPF
// alone. Received-SPF's comment is the one SES writes (its "spfCheck:"
// stands where RFC 7208 §9.1 puts the receiver's name), so parsers written
// for SES's mail read ours; hostname is not part of it and is kept for the
// caller's other headers (see AuthenticationResults). The domain named is
// the one whose record decided (SPFDecidedBy: an include's for a pass
// through one, as SES names _spf.google.com). Each line ends in CRLF.
func (v Verdicts) Headers(in Input, hostname string) []byte {
	var b strings.Builder
	if v.Spam != "" && v.Spam != Disabled {
		b.WriteString("X-SES-Spam-Verdict: " + v.Spam + "\r\n")
	}
	if v.Virus != "" && v.Virus != Disabled {
		b.WriteString("X-SES-Virus-Verdict: " + v.Virus + "\r\n")
	}
	b.WriteString("Received-SPF: " + v.receivedSPF(in) + "\r\n")
	return []byte(b.String())
}

// receivedSPF is Received-SPF's value (RFC 7208 §9.1) in SES's wording.
func (v Verdicts) receivedSPF(in Input) string {
	ip := in.IP.Unmap().String()
	domain := clean(v.SPFDecidedBy)
	if domain == "" {
		domain = clean(v.SPFDomain)
	}
	result := v.SPFResult
	var comment string
	switch result {
	case "pass":
		comment = "domain of " + domain + " designates " + ip + " as permitted sender"
	case "fail":
		comment = "domain of " + domain + " does not designate " + ip + " as permitted sender"
	case "softfail":
		comment = "transitioning domain of " + domain + " does not designate " + ip + " as permitted sender"
	case "neutral", "none":
		comment = ip + " is neither permitted nor denied by domain of " + domain
	case "temperror":
		comment = "Error in retrieving data from DNS"
	default: // permerror, and anything this package never gives
		result, comment = "permerror", "Error in processing SPF Record"
	}
	envelopeFrom := in.MailFrom
	if envelopeFrom == "" {
		envelopeFrom = "postmaster@" + in.Helo
	}
	return result + " (spfCheck: " + comment + ") client-ip=" + ip +
		"; envelope-from=" + clean(envelopeFrom) + "; helo=" + clean(in.Helo) + ";"
}

// AuthenticationResults renders the Authentication-Results field (RFC 8601)
// SES adds after Received-SPF, with hostname as the authserv-id (SES's is
// amazonses.com):
//
//	Authentication-Results: mx.example.net;
//	 spf=pass (spfCheck: …) client-ip=…; envelope-from=…; helo=…;
//	 dkim=pass header.i=@example.com;
//	 dmarc=pass header.from=example.com;
func (v Verdicts) AuthenticationResults(in Input, hostname string) []byte {
	var b strings.Builder
	b.WriteString("Authentication-Results: " + clean(hostname) + ";\r\n")
	b.WriteString(" spf=" + v.receivedSPF(in) + "\r\n")
	dkimDomain := ""
	if len(v.DKIMDomains) > 0 {
		dkimDomain = v.DKIMDomains[0]
	}
	switch v.DKIM {
	case Pass:
		b.WriteString(" dkim=pass header.i=@" + clean(dkimDomain) + ";\r\n")
	case Fail:
		b.WriteString(" dkim=fail;\r\n")
	case Gray:
		b.WriteString(" dkim=none;\r\n")
	default:
		b.WriteString(" dkim=temperror;\r\n")
	}
	from := ""
	if v.FromDomain != "" {
		from = " header.from=" + clean(v.FromDomain)
	}
	switch v.DMARC {
	case Pass:
		b.WriteString(" dmarc=pass" + from + ";\r\n")
	case Fail:
		b.WriteString(" dmarc=fail" + from + ";\r\n")
	case Gray:
		b.WriteString(" dmarc=none" + from + ";\r\n")
	default:
		b.WriteString(" dmarc=temperror" + from + ";\r\n")
	}
	return []byte(b.String())
}

// clean keeps a client-given name (HELO, MAIL FROM) from breaking the
// header: control characters and spaces go, so a name can neither end the
// field nor add a key=value pair.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == ';' {
			return -1
		}
		return r
	}, s)
}
