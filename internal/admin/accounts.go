package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/store"
)

// newKey is what an operator sees once for a new key: everything a client
// needs, SMTP passwords included.
type newKey struct {
	AccountID     string            `json:"account_id"`
	AccessKeyID   string            `json:"access_key_id"`
	Secret        string            `json:"secret_access_key"`
	SMTPPasswords map[string]string `json:"smtp_passwords"`
	// Name, UserARN and Policy: a key made with --name or --policy.
	Name    string          `json:"name,omitempty"`
	UserARN string          `json:"user_arn,omitempty"`
	Policy  json.RawMessage `json:"policy,omitempty"`
}

// keyInfo is a key without its secret, for listings.
type keyInfo struct {
	AccessKeyID string    `json:"access_key_id"`
	Name        string    `json:"name,omitempty"`
	Active      bool      `json:"active"`
	Created     time.Time `json:"created"`
	// HasPolicy: the key is scoped by a policy (`key policy` shows it).
	HasPolicy bool `json:"has_policy"`
}

func newKeyInfo(k store.AccessKey) keyInfo {
	return keyInfo{AccessKeyID: k.ID, Name: k.Name, Active: k.Active, Created: k.Created, HasPolicy: k.Policy != ""}
}

type accountDetails struct {
	store.Account
	AccessKeys []keyInfo               `json:"access_keys"`
	Settings   []store.AccountSettings `json:"settings"`
	// Reputation is the last evaluation of the bounce and complaint rates
	// per region (and per configuration set with reputation metrics), so an
	// operator sees why an account is on probation or paused.
	Reputation []store.Reputation `json:"reputation"`
}

func (a *admin) newKey(k store.AccessKey) newKey {
	nk := newKey{AccountID: k.AccountID, AccessKeyID: k.ID, Secret: k.Secret, SMTPPasswords: a.smtpPasswords(k.Secret),
		Name: k.Name, Policy: policyJSON(k.Policy)}
	if k.Name != "" || k.Policy != "" {
		nk.UserARN = k.UserARN()
	}
	return nk
}

func (a *admin) accountCreate(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 0, "", func([]string) error {
		_, key, err := a.st.CreateAccount(ctx)
		if err != nil {
			return err
		}
		return a.print(a.newKey(key))
	})
}

func (a *admin) accountList(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return a.run(fs, name, args, 0, "", func([]string) error {
		accts, err := a.st.Accounts(ctx)
		if err != nil {
			return err
		}
		return a.print(accts)
	})
}

func (a *admin) accountShow(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	accountID := fs.String("account", "", "the account `ID` (default: the only account)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		id, err := a.account(ctx, *accountID)
		if err != nil {
			return err
		}
		acct, err := a.st.Account(ctx, id)
		if err != nil {
			return err
		}
		keys, err := a.keyInfos(ctx, id)
		if err != nil {
			return err
		}
		d := accountDetails{Account: acct, AccessKeys: keys}
		for _, r := range a.regions {
			set, err := a.st.AccountSettings(ctx, id, r)
			if err != nil {
				return err
			}
			d.Settings = append(d.Settings, set)
		}
		if d.Reputation, err = a.st.Reputations(ctx, id); err != nil {
			return err
		}
		if d.Reputation == nil {
			d.Reputation = []store.Reputation{}
		}
		return a.print(d)
	})
}

// optionalBool is a flag that records whether it was given, for
// --sending-enabled=true|false.
type optionalBool struct {
	set, value bool
}

func (b *optionalBool) String() string   { return strconv.FormatBool(b.value) }
func (b *optionalBool) IsBoolFlag() bool { return true }
func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	b.set, b.value = true, v
	return nil
}

// optionalFloat is a number flag that records whether it was given.
type optionalFloat struct {
	set   bool
	value float64
}

func (f *optionalFloat) String() string { return strconv.FormatFloat(f.value, 'g', -1, 64) }
func (f *optionalFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("want a number")
	}
	f.set, f.value = true, v
	return nil
}

func (a *admin) accountSet(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	accountID := fs.String("account", "", "the account `ID` (default: the only account)")
	region := fs.String("region", "", "the `REGION` (default: the first configured)")
	production := fs.Bool("production", false, "leave the sandbox")
	sandbox := fs.Bool("sandbox", false, "return to the sandbox")
	var rate, daily optionalFloat
	var enabled optionalBool
	fs.Var(&rate, "max-send-rate", "`N` recipients per second")
	fs.Var(&daily, "max-24h-send", "`N` recipients per rolling 24 hours, -1 unlimited")
	fs.Var(&enabled, "sending-enabled", "=true or =false: resume or pause sending")
	enforcement := fs.String("enforcement-status", "", "HEALTHY, PROBATION or SHUTDOWN (suspends sending)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		switch strings.ToUpper(*enforcement) {
		case "", store.EnforcementHealthy, store.EnforcementProbation, store.EnforcementShutdown:
		default:
			return fmt.Errorf("--enforcement-status must be HEALTHY, PROBATION or SHUTDOWN, not %q", *enforcement)
		}
		if *production && *sandbox {
			return commandErr(name, "--production and --sandbox contradict each other")
		}
		if rate.set && rate.value <= 0 {
			return fmt.Errorf("--max-send-rate must be above 0, not %v", rate.value)
		}
		if daily.set && daily.value < 0 && daily.value != -1 {
			return fmt.Errorf("--max-24h-send must be -1 (unlimited) or at least 0, not %v", daily.value)
		}
		id, err := a.account(ctx, *accountID)
		if err != nil {
			return err
		}
		r, err := a.region(*region)
		if err != nil {
			return err
		}
		set, err := a.st.AccountSettings(ctx, id, r)
		if err != nil {
			return err
		}
		switch {
		case *production:
			set.Production = true
		case *sandbox:
			set.Production = false
		}
		if rate.set {
			set.MaxSendRate = rate.value
		}
		if daily.set {
			set.Max24HourSend = daily.value
		}
		if enabled.set {
			set.SendingEnabled = enabled.value
		}
		if *enforcement != "" {
			set.EnforcementStatus = strings.ToUpper(*enforcement)
		}
		if err := a.st.PutAccountSettings(ctx, set); err != nil {
			return err
		}
		return a.print(set)
	})
}

func (a *admin) keyCreate(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	accountID := fs.String("account", "", "the account `ID` (default: the only account)")
	keyName := fs.String("name", "", "the key's user `NAME` in refusals (arn:aws:iam::ACCOUNT:user/NAME; default: the key id)")
	policyFile := fs.String("policy", "", "an IAM policy `FILE` (JSON) the key is held to, as a user with it attached")
	return a.run(fs, name, args, 0, "", func([]string) error {
		if err := checkUserName(*keyName); err != nil {
			return commandErr(name, err.Error())
		}
		doc, err := readPolicy(*policyFile)
		if err != nil {
			return err
		}
		id, err := a.account(ctx, *accountID)
		if err != nil {
			return err
		}
		key, err := a.st.CreateScopedAccessKey(ctx, id, *keyName, doc)
		if err != nil {
			return err
		}
		return a.print(a.newKey(key))
	})
}

func (a *admin) keyList(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	accountID := fs.String("account", "", "the account `ID` (default: the only account)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		id, err := a.account(ctx, *accountID)
		if err != nil {
			return err
		}
		keys, err := a.keyInfos(ctx, id)
		if err != nil {
			return err
		}
		return a.print(keys)
	})
}

func (a *admin) keyInfos(ctx context.Context, accountID string) ([]keyInfo, error) {
	keys, err := a.st.AccessKeys(ctx, accountID)
	if err != nil {
		return nil, err
	}
	infos := make([]keyInfo, 0, len(keys))
	for _, k := range keys {
		infos = append(infos, newKeyInfo(k))
	}
	return infos, nil
}

func (a *admin) keyActivate(ctx context.Context, name string, args []string) error {
	return a.setKeyActive(ctx, name, args, true)
}

func (a *admin) keyDeactivate(ctx context.Context, name string, args []string) error {
	return a.setKeyActive(ctx, name, args, false)
}

func (a *admin) setKeyActive(ctx context.Context, name string, args []string, active bool) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	keyID := fs.String("key", "", "the access key `ID` (AKIA…)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		if *keyID == "" {
			return commandErr(name, "--key is required")
		}
		if err := a.st.SetAccessKeyActive(ctx, *keyID, active); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no access key %s", *keyID)
			}
			return err
		}
		k, err := a.st.AccessKey(ctx, *keyID)
		if err != nil {
			return err
		}
		return a.print(struct {
			AccountID string `json:"account_id"`
			keyInfo
		}{k.AccountID, newKeyInfo(k)})
	})
}

// keyDelete deletes a key for good, as IAM's DeleteAccessKey: even the
// account's last active one (IAM allows that too; the account then cannot
// send until a key is created or activated), which the output notes.
func (a *admin) keyDelete(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	keyID := fs.String("key", "", "the access key `ID` (AKIA…)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		if *keyID == "" {
			return commandErr(name, "--key is required")
		}
		k, err := a.st.AccessKey(ctx, *keyID)
		if err == nil {
			err = a.st.DeleteAccessKey(ctx, *keyID)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no access key %s", *keyID)
		}
		if err != nil {
			return err
		}
		out := struct {
			AccountID   string `json:"account_id"`
			AccessKeyID string `json:"access_key_id"`
			Deleted     bool   `json:"deleted"`
			Note        string `json:"note,omitempty"`
		}{AccountID: k.AccountID, AccessKeyID: k.ID, Deleted: true}
		left, err := a.st.AccessKeys(ctx, k.AccountID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(left, func(k store.AccessKey) bool { return k.Active }) {
			out.Note = fmt.Sprintf("account %s has no active access key left: it cannot send until "+
				"`sesame admin key create --account %s` (or key activate)", k.AccountID, k.AccountID)
		}
		return a.print(out)
	})
}
