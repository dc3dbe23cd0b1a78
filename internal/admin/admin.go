// Package admin implements the `sesame admin` commands: accounts, access
// keys, per-region account settings and operator-verified identities. It
// writes straight to the store, so a running server sees a change within its
// cache time (a second), and prints JSON for scripts.
//
// It parses command lines and formats results; what the settings mean is
// sending's and quota's business, and how they are kept is store's.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"sesame/internal/awsauth"
	"sesame/internal/queuectl"
	"sesame/internal/store"
)

// defaultRegion is used when the configuration names none.
const defaultRegion = "us-east-1"

// Usage lists the commands.
func Usage() string {
	return `Commands (output is JSON):
  account create                          make an account and its first access key
  account list                            list accounts
  account show [--account ID]             an account, its access keys, per-region settings and
                                          reputation (bounce and complaint rates, pauses)
  account set [--account ID] [--region R] [--production | --sandbox]
              [--max-send-rate N] [--max-24h-send N] [--sending-enabled=true|false]
              [--enforcement-status HEALTHY|PROBATION|SHUTDOWN]
                                          change sending settings (-1 = unlimited 24-hour quota;
                                          SHUTDOWN suspends the account's sending)
  key create [--account ID]               add an access key; prints its secret and SMTP passwords
  key list [--account ID]                 list an account's access keys (no secrets)
  key deactivate --key ID                 refuse a key from now on
  key activate --key ID                   accept a key again
  identity verify [--account ID] [--region R] IDENTITY
                                          mark an address ("@") or a domain verified
  identity list [--account ID] [--region R]
  identity delete [--account ID] [--region R] IDENTITY
  dkim zone [--region R] [--origin DOMAIN]
                                          print the Easy DKIM keys to publish, as a zone
                                          file for verification.dkim_cname_domain (not JSON)
  bounce list [--account ID] [--region R] [--message MESSAGEID] [--limit N]
                                          bounces recorded by delivery and the feedback MX
  complaint list [--account ID] [--region R] [--message MESSAGEID] [--limit N]
                                          complaints from feedback loops and the simulator
  message show [--account ID] [--region R] MESSAGEID
                                          a message's events (send, delivery, bounce, …) per
                                          the event outbox, oldest first
` + queueUsage + `  backup DIR                              copy the data dir into DIR (new or empty) while the server runs
  restore [--force] DIR                   put a backup back into the stopped server's data dir

--account may be left out when exactly one account exists; --region defaults
to the first configured region.
`
}

// Run executes the command in args (the words after "sesame admin").
// Mistakes in the command line come back as errors that include the usage.
func Run(ctx context.Context, st *store.Store, regions []string, args []string, stdout io.Writer) error {
	return RunWith(ctx, st, Options{Regions: regions}, args, stdout)
}

// Options are the configuration values the commands use.
type Options struct {
	Regions         []string
	DKIMCNAMEDomain string // verification.dkim_cname_domain, for `dkim zone`
	// Queue opens the mail queue for the queue commands (queue.go).
	Queue func(ctx context.Context) (queuectl.Queue, error)
}

// RunWith is Run with every configuration value the commands use.
func RunWith(ctx context.Context, st *store.Store, opt Options, args []string, stdout io.Writer) error {
	regions := opt.Regions
	if len(regions) == 0 {
		regions = []string{defaultRegion}
	}
	a := &admin{st: st, regions: regions, dkimDomain: opt.DKIMCNAMEDomain, queue: opt.Queue, out: stdout}
	if len(args) == 0 {
		return usageErr("no command given")
	}
	if isHelp(args[0]) {
		_, err := io.WriteString(stdout, Usage())
		return err
	}
	if len(args) < 2 {
		return usageErr(fmt.Sprintf("%q needs a subcommand", args[0]))
	}
	name := args[0] + " " + args[1]
	cmd, ok := a.commands()[name]
	if !ok {
		return usageErr(fmt.Sprintf("unknown command %q", name))
	}
	return cmd(ctx, name, args[2:])
}

type admin struct {
	st         *store.Store
	regions    []string
	dkimDomain string
	queue      func(ctx context.Context) (queuectl.Queue, error)
	out        io.Writer
}

type command func(ctx context.Context, name string, args []string) error

func (a *admin) commands() map[string]command {
	return map[string]command{
		"account create":  a.accountCreate,
		"account list":    a.accountList,
		"account show":    a.accountShow,
		"account set":     a.accountSet,
		"key create":      a.keyCreate,
		"key list":        a.keyList,
		"key deactivate":  a.keyActivate(false),
		"key activate":    a.keyActivate(true),
		"identity verify": a.identityVerify,
		"identity list":   a.identityList,
		"identity delete": a.identityDelete,
		"dkim zone":       a.dkimZone,
		"bounce list":     a.bounceList,
		"complaint list":  a.complaintList,
		"message show":    a.messageShow,
		"queue list":      a.queueList,
		"queue show":      a.queueShow,
		"queue retry":     a.queueRetry,
		"queue delete":    a.queueDelete,
	}
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

func usageErr(problem string) error {
	return fmt.Errorf("%s\n\n%s", problem, Usage())
}

// errHelpShown tells parse's callers that -h was answered with the usage.
var errHelpShown = errors.New("help shown")

// parse parses fs from args, letting flags follow positional arguments
// ("identity verify a@b.c --region eu-west-1"), and returns the positional
// ones. A lone "--" ends the flags.
func (a *admin) parse(fs *flag.FlagSet, name string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(a.out, Usage())
			return nil, errHelpShown
		}
		if err != nil {
			return nil, usageErr(fmt.Sprintf("%s: %v", name, err))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// run parses and checks the positional argument count, turning a help
// request into success.
func (a *admin) run(fs *flag.FlagSet, name string, args []string, wantPositional int, what string, fn func(pos []string) error) error {
	pos, err := a.parse(fs, name, args)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != wantPositional {
		if wantPositional == 0 {
			return usageErr(fmt.Sprintf("%s: unexpected argument %q", name, pos[0]))
		}
		return usageErr(fmt.Sprintf("%s: want %s, have %d arguments", name, what, len(pos)))
	}
	return fn(pos)
}

// account resolves --account: the given account, which must exist, or the
// only one when it was left out.
func (a *admin) account(ctx context.Context, id string) (string, error) {
	if id != "" {
		if _, err := a.st.Account(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "", fmt.Errorf("no account %s", id)
			}
			return "", err
		}
		return id, nil
	}
	accts, err := a.st.Accounts(ctx)
	if err != nil {
		return "", err
	}
	switch len(accts) {
	case 0:
		return "", errors.New("no account yet: run `sesame admin account create`")
	case 1:
		return accts[0].ID, nil
	default:
		return "", fmt.Errorf("--account is required: there are %d accounts", len(accts))
	}
}

// region resolves --region: a configured region, the first by default.
func (a *admin) region(r string) (string, error) {
	if r == "" {
		return a.regions[0], nil
	}
	if !slices.Contains(a.regions, r) {
		return "", fmt.Errorf("unknown region %q (configured: %s)", r, strings.Join(a.regions, ", "))
	}
	return r, nil
}

// smtpPasswords derives a secret's SMTP password in every configured region.
func (a *admin) smtpPasswords(secret string) map[string]string {
	pw := make(map[string]string, len(a.regions))
	for _, r := range a.regions {
		pw[r] = awsauth.SMTPPassword(secret, r)
	}
	return pw
}

func (a *admin) print(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
