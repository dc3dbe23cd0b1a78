package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"sesame/internal/store"
	"sesame/internal/verify"
)

// identityFlags are the flags every identity command takes.
func identityFlags(fs *flag.FlagSet) (account, region *string) {
	return fs.String("account", "", "account id"), fs.String("region", "", "region")
}

func (a *admin) scope(ctx context.Context, account, region string) (string, string, error) {
	id, err := a.account(ctx, account)
	if err != nil {
		return "", "", err
	}
	r, err := a.region(region)
	if err != nil {
		return "", "", err
	}
	return id, r, nil
}

// identityVerify is the operator's override: the identity is verified now,
// without the link mail or DNS records SES would wait for. A domain gets
// DKIM as CreateEmailIdentity sets it up (Easy DKIM unless a BYODKIM key is
// given), verified too, so its mail is signed from now on; the output lists
// the records to publish (identityRecords). An address stays as it was.
func (a *admin) identityVerify(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	noDKIM := fs.Bool("no-dkim", false, "a domain: set no DKIM up (its mail goes out unsigned)")
	selector := fs.String("dkim-selector", "", "a domain: BYODKIM with this selector (with --dkim-private-key)")
	keyFile := fs.String("dkim-private-key", "", "a domain: BYODKIM with the RSA private key in this PEM file")
	return a.run(fs, name, args, 1, "one IDENTITY (an address or a domain)", func(pos []string) error {
		if err := checkIdentity(pos[0]); err != nil {
			return err
		}
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		if store.TypeOf(pos[0]) == store.Domain {
			opts, err := byodkimOptions(*selector, *keyFile, *noDKIM)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return a.verifyDomain(ctx, acct, r, strings.ToLower(strings.TrimSuffix(pos[0], ".")), opts, *noDKIM)
		}
		if *selector != "" || *keyFile != "" {
			return fmt.Errorf("%s: DKIM keys belong to domains; %s is an address", name, pos[0])
		}
		if err := a.st.PutIdentity(ctx, store.Identity{AccountID: acct, Region: r, Name: pos[0],
			Type: store.TypeOf(pos[0]), Status: store.StatusSuccess}); err != nil {
			return err
		}
		id, err := a.st.Identity(ctx, acct, r, pos[0])
		if err != nil {
			return err
		}
		return a.print(id)
	})
}

// byodkimOptions reads --dkim-selector and --dkim-private-key.
func byodkimOptions(selector, keyFile string, noDKIM bool) (verify.DKIMOptions, error) {
	if selector == "" && keyFile == "" {
		return verify.DKIMOptions{}, nil
	}
	if noDKIM {
		return verify.DKIMOptions{}, errors.New("--no-dkim contradicts --dkim-selector and --dkim-private-key")
	}
	if selector == "" || keyFile == "" {
		return verify.DKIMOptions{}, errors.New("BYODKIM needs both --dkim-selector and --dkim-private-key")
	}
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return verify.DKIMOptions{}, fmt.Errorf("DKIM private key: %w", err)
	}
	return verify.DKIMOptions{Selector: selector, PrivateKey: string(pem)}, nil
}

// verifiedDomain is what `identity verify` prints for a domain.
type verifiedDomain struct {
	store.Identity
	DKIM    *dkimState `json:"dkim,omitempty"`
	Records []Record   `json:"records"`
	Warning string     `json:"warning,omitempty"`
}

// dkimState is an identity's DKIM setup as the admin commands print it.
type dkimState struct {
	Origin         string    `json:"origin"` // AWS_SES (Easy DKIM) or EXTERNAL (BYODKIM)
	Status         string    `json:"status"`
	SigningEnabled bool      `json:"signing_enabled"`
	Tokens         []string  `json:"tokens,omitempty"`
	Selector       string    `json:"selector"` // the one mail is signed with now
	KeyLength      string    `json:"key_length,omitempty"`
	NextKeyLength  string    `json:"next_key_length,omitempty"`
	KeyGenerated   time.Time `json:"key_generated"`
}

func dkimStateOf(d store.DKIM) *dkimState {
	if d.Origin == "" {
		return nil
	}
	s := &dkimState{Origin: d.Origin, Status: d.Status, SigningEnabled: d.SigningEnabled, Tokens: d.Tokens,
		Selector: d.Selector, KeyLength: d.KeyLength, NextKeyLength: d.NextKeyLength, KeyGenerated: d.KeyGenerated}
	if d.Origin == store.DKIMOriginAWS && len(d.Tokens) > 0 {
		s.Selector = d.Tokens[0] // Easy DKIM signs with its first token
	}
	return s
}

// signs reports whether mail from the identity gets a DKIM signature (the
// signer's conditions, internal/dkim).
func signs(d store.DKIM) bool {
	return d.Origin != "" && d.SigningEnabled && d.Status == store.StatusSuccess && len(d.PrivateKey) > 0
}

// verifyDomain verifies a domain, setting DKIM up unless noDKIM or it has
// a usable setup already (which it keeps, verified). BYODKIM opts replace
// any setup. The key is generated before the write transaction.
func (a *admin) verifyDomain(ctx context.Context, acct, region, domain string, opts verify.DKIMOptions, noDKIM bool) error {
	now := time.Now()
	cur, err := a.st.IdentityDetails(ctx, acct, region, domain)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	byo := opts.Selector != ""
	var d store.IdentityDetails
	var fresh *store.DKIM // a new DKIM setup, made outside the write transaction
	switch {
	case !exists && noDKIM:
		d = store.IdentityDetails{Identity: store.Identity{AccountID: acct, Region: region, Name: domain,
			Type: store.Domain, Created: now}, VerifyStarted: now, FeedbackForwarding: true}
	case !exists:
		// What CreateEmailIdentity creates (Easy DKIM or BYODKIM, a v1 token).
		if d, err = verify.NewDomain(acct, region, domain, opts, now); err != nil {
			return fmt.Errorf("identity verify %s: %w", domain, err)
		}
		dk := d.DKIM
		fresh = &dk
	case !noDKIM && (byo || cur.DKIM.Origin == "" || cur.DKIM.Status == store.StatusFailed):
		dk, err := verify.NewDKIM(opts, now)
		if err != nil {
			return fmt.Errorf("identity verify %s: %w", domain, err)
		}
		fresh = &dk
	}
	if !exists {
		markVerified(&d, noDKIM)
		err = a.st.CreateIdentity(ctx, d, store.MaxIdentities)
		if errors.Is(err, store.ErrLimitExceeded) {
			return fmt.Errorf("identity verify %s: the account has %d identities in %s already", domain, store.MaxIdentities, region)
		}
	}
	if exists || errors.Is(err, store.ErrExists) {
		d, err = a.st.UpdateIdentity(ctx, acct, region, domain, func(d *store.IdentityDetails) error {
			if fresh != nil && (byo || d.DKIM.Origin == "" || d.DKIM.Status == store.StatusFailed) {
				d.DKIM = *fresh
			}
			markVerified(d, noDKIM)
			return nil
		})
	}
	if err != nil {
		return err
	}
	out := verifiedDomain{Identity: d.Identity, DKIM: dkimStateOf(d.DKIM)}
	var warnings []string
	if !signs(d.DKIM) {
		warnings = append(warnings, fmt.Sprintf("mail from %s goes out without a DKIM signature (no DKIM set up, "+
			"or signing off); run `sesame admin identity verify %s` without --no-dkim to set Easy DKIM up", domain, domain))
	}
	// The identity is verified either way; records a configuration gap
	// keeps from being written are a warning, `identity records` says more.
	if out.Records, err = a.recordsFor(d); err != nil {
		warnings = append(warnings, "no DNS records: "+err.Error())
	}
	out.Warning = strings.Join(warnings, "; ")
	return a.print(out)
}

// markVerified is the operator's word for the domain and, unless noDKIM,
// for its DKIM records: no DNS is checked, so mail is signed at once.
func markVerified(d *store.IdentityDetails, noDKIM bool) {
	d.Status = store.StatusSuccess
	if !noDKIM && d.DKIM.Origin != "" {
		d.DKIM.Status = store.StatusSuccess
	}
}

func (a *admin) identityList(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	return a.run(fs, name, args, 0, "", func([]string) error {
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		ids, err := a.st.Identities(ctx, acct, r)
		if err != nil {
			return err
		}
		return a.print(ids)
	})
}

func (a *admin) identityDelete(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	return a.run(fs, name, args, 1, "one IDENTITY", func(pos []string) error {
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		id, err := a.st.Identity(ctx, acct, r, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no identity %s for account %s in %s", pos[0], acct, r)
		}
		if err != nil {
			return err
		}
		if err := a.st.DeleteIdentity(ctx, acct, r, id.Name); err != nil {
			return err
		}
		return a.print(struct {
			AccountID string `json:"account_id"`
			Region    string `json:"region"`
			Name      string `json:"identity"`
			Deleted   bool   `json:"deleted"`
		}{acct, r, id.Name, true})
	})
}

// checkIdentity refuses what cannot be an address or a domain, so a typo
// such as a stray flag value does not become a verified identity.
func checkIdentity(s string) error {
	if local, domain, ok := strings.Cut(s, "@"); ok {
		if local == "" || strings.ContainsAny(local, " \t<>\"") {
			return fmt.Errorf("%q is not an email address", s)
		}
		if err := checkDomain(domain); err != nil {
			return fmt.Errorf("%q is not an email address: %w", s, err)
		}
		return nil
	}
	if err := checkDomain(s); err != nil {
		return fmt.Errorf("%q is not a domain: %w", s, err)
	}
	return nil
}

func checkDomain(d string) error {
	if d == "" || len(d) > 253 {
		return errors.New("domain must have 1 to 253 characters")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("empty or over-long domain label")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("character %q in domain", c)
			}
		}
	}
	return nil
}
