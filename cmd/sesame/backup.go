package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	adminpkg "sesame/internal/admin"
	"sesame/internal/backup"
	"sesame/internal/config"
)

// adminBackup runs `admin backup` and `admin restore` (args[0]). They
// never open the store: backup reads the data dir as it is, restore must
// not create or migrate the data dir it is about to fill.
func adminBackup(cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	force := new(bool)
	if args[0] == "restore" {
		fs.BoolVar(force, "force", false, "move a non-empty data dir aside to <data dir>.before-restore-<time> first")
	} else if slices.ContainsFunc(args[1:], func(a string) bool { return a == "-force" || a == "--force" }) {
		return usageError{errors.New("backup has no --force: give a new or an empty directory")}
	}
	usage := adminpkg.CommandUsage(args[0], fs)
	words, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return err
	}
	if err != nil {
		return usageError{fmt.Errorf("%w\n\n%s", err, usage)}
	}
	if len(words) != 1 {
		return usageError{fmt.Errorf("%s needs one directory (the backup)\n\n%s", args[0], usage)}
	}
	ctx := context.Background()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	switch args[0] {
	case "backup":
		m, err := backup.Create(ctx, cfg.DataDir, words[0], backup.Options{Version: version(), SecretKeyFile: cfg.Store.SecretKeyFile,
			Logger: slog.New(slog.NewTextHandler(stderr, nil))})
		if err != nil {
			return err
		}
		var bytes int64
		for _, f := range m.Files {
			bytes += f.Size
		}
		return enc.Encode(map[string]any{
			"backup": words[0], "data_dir": m.DataDir, "created": m.Created.Format(time.RFC3339),
			"sesame_version": m.SesameVersion, "schema_version": m.SchemaVersion,
			"spool_pending": m.SpoolPending, "inbound_pending": m.InboundPending, "files": len(m.Files), "bytes": bytes,
		})
	default: // restore
		res, err := backup.Restore(ctx, words[0], cfg.DataDir, backup.RestoreOptions{Force: *force, SecretKeyFile: cfg.Store.SecretKeyFile})
		if err != nil {
			return err
		}
		out := map[string]any{
			"restored": cfg.DataDir, "backup": words[0], "created": res.Manifest.Created.Format(time.RFC3339),
			"sesame_version": res.Manifest.SesameVersion, "schema_version": res.Manifest.SchemaVersion,
			"spool_pending": res.Manifest.SpoolPending, "inbound_pending": res.Manifest.InboundPending,
			"files": len(res.Manifest.Files),
		}
		if res.MovedAside != "" {
			out["moved_aside"] = res.MovedAside
		}
		return enc.Encode(out)
	}
}

// parseInterspersed parses flags before, between and after the words
// (people type `restore DIR --force` as often as `restore --force DIR`).
// The flag package's own messages are silenced: the caller prints the
// usage, on stdout when help was asked for.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return words, nil
		}
		words = append(words, args[0])
		args = args[1:]
	}
}
