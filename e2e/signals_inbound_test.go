package e2e

import (
	"net"
	"net/smtp"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"sesame/internal/testenv"
)

// dialInbound is a session with the inbound MX after EHLO, as a sending
// MTA opens one (plain SMTP, driven line by line).
func dialInbound(t *testing.T, addr string) *drainSMTP {
	t.Helper()
	return dialSMTP(t, addr, "mta.sender.test")
}

// TestSignalsSIGTERMDrainsInboundMX: SIGTERM with [receiving] listen on,
// one sending server idle on its connection and one in the middle of DATA.
// The idle one is told 421 at once, the one in DATA finishes with its
// "250 … queued as", then 421; sesame exits 0 at once, not after
// shutdown_timeout (30 s here), and after a restart the message finished
// during the drain has its receipt rule's action run.
func TestSignalsSIGTERMDrainsInboundMX(t *testing.T) {
	p := startReceivingPeers(t)
	inAddr := testenv.FreeAddr(t)
	s := testenv.Start(t, testenv.Options{Extra: p.config(inAddr)})
	s.Verify("example.com")
	hook := "arn:aws:lambda:us-east-1:" + fnAccount + ":function:hook"
	activateRules(t, s, sestypes.ReceiptRule{Name: aws.String("all"), Enabled: true, Actions: []sestypes.ReceiptAction{
		{LambdaAction: &sestypes.LambdaAction{FunctionArn: aws.String(hook), InvocationType: sestypes.InvocationTypeEvent}},
	}})
	// The rules reach the running server within its cache's second.
	waitFor(t, "the inbound MX to take bob@example.com", func() bool { return rcptAccepted(inAddr, "bob@example.com") })

	idle := dialInbound(t, inAddr)
	busy := dialInbound(t, inAddr)
	busy.expect("MAIL FROM:<alice@elsewhere.test>", "250")
	busy.expect("RCPT TO:<bob@example.com>", "250")
	busy.expect("DATA", "354")
	busy.write("From: alice@elsewhere.test\r\nTo: bob@example.com\r\nSubject: in DATA at SIGTERM\r\n" +
		"Message-ID: <drain-inbound@elsewhere.test>\r\n\r\nfirst half\r\n")
	start := time.Now()
	s.Signal(t, syscall.SIGTERM)
	idle.expect("", "421 4.3.2 Service not available, closing transmission channel")
	if _, err := net.DialTimeout("tcp", inAddr, time.Second); err == nil {
		t.Error("the inbound MX still accepts during the drain")
	}
	busy.write("second half, sent during the drain\r\n")
	busy.expect(".", "250 2.0.0 Ok: queued as ")
	busy.expect("", "421 4.3.2 Service not available, closing transmission channel")

	if code := s.WaitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the drain took %v: the inbound sessions held it", d)
	}
	drained := regexp.MustCompile(`msg=drained .*inbound_sessions=2 inbound_idle_closed=1 inbound_messages_finished=1 inbound_sessions_cut=0`)
	if !strings.Contains(strings.Join(s.Stderr.Lines(), "\n"), "msg=drained") ||
		!drained.MatchString(strings.Join(s.Stderr.Lines(), "\n")) {
		t.Errorf("drained line does not account for the inbound sessions:\n%s", tailLines(s, 5))
	}

	// At least once: the processor may have run it before the drain
	// ended, and again after the restart if its record was not yet
	// written.
	before := strings.Join(s.Stderr.Lines(), "\n")
	defer func() {
		if t.Failed() {
			t.Logf("before the restart:\n%s", before)
		}
	}()
	s.Restart()
	waitFor(t, "the action of the message finished during the drain", func() bool {
		return p.fn.callsByMessageID()["<drain-inbound@elsewhere.test>"] >= 1
	})
}

// rcptAccepted says whether the inbound MX at addr answers 250 to RCPT TO
// rcpt; the session ends without a message.
func rcptAccepted(addr, rcpt string) bool {
	c, err := smtp.Dial(addr)
	if err != nil {
		return false
	}
	defer c.Close()
	if c.Hello("mta.sender.test") != nil || c.Mail("probe@elsewhere.test") != nil {
		return false
	}
	ok := c.Rcpt(rcpt) == nil
	c.Quit()
	return ok
}
