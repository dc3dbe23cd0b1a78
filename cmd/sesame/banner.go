package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"sesame/internal/awsauth"
	"sesame/internal/config"
	"sesame/internal/store"
)

// DevelopmentWarning is logged at every start in development mode
// ([accounts] development) and printed in the first-start banner.
const DevelopmentWarning = "development mode: every account is in production without limits and every identity counts as verified — do not use on the internet"

// warnDevelopment logs DevelopmentWarning when the mode is on: loudly, at
// every start, since a server left in it accepts mail from anyone who has
// a key for any sender and recipient.
func warnDevelopment(cfg config.Config, log *slog.Logger) {
	if cfg.Accounts.Development {
		log.Warn(DevelopmentWarning, "setting", "[accounts] development = true")
	}
}

// firstStart creates the first account when the store has none and prints
// what a user needs to send mail at once: the credentials and a first
// message, with the admin commands written with the same -c FILE and
// --data DIR the server was started with and fitting the delivery mode
// and development mode.
func firstStart(ctx context.Context, st *store.Store, cfg config.Config, cf configFlags, out io.Writer) error {
	acct, key, err := st.CreateFirstAccount(ctx)
	if errors.Is(err, store.ErrHasAccounts) {
		return nil
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	if cfg.Accounts.Development {
		fmt.Fprintf(&b, "\nsesame: first start — created account %s.\n\n", acct.ID)
		fmt.Fprintf(&b, "  WARNING: %s\n  ([accounts] development = true).\n\n", DevelopmentWarning)
	} else {
		fmt.Fprintf(&b, "\nsesame: first start — created account %s (every region starts in the sandbox, as SES).\n\n", acct.ID)
	}
	fmt.Fprintf(&b, "  Access key id (SMTP user name): %s\n", key.ID)
	fmt.Fprintf(&b, "  Secret access key:              %s\n", key.Secret)
	for _, r := range cfg.Regions {
		fmt.Fprintf(&b, "  SMTP password for %-13s %s\n", r+":", awsauth.SMTPPassword(key.Secret, r))
	}
	// The same text goes to the credentials file and, secrets replaced by
	// its path, to a stdout that is not a terminal: it must hold for both.
	fmt.Fprintf(&b, "\n  sesame keeps the secret encrypted in %s and cannot show it again: keep these, then delete\n  %s.\n",
		cfg.DataDir, filepath.Join(cfg.DataDir, CredentialsFile))
	if u := cfg.ConsoleBaseURL(); u != "" {
		fmt.Fprintf(&b, "\n  Web console: %s — sign in with this access key id and secret.\n", u)
	}
	tryIt(&b, cfg, cf, key)
	_, err = io.WriteString(out, b.String())
	return err
}

// tryIt writes the banner's first message: in the sandbox after verifying
// a sender, to the mailbox simulator (which mx mode answers itself too),
// then where to see it and how to leave the sandbox; in development mode
// without the sandbox's steps.
func tryIt(b *strings.Builder, cfg config.Config, cf configFlags, key store.AccessKey) {
	region := cfg.Regions[0]
	admin := "sesame admin" + cf.adminFlags()
	if cf.container {
		// The image has no shell: the admin runs as the entrypoint of an exec.
		admin = "docker exec CONTAINER /sesame admin" + cf.adminFlags()
	}
	mx := cfg.Delivery.Mode == "mx"
	switch {
	case mx && cfg.Accounts.Development:
		fmt.Fprintf(b, "\n  Delivery mode mx: accepted mail goes out to the recipients' mail servers on the internet,\n")
		fmt.Fprintf(b, "  from any sender to any recipient in development mode.\n")
	case mx:
		fmt.Fprintf(b, "\n  Delivery mode mx: accepted mail goes out to the recipients' mail servers on the internet.\n")
		fmt.Fprintf(b, "  In the sandbox the sender and every recipient must be verified identities (the mailbox\n")
		fmt.Fprintf(b, "  simulator, *@simulator.amazonses.com, excepted).\n")
	}
	switch {
	case cfg.Accounts.Development:
		fmt.Fprintf(b, "\n  Try it (any sender, any recipient):\n")
	default:
		fmt.Fprintf(b, "\n  Try it (in the sandbox the sender must be a verified identity):\n")
		fmt.Fprintf(b, "    %s identity verify --region %s sender@example.com\n", admin, region)
	}
	pw := awsauth.SMTPPassword(key.Secret, region)
	if len(cfg.SMTP.StartTLSListen) > 0 {
		fmt.Fprintf(b, "    swaks --server %s --tls --auth LOGIN --auth-user %s --auth-password '%s' \\\n", reachable(cfg.SMTP.StartTLSListen[0]), key.ID, pw)
	} else {
		fmt.Fprintf(b, "    swaks --server %s --tls-on-connect --auth LOGIN --auth-user %s --auth-password '%s' \\\n", reachable(firstOr(cfg.SMTP.TLSListen, "")), key.ID, pw)
	}
	// Captured mail goes nowhere, so development mode's example sends to
	// anyone; mail that goes out goes to the simulator.
	to := "success@simulator.amazonses.com"
	if cfg.Accounts.Development && !mx {
		to = "someone@example.com"
	}
	fmt.Fprintf(b, "      --from sender@example.com --to %s\n", to)
	if addr := capturedMailAddr(cfg); addr != "" {
		curl := "curl -s"
		if strings.HasPrefix(addr, "https:") {
			curl = "curl -sk" // the self-signed certificate
		}
		fmt.Fprintf(b, "    %s %s/_aws/ses      # the captured message\n", curl, addr)
	}
	if !cfg.Accounts.Development {
		fmt.Fprintf(b, "\n  Leave the sandbox: %s account set --region %s --production\n", admin, region)
	}
	b.WriteString("\n")
}

// adminFlags are the -c and --data the server was started with, as
// `sesame admin` takes them (" -c FILE --data DIR"; "" for neither): the
// admin commands the banner suggests must reach the same data. --data is
// kept with -c because it overrides the file's data_dir.
func (c configFlags) adminFlags() string {
	var s string
	if c.file != "" {
		s += " -c " + shellQuote(c.file)
	}
	if c.data != "" {
		s += " --data " + shellQuote(c.data)
	}
	return s
}

// shellQuote returns s as one POSIX shell word: as it is when it needs no
// quoting, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:+,=@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// capturedMailAddr is where /_aws/ses answers ("scheme://host:port"), or ""
// when it is off or has no listener.
func capturedMailAddr(cfg config.Config) string {
	switch {
	case !cfg.CapturedMailOn():
		return ""
	case cfg.API.CapturedMailListen != "":
		return "http://" + reachable(cfg.API.CapturedMailListen)
	case cfg.API.Listen == "":
		return ""
	case cfg.API.CertFile != "":
		return "https://" + reachable(cfg.API.Listen)
	}
	return "http://" + reachable(cfg.API.Listen)
}

// reachable turns a listen address into one a client on this machine can
// connect to: a wildcard host (0.0.0.0, ::, none) becomes localhost, which
// the self-signed certificate names.
func reachable(listen string) string { return config.DialAddr(listen, "localhost") }

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
