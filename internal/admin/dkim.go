package admin

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"sesame/internal/dkim"
	"sesame/internal/store"
	"sesame/internal/verify"
)

// dkimZone prints the Easy DKIM keys of every account as a zone file for
// the DKIM CNAME domain: what the operator publishes (or delegates to the
// [dns] listener) so that <token>._domainkey.<domain> CNAMEs resolve to a key.
func (a *admin) dkimZone(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	region := fs.String("region", "", "only this region's identities (default: every region)")
	origin := fs.String("origin", "", "the zone's domain (default: verification.dkim_cname_domain)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		r := *region
		if r != "" {
			var err error
			if r, err = a.region(r); err != nil {
				return err
			}
		}
		zone := *origin
		if zone == "" {
			zone = a.dkimDomain
		}
		if zone == "" {
			return fmt.Errorf("%s: no zone domain: set verification.dkim_cname_domain or --origin", name)
		}
		records, err := dkim.Records(ctx, a.st, r)
		if err != nil {
			return err
		}
		return dkim.WriteZone(a.out, zone, records)
	})
}

// rotated is what `dkim rotate` prints.
type rotated struct {
	AccountID        string     `json:"account_id"`
	Region           string     `json:"region"`
	Name             string     `json:"identity"`
	PreviousSelector string     `json:"previous_selector"`
	DKIM             *dkimState `json:"dkim"`
	// KeyRecords are the TXT records sesame's DKIM zone holds now: served
	// by the [dns] listener at once, or to be published from `dkim zone`.
	KeyRecords []Record `json:"key_records"`
	// Records are the domain's own records, unchanged by a rotation.
	Records []Record `json:"records"`
}

// dkimRotate gives an Easy DKIM domain a new key, as SES's automatic
// rotation does: the domain's three CNAMEs stay as they are, the key
// behind them changes, and signing moves to the next token, a selector no
// receiver has cached a key for since the previous rotations (the key zone's
// TTL is five minutes). Nothing in the domain's DNS changes.
func (a *admin) dkimRotate(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	length := fs.String("key-length", "", "RSA_1024_BIT or RSA_2048_BIT (default: the identity's next signing key length)")
	return a.run(fs, name, args, 1, "one DOMAIN", func(pos []string) error {
		cur, err := a.domainIdentity(ctx, *account, *region, pos[0])
		if err != nil {
			return err
		}
		switch {
		case cur.DKIM.Origin == store.DKIMOriginExternal:
			return fmt.Errorf("%s: %s signs with its own key (BYODKIM, selector %s): rotate it with "+
				"PutEmailIdentityDkimSigningAttributes and a new selector", name, cur.Name, cur.DKIM.Selector)
		case cur.DKIM.Origin != store.DKIMOriginAWS || len(cur.DKIM.Tokens) == 0:
			return fmt.Errorf("%s: %s has no Easy DKIM set up (run `sesame admin identity verify %s`)", name, cur.Name, cur.Name)
		}
		next := *length
		if next == "" {
			next = cur.DKIM.NextKeyLength
		}
		now := time.Now()
		// The shared Easy DKIM setup makes the key (and checks the length);
		// its new tokens are not used: the domain's CNAMEs stay.
		fresh, err := verify.NewDKIM(verify.DKIMOptions{KeyLength: next}, now)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		d, err := a.st.UpdateIdentity(ctx, cur.AccountID, cur.Region, cur.Name, func(d *store.IdentityDetails) error {
			if d.DKIM.Origin != store.DKIMOriginAWS || !slices.Equal(d.DKIM.Tokens, cur.DKIM.Tokens) {
				return fmt.Errorf("%s: the DKIM setup of %s changed meanwhile; run it again", name, cur.Name)
			}
			d.DKIM = rotateEasyDKIM(d.DKIM, fresh)
			return nil
		})
		if err != nil {
			return err
		}
		out := rotated{AccountID: d.AccountID, Region: d.Region, Name: d.Name, PreviousSelector: cur.DKIM.Tokens[0],
			DKIM: dkimStateOf(d.DKIM)}
		if out.Records, err = a.recordsFor(d); err != nil {
			return err
		}
		value, err := dkim.PublicKeyRecord(d.DKIM.PrivateKey)
		if err != nil {
			return err
		}
		for _, tok := range d.DKIM.Tokens {
			out.KeyRecords = append(out.KeyRecords, Record{Name: strings.ToLower(tok) + "." + a.dkimDomain, Type: "TXT",
				Value: value, Purpose: "Easy DKIM key in sesame's zone (verification.dkim_cname_domain)"})
		}
		return a.print(out)
	})
}

// rotateEasyDKIM puts fresh's key in place of cur's and moves signing to
// the next token (Easy DKIM signs with the first): tokens a, b, c become
// b, c, a. Status and signing stay: the CNAMEs the status vouches for are
// the same.
func rotateEasyDKIM(cur, fresh store.DKIM) store.DKIM {
	out := cur
	out.Tokens = append(slices.Clone(cur.Tokens[1:]), cur.Tokens[0])
	out.PrivateKey = fresh.PrivateKey
	out.KeyLength = fresh.KeyLength
	out.NextKeyLength = fresh.NextKeyLength
	out.KeyGenerated = fresh.KeyGenerated
	return out
}
