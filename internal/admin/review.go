package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"sesame/internal/store"
)

// accountReview lists the production-access requests accounts made with
// PutAccountDetails (ProductionAccessEnabled true), or decides one: SES's
// support case, here the operator's. A grant puts the account in
// production in that region, as `account set --production`; a denial
// leaves it in the sandbox. Either way the account may put details again.
func (a *admin) accountReview(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	accountID := fs.String("account", "", "the account `ID` (listing: every account; deciding: the only account by default)")
	region := fs.String("region", "", "the `REGION` (listing: every region; deciding: the first configured by default)")
	grant := fs.Bool("grant", false, "grant the pending request: production access")
	deny := fs.Bool("deny", false, "deny the pending request: the account stays in the sandbox")
	return a.run(fs, name, args, 0, "", func([]string) error {
		if *grant && *deny {
			return commandErr(name, "--grant and --deny contradict each other")
		}
		if !*grant && !*deny {
			return a.listReviews(ctx, *accountID, *region)
		}
		id, err := a.account(ctx, *accountID)
		if err != nil {
			return err
		}
		r, err := a.region(*region)
		if err != nil {
			return err
		}
		d, err := a.st.DecideReview(ctx, id, r, *grant)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("account %s has no pending production access request in %s", id, r)
		}
		if err != nil {
			return err
		}
		set, err := a.st.AccountSettings(ctx, id, r)
		if err != nil {
			return err
		}
		return a.print(struct {
			store.AccountDetails
			Production bool `json:"production_access_enabled"`
		}{d, set.Production})
	})
}

// listReviews prints the pending requests, oldest first; an empty
// account or region means all.
func (a *admin) listReviews(ctx context.Context, accountID, region string) error {
	var err error
	if accountID != "" {
		if accountID, err = a.account(ctx, accountID); err != nil {
			return err
		}
	}
	if region != "" {
		if region, err = a.region(region); err != nil {
			return err
		}
	}
	pending, err := a.st.PendingReviews(ctx, accountID, region)
	if err != nil {
		return err
	}
	return a.print(pending)
}
