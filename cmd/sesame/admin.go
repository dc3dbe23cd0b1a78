package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	adminpkg "sesame/internal/admin"
	"sesame/internal/store"
)

func admin(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sesame admin [-c FILE] [--data DIR] COMMAND ...\n\n%s", adminpkg.Usage())
	}
	var cf configFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	if fs.NArg() == 0 || fs.Arg(0) == "help" {
		fs.Usage()
		return nil
	}
	if fs.NArg() > 0 && (fs.Arg(0) == "backup" || fs.Arg(0) == "restore") {
		return adminBackup(cfg, fs.Args(), stdout, stderr)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	opt := adminpkg.Options{Regions: cfg.Regions, DKIMCNAMEDomain: cfg.Verification.DKIMCNAMEDomain}
	opt.Queue = queueOpener(cfg)
	if err := adminpkg.RunWith(context.Background(), st, opt, fs.Args(), stdout); err != nil {
		return usageError{err}
	}
	return nil
}
