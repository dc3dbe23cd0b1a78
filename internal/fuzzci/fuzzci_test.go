// Package fuzzci runs every fuzz target of the module for a bounded time,
// so the fuzzers run in CI and not only when someone remembers them. The
// targets are found by reading the test files (`func FuzzXxx(`), so a
// target added anywhere is run with no list to keep.
package fuzzci

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

var fuzzFunc = regexp.MustCompile(`^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

type target struct{ pkg, name string }

// targets lists the fuzz targets under root, as ("./pkg/dir", "FuzzXxx").
func targets(t *testing.T, root string) []target {
	t.Helper()
	var out []target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if m := fuzzFunc.FindStringSubmatch(sc.Text()); m != nil {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				out = append(out, target{"./" + filepath.ToSlash(rel), m[1]})
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// budget is the fuzzing time of the whole run: SESAME_FUZZ_BUDGET (a Go
// duration) if set, else 60 s under CI=true (with the build of each
// instrumented test binary, about 2½ minutes on 2 cores); 0 means not to run.
func budget(t *testing.T) time.Duration {
	if v := os.Getenv("SESAME_FUZZ_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SESAME_FUZZ_BUDGET: %v", err)
		}
		return d
	}
	if os.Getenv("CI") == "true" {
		return 60 * time.Second
	}
	return 0
}

// TestFuzzTargets runs `go test -run=^$ -fuzz=^FuzzX$ -fuzztime=…` for each
// target in turn, the budget shared between them (at least 2 s each). A
// failing input is written by go test under the package's testdata/fuzz,
// where it becomes a regression case of the package's own tests.
func TestFuzzTargets(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	all := targets(t, root)
	if len(all) < 15 {
		t.Fatalf("found %d fuzz targets; the scan is broken", len(all))
	}
	total := budget(t)
	if total == 0 {
		t.Skipf("%d fuzz targets; they run under CI=true or with SESAME_FUZZ_BUDGET=60s", len(all))
	}
	each := max(2*time.Second, total/time.Duration(len(all)))
	t.Logf("%d fuzz targets, %v each", len(all), each)
	for _, tg := range all {
		t.Run(strings.TrimPrefix(tg.pkg, "./")+"/"+tg.name, func(t *testing.T) {
			// Building the instrumented binary takes its own time on top:
			// internal/api's took over 3 minutes once, with the rest of the
			// suite's packages building and running beside it on 2 cores.
			ctx, cancel := context.WithTimeout(context.Background(), each+8*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "go", "test", "-run=^$", "-fuzz=^"+tg.name+"$",
				"-fuzztime="+each.String(), tg.pkg)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil && engineTimeout(out) {
				// The fuzzing engine's own deadline hit a worker mid-run
				// (a known flake of go test -fuzz): no input failed.
				t.Logf("%s %s: the engine stopped at its deadline without a finding:\n%s", tg.pkg, tg.name, out)
				return
			}
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", tg.pkg, tg.name, err, out)
			}
		})
	}
}

// engineTimeout says whether a failed fuzz run failed only because the
// engine's -fuzztime deadline reached a worker while it ran an input: go
// test then reports "context deadline exceeded" and writes no failing input.
// A real finding always names the input it wrote.
func engineTimeout(out []byte) bool {
	s := string(out)
	return strings.Contains(s, "context deadline exceeded") && !strings.Contains(s, "Failing input written")
}
