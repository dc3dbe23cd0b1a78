package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"sesame/internal/dkim"
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

// recordTTL is the TTL the zone snippet gives the records: an hour, the
// usual default; DKIM keys themselves live in sesame's zone (dkim.ZoneTTL).
const recordTTL = 3600

// identityRecords prints what to publish for a domain identity.
func (a *admin) identityRecords(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	format := fs.String("format", "json", "json, or zone for a zone-file snippet")
	return a.run(fs, name, args, 1, "one DOMAIN", func(pos []string) error {
		if *format != "json" && *format != "zone" {
			return usageErr(fmt.Sprintf("%s: --format is json or zone, not %q", name, *format))
		}
		d, err := a.domainIdentity(ctx, *account, *region, pos[0])
		if err != nil {
			return err
		}
		records, err := a.recordsFor(d)
		if err != nil {
			return err
		}
		if *format == "zone" {
			return writeRecordsZone(a.out, d, records)
		}
		return a.print(records)
	})
}

// domainIdentity resolves --account, --region and a domain identity's name.
func (a *admin) domainIdentity(ctx context.Context, account, region, domain string) (store.IdentityDetails, error) {
	if store.TypeOf(domain) != store.Domain {
		return store.IdentityDetails{}, fmt.Errorf("%s is an address; DNS records belong to its domain", domain)
	}
	if err := checkDomain(strings.TrimSuffix(domain, ".")); err != nil {
		return store.IdentityDetails{}, fmt.Errorf("%q is not a domain: %w", domain, err)
	}
	acct, r, err := a.scope(ctx, account, region)
	if err != nil {
		return store.IdentityDetails{}, err
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	d, err := a.st.IdentityDetails(ctx, acct, r, domain)
	if errors.Is(err, store.ErrNotFound) {
		return d, fmt.Errorf("no identity %s for account %s in %s (create it with `sesame admin identity verify %s`)", domain, acct, r, domain)
	}
	return d, err
}

// defaultDomains fills in the DKIM CNAME and MAIL FROM MX domains left
// empty as the configuration's defaults do: both under hostname.
func (a *admin) defaultDomains() {
	if a.hostname == "" {
		return
	}
	if a.dkimDomain == "" {
		a.dkimDomain = "dkim." + a.hostname
	}
	if a.mailFromMX == "" {
		a.mailFromMX = a.hostname
	}
}

// recordsFor lists what d's owner publishes: DKIM (Easy DKIM's three
// CNAMEs into verification.dkim_cname_domain, or BYODKIM's key), the
// custom MAIL FROM domain's MX and SPF, the v1 _amazonses token while the
// domain waits for it, and a DMARC policy to start from.
func (a *admin) recordsFor(d store.IdentityDetails) ([]Record, error) {
	var out []Record
	switch d.DKIM.Origin {
	case store.DKIMOriginAWS:
		if a.dkimDomain == "" {
			return nil, errors.New("no DKIM CNAME domain: set verification.dkim_cname_domain (or hostname)")
		}
		for i, tok := range d.DKIM.Tokens {
			purpose := "Easy DKIM: points at the public key sesame publishes (its [dns] listener or `dkim zone`)"
			if i == 0 {
				purpose += "; mail is signed with this selector now"
			}
			tok = strings.ToLower(tok)
			out = append(out, Record{Name: tok + "._domainkey." + d.Name, Type: "CNAME",
				Value: tok + "." + a.dkimDomain, Purpose: purpose})
		}
	case store.DKIMOriginExternal:
		value, err := dkim.PublicKeyRecord(d.DKIM.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("DKIM key of %s: %w", d.Name, err)
		}
		out = append(out, Record{Name: d.DKIM.Selector + "._domainkey." + d.Name, Type: "TXT", Value: value,
			Purpose: "BYODKIM: the public half of the key mail is signed with"})
	}
	if mf := d.MailFrom.Domain; mf != "" {
		if a.mailFromMX == "" || a.hostname == "" {
			return nil, errors.New("no MAIL FROM MX domain: set verification.mail_from_mx_domain and hostname")
		}
		out = append(out,
			Record{Name: mf, Type: "MX", Value: "10 feedback-smtp." + d.Region + "." + a.mailFromMX,
				Purpose: "custom MAIL FROM: bounces and complaints reach sesame's feedback MX (the operator makes this host resolve to it)"},
			// SES's "include:amazonses.com" names Amazon's senders; sesame
			// sends from its own host, whose address hostname's A/AAAA
			// records give (the host a receiver's PTR check also expects).
			Record{Name: mf, Type: "TXT", Value: "v=spf1 a:" + a.hostname + " ~all",
				Purpose: "SPF for the MAIL FROM domain: mail comes from the addresses " + a.hostname +
					" resolves to; use ip4:/ip6: instead if sesame sends from another address"})
	}
	if d.DomainToken != "" && d.Status != store.StatusSuccess && d.DKIM.Status != store.StatusSuccess {
		out = append(out, Record{Name: "_amazonses." + d.Name, Type: "TXT", Value: d.DomainToken,
			Purpose: "domain verification (v1 VerifyDomainIdentity); not needed once the domain is verified"})
	}
	out = append(out, Record{Name: "_dmarc." + d.Name, Type: "TXT",
		Value:   "v=DMARC1; p=none; rua=mailto:dmarc@" + d.Name,
		Purpose: "DMARC, a suggestion: p=none only asks for reports (to a mailbox that must exist); move to quarantine or reject once they show your mail passing"})
	return out, nil
}

// writeRecordsZone writes records as a zone-file snippet with absolute
// names, to paste into the domain's zone. TXT values are split into
// character-strings as `dkim zone` does (dkim.TXTStrings).
func writeRecordsZone(w io.Writer, d store.IdentityDetails, records []Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "; DNS records for %s (account %s, %s), from sesame admin identity records\n", d.Name, d.AccountID, d.Region)
	if d.MailFrom.Domain == "" {
		fmt.Fprintf(&b, "; No custom MAIL FROM domain: SPF is checked on sesame's bounce domain, and DMARC aligns\n"+
			"; through DKIM. Set one (PutEmailIdentityMailFromAttributes) for an SPF record under %s.\n", d.Name)
	}
	for _, r := range records {
		value := r.Value
		switch r.Type {
		case "CNAME":
			value += "."
		case "MX":
			value += "."
		case "TXT":
			quoted := dkim.TXTStrings(value)
			for i, s := range quoted {
				quoted[i] = `"` + s + `"`
			}
			value = strings.Join(quoted, " ")
			if len(quoted) > 1 {
				value = "( " + value + " )"
			}
		}
		fmt.Fprintf(&b, "; %s\n%s.\t%d\tIN\t%s\t%s\n", r.Purpose, r.Name, recordTTL, r.Type, value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
