package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sesame/internal/awsauth"
	"sesame/internal/config"
	"sesame/internal/store"
)

// CredentialsFile is where the first start leaves the first account's
// secrets, in the data dir, readable by sesame's user only.
const CredentialsFile = "first-start-credentials.txt"

var bannerSecret = regexp.MustCompile(`Secret access key:\s+(\S+)`)

// firstStartSecret runs firstStart and keeps its banner, which carries the
// secret access key and the SMTP passwords, out of logs: the whole banner
// goes to a 0600 file in the data dir, the log says only where, and stdout
// gets the banner with the secrets replaced by that path — unless stdout
// is a terminal, where someone is watching and the banner shows in full.
func firstStartSecret(ctx context.Context, st *store.Store, cfg config.Config, cf configFlags, stdout io.Writer, log *slog.Logger) error {
	var b strings.Builder
	if err := firstStart(ctx, st, cfg, cf, &b); err != nil || b.Len() == 0 {
		return err
	}
	banner := b.String()
	path := filepath.Join(cfg.DataDir, CredentialsFile)
	if err := writePrivate(path, banner); err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	log.Info("first start: the new account's credentials are in a file readable only by this user", "path", path)
	if !isTerminal(stdout) {
		banner = redactBanner(banner, cfg.Regions, "(see "+path+")")
	}
	_, err := io.WriteString(stdout, banner)
	return err
}

// redactBanner replaces the secret and every region's SMTP password,
// wherever they appear, by placeholder.
func redactBanner(banner string, regions []string, placeholder string) string {
	m := bannerSecret.FindStringSubmatch(banner)
	if m == nil {
		return banner
	}
	secret := m[1]
	for _, r := range regions {
		banner = strings.ReplaceAll(banner, awsauth.SMTPPassword(secret, r), placeholder)
	}
	return strings.ReplaceAll(banner, secret, placeholder)
}

// writePrivate writes path with mode 0600, also when it was there before
// with another mode (a data dir copied around).
func writePrivate(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isTerminal reports whether w is a character device (a terminal), not a
// file, pipe or a log collector.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
