package main

import (
	"runtime/debug"
	"strings"
)

// Version is sesame's release, kept here by hand: a build made without VCS
// information (-buildvcs=false, a source tarball, a container build from a
// copied tree) still says what it is.
const Version = "0.15.0"

// commit is the commit the binary was built from when the build could not
// record it itself: dist/docker/build.sh sets it with
// -ldflags "-X main.commit=<hash>[+dirty]" in a git worktree, where the go
// command does not stamp VCS information (it looks for a .git directory,
// and a worktree's .git is a file). The build's own record wins.
var commit string

// version is Version and, when the build recorded it, the commit it was
// built from ("+dirty" when the tree had uncommitted changes).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return versionOf(nil)
	}
	return versionOf(bi.Settings)
}

func versionOf(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) < 12 {
		if rev, dirty, _ := strings.Cut(commit, "+"); len(rev) >= 12 {
			return versionString(rev, dirty != "")
		}
		return Version
	}
	return versionString(rev, dirty)
}

func versionString(rev string, dirty bool) string {
	v := Version + " (commit " + rev[:12]
	if dirty {
		v += "+dirty"
	}
	return v + ")"
}
