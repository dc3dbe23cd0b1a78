package main

import (
	"runtime/debug"
)

// Version is sesame's release, kept here by hand: a build made without VCS
// information (-buildvcs=false, a source tarball, a container build from a
// copied tree) still says what it is.
const Version = "0.9.0"

// version is Version and, when the build recorded it, the commit it was
// built from ("+dirty" when the tree had uncommitted changes).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
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
		return Version
	}
	v := Version + " (commit " + rev[:12]
	if dirty {
		v += "+dirty"
	}
	return v + ")"
}
