package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	adminpkg "sesame/internal/admin"
	"sesame/internal/config"
	"sesame/internal/queuectl"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// admin runs `sesame admin COMMAND ...`. -c FILE and --data DIR may come
// anywhere on the line; the rest is the admin package's. Every mistake,
// in the line or while running, exits 2.
func admin(args []string, stdout, stderr io.Writer) error {
	cf, rest, err := configFlagsAnywhere(args)
	if err != nil {
		return usageError{fmt.Errorf("%w\n\n%s", err, adminpkg.Usage())}
	}
	ctx := context.Background()
	if len(rest) == 0 || isHelpWord(rest[0]) {
		// The usage needs no configuration: a broken one must not hide it.
		if err := adminpkg.RunWith(ctx, nil, adminpkg.Options{}, rest, stdout); err != nil {
			return usageError{err}
		}
		return nil
	}
	cfg, err := cf.load()
	if err != nil {
		// A command's help needs no configuration either: the defaults
		// stand in (help opens nothing), so a broken file does not hide it.
		if !helpAsked(rest) {
			return err
		}
		cfg = config.Default()
	}
	// backup/restore are dispatched here, before the store is opened.
	if rest[0] == "backup" || rest[0] == "restore" {
		if cfg.Store.URL != "" && !slices.ContainsFunc(rest[1:], isHelpWord) {
			return fmt.Errorf("%s: %w", rest[0], seserr.BackupOnPostgres) // run prefixes "sesame admin: "
		}
		return adminBackup(cfg, rest, stdout, stderr)
	}
	if rest[0] == "migrate" {
		return adminMigrate(cfg, rest, stdout, stderr)
	}
	var st *store.Store
	opt := adminpkg.Options{Regions: cfg.Regions, DKIMCNAMEDomain: cfg.Verification.DKIMCNAMEDomain,
		MailFromMXDomain: cfg.Verification.MailFromMXDomain, Hostname: cfg.Hostname,
		SourceAddresses: cfg.Delivery.SourceIPs(),
		ConsoleURL:      cfg.ConsoleBaseURL(), Heartbeat: cfg.Cluster.Heartbeat.Duration,
		// Opened once the command's line has parsed: help creates nothing.
		OpenStore: func() (adminpkg.Store, error) {
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("data dir: %w", err)
			}
			var err error
			st, err = store.OpenWith(ctx, storeOptions(cfg))
			return st, err
		},
		Queue: queueOpener(cfg),
		Server: func(ctx context.Context) (queuectl.AuthControl, error) {
			return queuectl.DialServer(ctx, cfg.DataDir)
		},
	}
	err = adminpkg.RunWith(ctx, nil, opt, rest, stdout)
	if st != nil {
		st.Close()
	}
	if err != nil {
		return usageError{err}
	}
	return nil
}

func isHelpWord(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// helpAsked says whether args ask a command for its help (-h, --help
// among its flags, before a lone "--").
func helpAsked(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// configFlagsAnywhere takes -c FILE and --data DIR out of args wherever
// they are ("sesame admin account create -c FILE"), in every spelling the
// flag package accepts (-c, --c, -data, --data; a separate value or
// "=value"), up to a lone "--": that and what follows are left to the
// command. The other arguments keep their order.
func configFlagsAnywhere(args []string) (configFlags, []string, error) {
	var cf configFlags
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return cf, append(rest, args[i:]...), nil
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		if !strings.HasPrefix(arg, "-") || name != "c" && name != "data" {
			rest = append(rest, arg)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return cf, nil, fmt.Errorf("flag needs an argument: %s", arg)
			}
			i++
			value = args[i]
		}
		if name == "c" {
			cf.file = value
		} else {
			cf.data = value
		}
	}
	return cf, rest, nil
}
