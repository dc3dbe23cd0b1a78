package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"sesame/internal/store"
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
// without the link mail or DNS records SES would wait for.
func (a *admin) identityVerify(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	return a.run(fs, name, args, 1, "one IDENTITY (an address or a domain)", func(pos []string) error {
		if err := checkIdentity(pos[0]); err != nil {
			return err
		}
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
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
