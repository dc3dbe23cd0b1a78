//go:build !unix

package lowprio

import "os/exec"

func detach(*exec.Cmd) {}

// lowerPriority: only Unix systems get a lower priority.
func lowerPriority() {}
