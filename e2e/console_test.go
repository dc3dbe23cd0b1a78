package e2e

import (
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// The console signs in with the account's own keys through a plain form and
// shows the region's dashboard: sandbox, quotas, sending enabled.
func TestConsoleSignInAndDashboard(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Options{})
	b := testenv.StartBrowser(t)
	consoleGo(b, s, "/")
	if got := b.Text("h1"); !strings.Contains(got, "Sign in") {
		t.Fatalf("a visitor without a session sees %q, want the sign-in form", got)
	}
	b.Screenshot("signin")
	consoleSignIn(t, b, s)
	for _, want := range []string{"Sandbox", "HEALTHY", "200"} {
		if got := b.Text("main"); !strings.Contains(got, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, got)
		}
	}
	b.Screenshot("dashboard")
	b.Phone()
	b.Screenshot("dashboard-phone")
	b.Desktop()
}
