package smtpd

import (
	"strings"
	"testing"
)

// FuzzCommandLine: any command line splits into a verb without spaces and a
// trimmed argument, and the MAIL/RCPT argument parsers never panic; a
// path they accept is a substring of the line (its syntax is the Backend's
// to judge: sending.CheckAddress has its own fuzz target).
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME",
		"RCPT TO:<@a,@b:u@c.example>",
		"rcpt to:<\"u@c\"@host>",
		"MAIL FROM:<> SMTPUTF8",
		"EHLO  x",
		"DATA\x00",
		"RCPT TO:<u%c@sesame.test> NOTIFY=NEVER",
		"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>",
		"AUTH PLAIN AGFAYg==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		verb, arg := splitCommand(line)
		if strings.Contains(verb, " ") {
			t.Fatalf("verb %q holds a space", verb)
		}
		if arg != strings.TrimSpace(arg) {
			t.Fatalf("argument %q not trimmed", arg)
		}
		for _, kw := range []string{"FROM:", "TO:"} {
			addr, params, ok := parsePath(arg, kw)
			if !ok {
				continue
			}
			if !strings.Contains(line, addr) {
				t.Fatalf("path %q is not in the line %q", addr, line)
			}
			_ = checkMailParams(params, 40<<20)
		}
	})
}
