package config

import "testing"

// [accounts] development is off unless set, and a typo in its key or a
// non-boolean value stops the start rather than silently leaving it off.
func TestAccountsDevelopment(t *testing.T) {
	t.Parallel()
	if Default().Accounts.Development {
		t.Fatal("development mode is on by default")
	}
	c := Default()
	if err := Parse(&c, "[accounts]\ndevelopment = true\n"); err != nil || !c.Accounts.Development {
		t.Fatalf("development = true: %v, %+v", err, c.Accounts)
	}
	for _, bad := range []string{"[accounts]\ndevelopement = true\n", "[accounts]\ndevelopment = \"yes\"\n"} {
		c := Default()
		if err := Parse(&c, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
