// Package admin implements the `sesame admin` commands: accounts, access
// keys, per-region account settings and operator-verified identities. It
// writes straight to the store, so a running server sees a change within its
// cache time (a second), and prints JSON for scripts. The queue and the
// SMTP AUTH lockout it reaches through the running server's control socket
// (queuectl).
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
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/clock"
	"sesame/internal/queuectl"
	"sesame/internal/store"
)

// defaultRegion is used when the configuration names none.
const defaultRegion = "us-east-1"

// defaultHeartbeat is [cluster] heartbeat's default.
const defaultHeartbeat = 5 * time.Second

// command is one command of `sesame admin`. One table (commands) lists
// them all: it renders Usage(), each group's list ("sesame admin key") and
// each command's --help, and RunWith dispatches from it, so the help cannot
// disagree with what runs. Registering a command is one entry there.
type command struct {
	// name is one word ("backup") or a group and a subcommand ("key create").
	name string
	// synopsis is the flags and arguments after the name; "\n" starts a
	// continuation line.
	synopsis string
	// summary says what it does; "\n" breaks it into lines.
	summary string
	// run is the implementation; nil marks a command cmd/sesame dispatches
	// itself before the store is opened (backup, restore, migrate).
	run func(a *admin, ctx context.Context, name string, args []string) error
}

// commands is the table of every admin command, in the order Usage lists
// them. (A function, not a variable: the commands' code reads the table
// for its help, which a package-level variable could not allow.)
func commands() []command {
	return []command{
		{"account create", "", "make an account and its first access key", (*admin).accountCreate},
		{"account list", "", "list accounts", (*admin).accountList},
		{"account show", "[--account ID]", "an account, its access keys, per-region settings and\n" +
			"reputation (bounce and complaint rates, pauses)", (*admin).accountShow},
		{"account set", "[--account ID] [--region R] [--production | --sandbox]\n" +
			"[--max-send-rate N] [--max-24h-send N] [--sending-enabled=true|false]\n" +
			"[--enforcement-status HEALTHY|PROBATION|SHUTDOWN]",
			"change sending settings (-1 = unlimited 24-hour quota;\nSHUTDOWN suspends the account's sending)", (*admin).accountSet},
		{"account review", "[--account ID] [--region R] [--grant | --deny]",
			"list pending production access requests (PutAccountDetails);\n" +
				"--grant or --deny decides one (grant: as account set --production)", (*admin).accountReview},
		{"key create", "[--account ID] [--name NAME] [--policy FILE]", "add an access key; prints its secret and SMTP passwords;\n" +
			"--policy: the key is held to that IAM policy (JSON)", (*admin).keyCreate},
		{"key list", "[--account ID]", "list an account's access keys (no secrets; has_policy)", (*admin).keyList},
		{"key policy", "--key ID [FILE | --clear]", "show a key's policy; FILE replaces it, --clear removes\nit (the key gets its account's full rights)", (*admin).keyPolicy},
		{"key deactivate", "--key ID", "refuse a key from now on", (*admin).keyDeactivate},
		{"key activate", "--key ID", "accept a key again", (*admin).keyActivate},
		{"key delete", "--key ID", "delete a key for good (IAM's DeleteAccessKey)", (*admin).keyDelete},
		{"identity verify", "[--account ID] [--region R] [--no-dkim]\n[--dkim-selector S --dkim-private-key FILE] IDENTITY",
			"mark an address (\"@\") or a domain verified; a domain\ngets Easy DKIM (or BYODKIM) as CreateEmailIdentity\n" +
				"sets it up, and its records to publish", (*admin).identityVerify},
		{"identity records", "[--account ID] [--region R] [--format json|zone] DOMAIN",
			"what to publish for a domain: DKIM CNAMEs (or TXT),\nMAIL FROM MX and SPF, a DMARC suggestion", (*admin).identityRecords},
		{"identity list", "[--account ID] [--region R]", "list an account's identities in a region", (*admin).identityList},
		{"identity delete", "[--account ID] [--region R] IDENTITY", "delete an identity", (*admin).identityDelete},
		{"dkim zone", "[--region R] [--origin DOMAIN]", "print the Easy DKIM keys to publish, as a zone\n" +
			"file for verification.dkim_cname_domain (not JSON)", (*admin).dkimZone},
		{"dkim rotate", "[--account ID] [--region R] [--key-length RSA_1024_BIT|RSA_2048_BIT] DOMAIN",
			"a new Easy DKIM key, signing under the next token", (*admin).dkimRotate},
		{"bounce list", "[--account ID] [--region R] [--message MESSAGEID] [--limit N]",
			"bounces recorded by delivery and the feedback MX", (*admin).bounceList},
		{"complaint list", "[--account ID] [--region R] [--message MESSAGEID] [--limit N]",
			"complaints from feedback loops and the simulator", (*admin).complaintList},
		{"receiving rules", "[--account ID] [--region R]", "the active receipt rule set and its rules (as SES's\n" +
			"DescribeActiveReceiptRuleSet shows them; {} when none is active)", (*admin).receivingRules},
		{"receiving messages", "[--account ID] [--region R] [--limit N]", "the last messages the inbound MX received, newest\n" +
			"first, with their SPF/DKIM/DMARC/spam/virus verdicts and the actions run", (*admin).receivingMessages},
		{"message show", "[--account ID] [--region R] MESSAGEID", "a message's events (send, delivery, bounce, …) per\n" +
			"the event outbox, oldest first", (*admin).messageShow},
		{"queue list", "", "the queued messages, oldest first (like postqueue -p)", (*admin).queueList},
		{"queue show", "ID", "one message, with its header fields", (*admin).queueShow},
		{"queue retry", "ID | --all", "make a deferred message (or all) due now (postqueue -i/-f)", (*admin).queueRetry},
		{"queue delete", "ID...", "remove messages from the queue for good (postsuper -d)", (*admin).queueDelete},
		{"spool adopt", "DIR", "move a dead node's queued mail (DIR: its spool\n" +
			"directory) into this node's spool, each message once;\nrun it again after an interruption", (*admin).spoolAdopt},
		{"auth unlock", "IP", "clear the SMTP AUTH lockout of an address in the running\nserver", (*admin).authUnlock},
		{"auth list", "", "the addresses the running server's SMTP AUTH lockout\nrefuses now", (*admin).authList},
		{"cluster status", "", "the servers sharing this database: version, start,\n" +
			"last heartbeat, spool depth; alive = seen within 3\nheartbeats ([cluster] heartbeat)", (*admin).clusterStatus},
		{"console-token", "[--ttl DURATION]", "a token that signs the operator in to the web console\n" +
			"([console] listen) until it expires (default 12h)", (*admin).consoleToken},
		{"backup", "DIR", "copy the data dir into DIR (new or empty); works while\nthe server runs", nil},
		{"restore", "[--force] DIR", "copy a backup into the data dir; the server must be\n" +
			"stopped; --force: over a data dir that is not empty", nil},
		{"migrate", "--to postgres://…", "copy the embedded database into a new PostgreSQL\n" +
			"database, to move to a cluster; the server must be stopped", nil},
	}
}

// lookup finds the command named name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// group lists the commands whose first word is g.
func group(g string) []command {
	var cs []command
	for _, c := range commands() {
		if first, _, _ := strings.Cut(c.name, " "); first == g {
			cs = append(cs, c)
		}
	}
	return cs
}

// summaryColumn is where the summaries start in a list of commands.
const summaryColumn = 42

// listing renders a command as Usage lists it: name and synopsis, then the
// summary at summaryColumn (on the next line when the synopsis reaches it).
func (c command) listing() string {
	lines := strings.Split(strings.TrimSpace(c.name+" "+c.synopsis), "\n")
	for i := range lines {
		if i > 0 {
			lines[i] = strings.Repeat(" ", len(c.name)+1) + lines[i]
		}
		lines[i] = "  " + lines[i]
	}
	summary := strings.Split(c.summary, "\n")
	if last := lines[len(lines)-1]; len([]rune(last)) < summaryColumn {
		lines[len(lines)-1] = last + strings.Repeat(" ", summaryColumn-len([]rune(last))) + summary[0]
		summary = summary[1:]
	}
	for _, s := range summary {
		lines = append(lines, strings.Repeat(" ", summaryColumn)+s)
	}
	return strings.Join(lines, "\n") + "\n"
}

// anywhereNote is the line every help text ends with.
const anywhereNote = `-c FILE (the config) and --data DIR (the data directory) may come anywhere
on the command line, as for "sesame serve".
`

// CommandNames are the names of every command, in Usage's order ("account
// create", …, "backup"), for tests that try each.
func CommandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

// Usage lists every command.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: sesame admin COMMAND [ARGUMENTS] [-c FILE] [--data DIR]\n\nCommands (output is JSON):\n")
	for _, c := range commands() {
		b.WriteString(c.listing())
	}
	b.WriteString(`
--account may be left out when exactly one account exists; --region defaults
to the first configured region. "sesame admin COMMAND --help" shows one
command's flags; "sesame admin GROUP --help" a group's commands.
`)
	b.WriteString(anywhereNote)
	return b.String()
}

// GroupUsage lists the commands of a group ("key").
func GroupUsage(g string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: sesame admin %s SUBCOMMAND [ARGUMENTS]\n\n", g)
	for _, c := range group(g) {
		b.WriteString(c.listing())
	}
	fmt.Fprintf(&b, "\n\"sesame admin %s SUBCOMMAND --help\" shows one command's flags.\n", g)
	return b.String()
}

// CommandUsage is one command's help: its synopsis, its summary and, when
// fs is not nil, its flags. cmd/sesame uses it for the commands it
// dispatches itself (backup, restore, migrate).
func CommandUsage(name string, fs *flag.FlagSet) string {
	c, ok := lookup(name)
	if !ok {
		return Usage()
	}
	var b strings.Builder
	lines := strings.Split(strings.TrimSpace("sesame admin "+c.name+" "+c.synopsis), "\n")
	b.WriteString("Usage: " + strings.Join(lines, "\n"+strings.Repeat(" ", len("Usage: sesame admin "+c.name+" "))) + "\n\n")
	for _, s := range strings.Split(c.summary, "\n") {
		b.WriteString("  " + s + "\n")
	}
	if fs != nil {
		var flags strings.Builder
		fs.VisitAll(func(f *flag.Flag) {
			arg, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(&flags, "  --%s", f.Name)
			if arg != "" {
				fmt.Fprintf(&flags, " %s", arg)
			}
			fmt.Fprintf(&flags, "\n        %s", usage)
			if d := f.DefValue; d != "" && d != "false" && d != "0" {
				fmt.Fprintf(&flags, " (default %s)", d)
			}
			flags.WriteString("\n")
		})
		if flags.Len() > 0 {
			b.WriteString("\nFlags:\n" + flags.String())
		}
	}
	b.WriteString("\n" + anywhereNote)
	return b.String()
}

// Run executes the command in args (the words after "sesame admin").
// Mistakes in the command line come back as errors that include the usage.
func Run(ctx context.Context, st Store, regions []string, args []string, stdout io.Writer) error {
	return RunWith(ctx, st, Options{Regions: regions}, args, stdout)
}

// Options are the configuration values the commands use.
type Options struct {
	Regions         []string
	DKIMCNAMEDomain string // verification.dkim_cname_domain, for `dkim zone` and `identity records`
	// MailFromMXDomain (verification.mail_from_mx_domain) and Hostname are
	// for `identity records`: a custom MAIL FROM domain's MX and SPF.
	MailFromMXDomain string
	Hostname         string
	// SourceAddresses ([[delivery.source_addresses]]) go in that SPF record.
	SourceAddresses []string
	// ConsoleURL is how the web console is reached (console-token prints
	// it); "" when it is off.
	ConsoleURL string
	// Heartbeat is [cluster] heartbeat, by which `cluster status` judges
	// a node alive (default 5s); Clock tells its time (default the wall
	// clock).
	Heartbeat time.Duration
	Clock     clock.Clock
	// OpenStore opens the store when RunWith is given none: only once a
	// command's line has parsed, so asking for help opens (and creates)
	// nothing. The caller closes it.
	OpenStore func() (Store, error)
	// Queue opens the mail queue for the queue commands (queue.go).
	Queue func(ctx context.Context) (queuectl.Queue, error)
	// Server reaches the running server's control socket for the auth
	// commands (auth.go); queuectl.ErrNoServer when none runs.
	Server func(ctx context.Context) (queuectl.AuthControl, error)
}

// RunWith is Run with every configuration value the commands use. st may
// be nil when opt.OpenStore is set (an untyped nil: a nil *store.Store in
// the interface is not nil).
func RunWith(ctx context.Context, st Store, opt Options, args []string, stdout io.Writer) error {
	regions := opt.Regions
	if len(regions) == 0 {
		regions = []string{defaultRegion}
	}
	a := &admin{st: st, openStore: opt.OpenStore, regions: regions, dkimDomain: opt.DKIMCNAMEDomain,
		queue: opt.Queue, server: opt.Server, out: stdout, mailFromMX: opt.MailFromMXDomain, hostname: opt.Hostname,
		sources:    opt.SourceAddresses,
		consoleURL: opt.ConsoleURL, heartbeat: opt.Heartbeat, clock: opt.Clock}
	if a.heartbeat <= 0 {
		a.heartbeat = defaultHeartbeat
	}
	if a.clock == nil {
		a.clock = clock.Real{}
	}
	a.defaultDomains()
	c, rest, err := resolve(args, stdout)
	if err != nil || c.name == "" {
		return err // a usage mistake, or help already shown
	}
	if c.run == nil {
		return fmt.Errorf("sesame admin %s is not available in this build", c.name)
	}
	return c.run(a, ctx, c.name, rest)
}

// resolve finds the command args name and returns it with its own
// arguments. A help request ("help", "-h", "--help" in place of a command
// or a subcommand) is answered on w and returns no command.
func resolve(args []string, w io.Writer) (command, []string, error) {
	if len(args) == 0 {
		return command{}, nil, usageErr("no command given")
	}
	if isHelp(args[0]) {
		// "help", "help key", "help key create".
		// A command of one word (backup) is also a "group" of itself: it
		// gets its own help, not a list of subcommands it does not have.
		text := Usage()
		if len(args) > 1 {
			if _, ok := lookup(args[1]); ok {
				text = CommandUsage(args[1], nil)
			} else if len(group(args[1])) > 0 {
				text = GroupUsage(args[1])
				if len(args) > 2 {
					if _, ok := lookup(args[1] + " " + args[2]); ok {
						text = CommandUsage(args[1]+" "+args[2], nil)
					}
				}
			}
		}
		_, err := io.WriteString(w, text)
		return command{}, nil, err
	}
	if c, ok := lookup(args[0]); ok {
		return c, args[1:], nil
	}
	if len(group(args[0])) == 0 {
		return command{}, nil, usageErr(fmt.Sprintf("unknown command %q", args[0]))
	}
	if len(args) < 2 {
		return command{}, nil, groupErr(args[0], fmt.Sprintf("%q needs a subcommand", args[0]))
	}
	if isHelp(args[1]) {
		_, err := io.WriteString(w, GroupUsage(args[0]))
		return command{}, nil, err
	}
	name := args[0] + " " + args[1]
	c, ok := lookup(name)
	if !ok {
		return command{}, nil, groupErr(args[0], fmt.Sprintf("unknown command %q", name))
	}
	return c, args[2:], nil
}

type admin struct {
	st         Store
	openStore  func() (Store, error)
	regions    []string
	dkimDomain string
	mailFromMX string
	hostname   string
	sources    []string
	consoleURL string
	heartbeat  time.Duration
	clock      clock.Clock
	queue      func(ctx context.Context) (queuectl.Queue, error)
	server     func(ctx context.Context) (queuectl.AuthControl, error)
	out        io.Writer
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// usageErr is a mistake in the command line, with the whole usage.
func usageErr(problem string) error {
	return fmt.Errorf("%s\n\n%s", problem, Usage())
}

// groupErr is a mistake in the command line, with the group's commands.
func groupErr(g, problem string) error {
	return fmt.Errorf("%s\n\n%s", problem, GroupUsage(g))
}

// commandErr is a mistake in one command's line, with its usage.
func commandErr(name, problem string) error {
	return fmt.Errorf("%s: %s\n\n%s", name, problem, CommandUsage(name, nil))
}

// errHelpShown tells parse's callers that -h was answered with the usage.
var errHelpShown = errors.New("help shown")

// parse parses fs from args, letting flags follow positional arguments
// ("identity verify a@b.c --region eu-west-1"), and returns the positional
// ones. A lone "--" ends the flags. -h/--help prints the command's usage
// and flags. Once the line has parsed, the store is opened if it was not.
func (a *admin) parse(fs *flag.FlagSet, name string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(a.out, CommandUsage(name, fs))
			return nil, errHelpShown
		}
		if err != nil {
			return nil, commandErr(name, err.Error())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if a.st == nil && a.openStore != nil {
		st, err := a.openStore()
		if err != nil {
			return nil, err
		}
		a.st = st
	}
	return positional, nil
}

// withoutStore marks a command that does not use the store (the queue and
// auth commands talk to the spool or the running server): parse then opens
// (and creates) nothing.
func (a *admin) withoutStore() { a.openStore = nil }

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
			return commandErr(name, fmt.Sprintf("unexpected argument %q", pos[0]))
		}
		return commandErr(name, fmt.Sprintf("want %s, have %d arguments", what, len(pos)))
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
	// Mail is full of <addresses> and diagnostics with & in them: the
	// output is for terminals and scripts, not for embedding in HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
