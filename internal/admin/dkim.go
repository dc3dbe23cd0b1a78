package admin

import (
	"context"
	"flag"
	"fmt"

	"sesame/internal/dkim"
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
