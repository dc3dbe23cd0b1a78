package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// Issue 9, defect 10: the first start's secrets are in a 0600 file in the
// data dir; the process's output (not a terminal here) and log carry only
// its path.
func TestFirstStartSecretsNotLogged(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	path := filepath.Join(s.Dir, "first-start-credentials.txt")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	out := s.Stdout.String() + s.Stderr.String()
	for _, secret := range []string{s.Secret, awsauth.SMTPPassword(s.Secret, s.Regions[0])} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret in the output:\n%s", out)
		}
	}
	if !strings.Contains(s.Stderr.String(), path) || !strings.Contains(s.Stdout.String(), path) {
		t.Errorf("the output does not say where the credentials are:\n%s", out)
	}
	// They work: the API answers with them (testenv's clients use them).
	if _, err := s.SESClient(t).GetSendQuota(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}
