package verify

import (
	"errors"
	"net/netip"
	"strings"

	"sesame/internal/store"
)

// Record is one DNS record a domain's owner publishes for its identity.
// Name and a CNAME's or MX's host are written without the trailing dot.
type Record struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Value   string `json:"value"`
	Purpose string `json:"purpose"`
}

// RecordsInput is what a domain identity's DNS records are made of. Its
// fields are plain so that both the operator's CLI (which reads the store)
// and the web console (which reads GetEmailIdentity as the user) fill it.
type RecordsInput struct {
	Domain string
	Region string
	// DKIMOrigin is store.DKIMOriginAWS (Easy DKIM: DKIMTokens) or
	// store.DKIMOriginExternal (BYODKIM: DKIMSelector and, when the key is
	// at hand, DKIMPublicKeyTXT); "" is no DKIM set up.
	DKIMOrigin   string
	DKIMTokens   []string
	DKIMSelector string
	// DKIMPublicKeyTXT is BYODKIM's TXT value (dkim.PublicKeyRecord); ""
	// when only the key's owner has it (the console never sees the key):
	// the record then says where their public key goes.
	DKIMPublicKeyTXT string
	MailFromDomain   string
	// DomainToken is the v1 _amazonses token; Status and DKIMStatus are
	// the domain's and its DKIM's verification status, spelled as v1
	// ("Success") or v2 ("SUCCESS") does.
	DomainToken        string
	Status, DKIMStatus string
	// DKIMCNAMEDomain, MailFromMXDomain and Hostname are the operator's
	// configuration (verification.dkim_cname_domain,
	// verification.mail_from_mx_domain, hostname).
	DKIMCNAMEDomain, MailFromMXDomain, Hostname string
	// SourceAddresses are the machine's sending addresses
	// ([[delivery.source_addresses]], IP literals): mail leaves from them,
	// or by the default route from hostname's address, so the SPF record
	// allows both.
	SourceAddresses []string
}

// Records lists what a domain's owner publishes: DKIM (Easy DKIM's three
// CNAMEs into DKIMCNAMEDomain, or BYODKIM's key), the custom MAIL FROM
// domain's MX and SPF, the v1 _amazonses token while the domain waits for
// it, and a DMARC policy to start from. It fails when the configuration
// lacks a domain a record needs.
func Records(in RecordsInput) ([]Record, error) {
	var out []Record
	switch in.DKIMOrigin {
	case store.DKIMOriginAWS:
		if in.DKIMCNAMEDomain == "" {
			return nil, errors.New("no DKIM CNAME domain: set verification.dkim_cname_domain (or hostname)")
		}
		for i, tok := range in.DKIMTokens {
			purpose := "Easy DKIM: points at the public key sesame publishes (its [dns] listener or `dkim zone`)"
			if i == 0 {
				purpose += "; mail is signed with this selector now"
			}
			tok = strings.ToLower(tok)
			out = append(out, Record{Name: tok + "._domainkey." + in.Domain, Type: "CNAME",
				Value: tok + "." + in.DKIMCNAMEDomain, Purpose: purpose})
		}
	case store.DKIMOriginExternal:
		selector := in.DKIMSelector
		if selector == "" {
			selector = "<selector>"
		}
		value, purpose := in.DKIMPublicKeyTXT, "BYODKIM: the public half of the key mail is signed with"
		if value == "" {
			value = "v=DKIM1; k=rsa; p=<your public key, base64>"
			purpose = "BYODKIM: the public key of your own key pair (the private half you gave SES signs the mail)"
		}
		out = append(out, Record{Name: selector + "._domainkey." + in.Domain, Type: "TXT", Value: value, Purpose: purpose})
	}
	if mf := in.MailFromDomain; mf != "" {
		if in.MailFromMXDomain == "" || in.Hostname == "" {
			return nil, errors.New("no MAIL FROM MX domain: set verification.mail_from_mx_domain and hostname")
		}
		out = append(out,
			Record{Name: mf, Type: "MX", Value: "10 feedback-smtp." + in.Region + "." + in.MailFromMXDomain,
				Purpose: "custom MAIL FROM: bounces and complaints reach sesame's feedback MX (the operator makes this host resolve to it)"},
			spfRecord(mf, in.Hostname, in.SourceAddresses))
	}
	if in.DomainToken != "" && !succeeded(in.Status) && !succeeded(in.DKIMStatus) {
		out = append(out, Record{Name: "_amazonses." + in.Domain, Type: "TXT", Value: in.DomainToken,
			Purpose: "domain verification (v1 VerifyDomainIdentity); not needed once the domain is verified"})
	}
	out = append(out, Record{Name: "_dmarc." + in.Domain, Type: "TXT",
		Value:   "v=DMARC1; p=none; rua=mailto:dmarc@" + in.Domain,
		Purpose: "DMARC, a suggestion: p=none only asks for reports (to a mailbox that must exist); move to quarantine or reject once they show your mail passing"})
	return out, nil
}

// spfRecord is the MAIL FROM domain's SPF record. SES's
// "include:amazonses.com" names Amazon's senders; sesame sends from its own
// host, whose address hostname's A/AAAA records give (the host a receiver's
// PTR check also expects), and from the configured sending addresses.
func spfRecord(name, hostname string, sources []string) Record {
	value := "v=spf1 a:" + hostname
	for _, a := range sources {
		if ip, err := netip.ParseAddr(a); err == nil && ip.Unmap().Is4() {
			value += " ip4:" + ip.Unmap().String()
		} else if err == nil {
			value += " ip6:" + ip.String()
		}
	}
	purpose := "SPF for the MAIL FROM domain: mail comes from the addresses " + hostname + " resolves to"
	if len(sources) > 0 {
		purpose += " and from the sending addresses ([[delivery.source_addresses]])"
	} else {
		purpose += "; add ip4:/ip6: if sesame sends from another address (NAT)"
	}
	return Record{Name: name, Type: "TXT", Value: value + " ~all", Purpose: purpose}
}

// succeeded says whether a status in v1's or v2's spelling is Success.
func succeeded(status string) bool {
	return strings.EqualFold(status, store.StatusSuccess)
}
