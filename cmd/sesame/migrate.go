package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	adminpkg "sesame/internal/admin"
	"sesame/internal/backup"
	"sesame/internal/config"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// adminMigrate runs `admin migrate --to URL`: it copies the embedded
// database of the data dir into a new PostgreSQL database, the move from
// one node to a cluster. Like restore it holds the data dir's lock, so it
// is refused while a server runs there (a copy of a database that is
// still written would lose what comes after).
func adminMigrate(cfg config.Config, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("admin migrate", flag.ContinueOnError)
	to := flags.String("to", "", "the PostgreSQL database to copy into (postgres://…; new, or without accounts)")
	words, err := parseInterspersed(flags, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, adminpkg.CommandUsage("migrate", flags))
		return err
	}
	if err != nil {
		return usageError{fmt.Errorf("%w\n\n%s", err, adminpkg.CommandUsage("migrate", flags))}
	}
	if len(words) > 0 {
		return usageError{fmt.Errorf("migrate takes no arguments (got %q)\n\n%s", words, adminpkg.CommandUsage("migrate", flags))}
	}
	if !store.Postgres(*to) {
		return usageError{fmt.Errorf("migrate needs --to postgres://… (the database to copy into)\n\n%s",
			adminpkg.CommandUsage("migrate", flags))}
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "sesame.db")); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data dir %s: %w", cfg.DataDir, seserr.MigrateNoSource)
	}
	lock, err := backup.LockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()

	ctx := context.Background()
	// Both stores take the installation's secret key: the sealed secrets
	// are copied as they are, so the target must open them with it.
	src, err := store.OpenWith(ctx, store.Options{DataDir: cfg.DataDir, SecretKeyFile: cfg.Store.SecretKeyFile})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.OpenWith(ctx, store.Options{DataDir: cfg.DataDir, URL: *to, SecretKeyFile: cfg.Store.SecretKeyFile})
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, err := store.CopyInto(ctx, src, dst)
	if err != nil {
		return err
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"tables": counts, "rows": total, "to": store.RedactURL(*to)}); err != nil {
		return err
	}
	keyFile := cfg.Store.SecretKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, "secret.key")
	}
	fmt.Fprintf(stderr, `Copied. Next:
  1. set [store] url to the --to URL (%s) in the configuration of
     every node; this data dir keeps the spool: start the first node on it;
  2. copy %s to every node (same path, or [store] secret_key_file):
     the secrets in the database are sealed with it;
  3. start the nodes. The embedded database (sesame.db) is left as it was.
`, store.RedactURL(*to), keyFile)
	return nil
}
