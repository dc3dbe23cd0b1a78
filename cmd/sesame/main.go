// Command sesame is a self-hosted email service that speaks Amazon SES's
// protocols. This file is wiring only: subcommands, flags, and handing the
// configuration to the packages that do the work.
package main

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"sesame/internal/awsauth"
	"sesame/internal/config"
	"sesame/internal/dkim"
	"sesame/internal/sns"
)

const usage = `sesame — a self-hosted email service that speaks Amazon SES's protocols

Usage:
  sesame serve [-c FILE] [--data DIR]      run the SMTP endpoint, the API and delivery
  sesame admin COMMAND ... [-c FILE] [--data DIR]
                                           manage accounts, keys, identities, settings, the queue
                                           (JSON output)
  sesame smtp-password --secret SECRET --region REGION
                                           print the SES SMTP password of a secret access key
  sesame version                           print the version and the RSA engine DKIM signing uses

-c FILE is a TOML config (every key optional; see docs/configuration.md);
--data DIR overrides its data_dir. "sesame admin --help" lists the admin commands,
"sesame admin COMMAND --help" shows one.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the exit status: 0 ok, 1 failure
// while running, 2 bad usage or configuration.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = serve(rest, stdout, stderr)
	case "admin":
		err = admin(rest, stdout, stderr)
	case "smtp-password":
		err = smtpPassword(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "sesame", version())
		engine, detail := dkim.AutoRSA()
		fmt.Fprintf(stdout, "DKIM RSA signing (delivery.dkim_rsa = \"auto\"): %s (%s)\n", engine, detail)
	case sns.HelperSubcommand: // SNS's low-priority helper process, not for users
		// A reload is the server's business: `pkill -HUP sesame` (or
		// killall) reaches the helper too, and must not kill it. It ends
		// when the server closes its stdin.
		signal.Ignore(syscall.SIGHUP)
		err = sns.ServeHelper(os.Stdin, os.Stdout, rsaEngine)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "sesame: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sesame %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "sesame %s: %v\n", cmd, err)
		return 1
	}
}

// usageError marks mistakes in the command line or the configuration (exit 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// configFlags are the flags serve and admin share.
type configFlags struct {
	file string
	data string
	// container is set by serve from $SESAME_CONTAINER, which the image's
	// Dockerfile sets: the banner then writes admin commands as docker exec.
	container bool
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "c", "", "TOML config `FILE` (every key optional)")
	fs.StringVar(&c.data, "data", "", "data `DIR` (overrides data_dir)")
}

// load reads the config and applies --data.
func (c *configFlags) load() (config.Config, error) {
	cfg, err := config.Load(c.file)
	if err != nil {
		return cfg, usageError{err}
	}
	if c.data != "" {
		cfg.DataDir = c.data
	}
	return cfg, nil
}

// parseFlags parses args with fs. Help asked for (-h, --help) is printed
// on stdout, where a reader pipes it, and ends the command with status 0;
// a mistake is an error followed by the usage (on stderr, exit 2).
func parseFlags(fs *flag.FlagSet, args []string, usage func() string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage())
		return err
	case err != nil:
		return usageError{fmt.Errorf("%w\n\n%s", err, usage())}
	}
	return nil
}

// flagDefaults is fs's flags as the flag package lists them.
func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

const smtpPasswordUsage = `Usage: sesame smtp-password --secret SECRET [--region REGION]

Prints the SES SMTP password of a secret access key, derived as AWS derives
it; an SMTP password is good in one region only.

Flags:
`

func smtpPassword(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("smtp-password", flag.ContinueOnError)
	secret := fs.String("secret", "", "the secret access key")
	region := fs.String("region", "us-east-1", "the `REGION` the password is for (SMTP passwords are per region)")
	usage := func() string { return smtpPasswordUsage + flagDefaults(fs) }
	if err := parseFlags(fs, args, usage, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q\n\n%s", fs.Arg(0), usage())}
	}
	if *secret == "" {
		return usageError{fmt.Errorf("--secret is required\n\n%s", usage())}
	}
	fmt.Fprintln(stdout, awsauth.SMTPPassword(*secret, *region))
	return nil
}

// rsaEngine gives SNS's helper process the RSA engines DKIM has.
func rsaEngine(name string) (func(*rsa.PrivateKey) (crypto.Signer, error), error) {
	wrap, _, err := dkim.RSAEngine(name)
	return wrap, err
}
