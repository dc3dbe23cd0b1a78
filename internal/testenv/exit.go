package testenv

import (
	"syscall"
	"testing"
	"time"
)

// Signal sends sig to the running server (SIGHUP: reload; SIGTERM: drain).
func (s *Server) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// WaitExit waits up to d for the process to end on its own and returns its
// exit status (-1 when a signal ended it); it fails the test when the
// process is still running after d.
func (s *Server) WaitExit(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(d):
		t.Fatalf("sesame still running %v later", d)
	}
	return s.cmd.ProcessState.ExitCode()
}
