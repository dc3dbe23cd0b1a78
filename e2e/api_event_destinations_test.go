package e2e

import (
	"context"
	"errors"
	"net/textproto"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/awsauth"
	"sesame/internal/testenv"
)

// TestEventDestinationsScript configures event destinations and identity
// notifications with boto3 against the real binary, reading them back
// through v1 and v2 (e2e/scripts/event_destinations.py).
func TestEventDestinationsScript(t *testing.T) {
	pythonModule(t, "boto3")
	s := startProduction(t, testenv.Options{})
	script, err := filepath.Abs(filepath.Join("scripts", "event_destinations.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script)
	cmd.Env = append(s.Env(t), "TAG=boto3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}

// TestSMTPMessageTagRules: over SMTP, X-SES-MESSAGE-TAGS follows SES's tag
// rule — a value may hold '.' and '@', a bad tag refuses the message at the
// end of DATA with SES's text in a 554 reply.
func TestSMTPMessageTagRules(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	pw := awsauth.SMTPPassword(s.Secret, s.Regions[0])
	msg := func(tags, subject string) string {
		return "X-SES-MESSAGE-TAGS: " + tags + "\r\nFrom: sender@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: " +
			subject + "\r\n\r\nBody.\r\n"
	}
	submitRaw(t, s, "sender@example.com", []string{"success@simulator.amazonses.com"}, msg("to=someone.else@example.com", "tagged"))
	waitSubject(t, s, "tagged")
	for _, tc := range []struct{ tags, reply string }{
		{"bad:name=v", "Invalid tag name <bad:name>: only alphanumeric ASCII characters, '_',  '-' are allowed."},
		{"n=bad:value", "Invalid tag value <bad:value>: only alphanumeric ASCII characters, '_',  '-' , '.', '@' are allowed."},
		{"n=", "The tag value must be specified."},
	} {
		err := smtpSubmit(t, s, pw, "sender@example.com", []string{"success@simulator.amazonses.com"}, msg(tc.tags, "refused"))
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != 554 || te.Msg != "Transaction failed: "+tc.reply {
			t.Errorf("%s: %v, want 554 Transaction failed: %s", tc.tags, err, tc.reply)
		}
	}
}
