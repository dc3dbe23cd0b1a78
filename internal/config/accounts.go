package config

// Accounts is the [accounts] section: what applies to every account,
// whatever its stored settings say.
type Accounts struct {
	// Development puts every account, however and whenever it was
	// created, in production without limits in every region (no sandbox,
	// no 24-hour quota, no practical send rate) and lets any sender
	// address or domain send as if verified — LocalStack's habit, for a
	// sesame that serves tests on a developer's machine. It is applied
	// when mail is admitted (internal/sending), never written to the
	// store: turning it off brings back each account's stored settings.
	// The operator's switches still apply (SHUTDOWN, sending paused,
	// suppression). Never on a server reachable from the internet.
	Development bool `toml:"development"`
}
