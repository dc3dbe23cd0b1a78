package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"time"
)

// consoleTokenOut is what console-token prints.
type consoleTokenOut struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	Console string    `json:"console_url,omitempty"`
	Note    string    `json:"note,omitempty"`
}

// consoleToken makes an operator sign-in token for the web console. Only
// its hash is stored: it is shown once.
func (a *admin) consoleToken(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token signs in (at most 168h)")
	return a.run(fs, name, args, 0, "", func([]string) error {
		if *ttl < time.Minute || *ttl > 7*24*time.Hour {
			return commandErr(name, "--ttl must be between 1m and 168h")
		}
		b := make([]byte, 32)
		rand.Read(b)
		now := time.Now().UTC()
		out := consoleTokenOut{Token: "sesame-op-" + base64.RawURLEncoding.EncodeToString(b),
			Expires: now.Add(*ttl).Truncate(time.Second), Console: a.consoleURL}
		if err := a.st.AddConsoleToken(ctx, out.Token, now, now.Add(*ttl)); err != nil {
			return err
		}
		if out.Console != "" {
			out.Note = "sign in at " + out.Console + "/signin?as=operator"
		} else {
			out.Note = "the console is off: set [console] listen"
		}
		return a.print(out)
	})
}
