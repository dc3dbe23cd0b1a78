//go:build !linux

package sdnotify

// clockMonotonic is 0 where there is no systemd to compare it with.
func clockMonotonic() int64 { return 0 }
