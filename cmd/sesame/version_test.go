package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123"}
	for _, c := range []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"no VCS information (-buildvcs=false)", nil, Version},
		{"clean tree", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "false"}}, Version + " (commit 0123456789ab)"},
		{"uncommitted changes", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "true"}}, Version + " (commit 0123456789ab+dirty)"},
	} {
		if got := versionOf(c.settings); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// A worktree build's commit, from -ldflags -X (dist/docker/build.sh);
	// the build's own record wins over it.
	defer func(c string) { commit = c }(commit)
	commit = "fedcba9876543210fedcba+dirty"
	if got, want := versionOf(nil), Version+" (commit fedcba987654+dirty)"; got != want {
		t.Errorf("commit from -ldflags: %q, want %q", got, want)
	}
	if got, want := versionOf([]debug.BuildSetting{rev}), Version+" (commit 0123456789ab)"; got != want {
		t.Errorf("both: %q, want %q", got, want)
	}
	commit = ""
	if v := version(); v == "" || v == "(devel)" {
		t.Errorf("version() = %q", v)
	}
}
