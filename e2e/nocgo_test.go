package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildsWithoutCgo: the README promises Go alone is enough, and a
// machine without a C compiler builds with CGO_ENABLED=0 — then DKIM signs
// with Go's RSA (internal/dkim/rsa_noopenssl.go). The suite itself runs with
// cgo (CI has gcc), so this keeps the other half of the build compiling,
// tests included, and checks that binary's answer to `version`.
func TestBuildsWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles the cgo-free build (~20 s on a cold cache)")
	}
	root := ".." // go test runs in the package's directory, e2e/
	env := append(os.Environ(), "CGO_ENABLED=0")
	vet := exec.Command("go", "vet", "./internal/dkim", "./cmd/sesame")
	vet.Dir, vet.Env = root, env
	if out, err := vet.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go vet: %v\n%s", err, out)
	}
	bin := filepath.Join(t.TempDir(), "sesame")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sesame")
	build.Dir, build.Env = root, env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `DKIM RSA signing (delivery.dkim_rsa = "auto"): go (`) {
		t.Fatalf("version: %v\n%s", err, out)
	}
}
