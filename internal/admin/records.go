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
	"sesame/internal/verify"
)

// Record is one DNS record a domain's owner publishes for its identity
// (verify.Records composes them, for the console too).
type Record = verify.Record

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

// recordsFor lists what d's owner publishes (verify.Records), with
// BYODKIM's public key computed from the key sesame holds.
func (a *admin) recordsFor(d store.IdentityDetails) ([]Record, error) {
	in := verify.RecordsInput{Domain: d.Name, Region: d.Region, DKIMOrigin: d.DKIM.Origin, DKIMTokens: d.DKIM.Tokens,
		DKIMSelector: d.DKIM.Selector, MailFromDomain: d.MailFrom.Domain, DomainToken: d.DomainToken,
		Status: d.Status, DKIMStatus: d.DKIM.Status,
		DKIMCNAMEDomain: a.dkimDomain, MailFromMXDomain: a.mailFromMX, Hostname: a.hostname,
		SourceAddresses: a.sources}
	if d.DKIM.Origin == store.DKIMOriginExternal {
		value, err := dkim.PublicKeyRecord(d.DKIM.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("DKIM key of %s: %w", d.Name, err)
		}
		in.DKIMPublicKeyTXT = value
	}
	return verify.Records(in)
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
