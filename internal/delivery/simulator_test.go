package delivery

import (
	"context"
	"strings"
	"testing"

	"sesame/internal/outcome"
	"sesame/internal/spool"
	"sesame/internal/testenv"
)

// TestSimulatorComplaintAndOutOfOffice: complaint@ and ooto@ accept the
// message and answer the sender; a complaint is recorded, never suppressed;
// an answer that cannot be spooled keeps the recipient for a retry.
func TestSimulatorComplaintAndOutOfOffice(t *testing.T) {
	env := startMX(t, nil, testenv.SinkOptions{})
	env.dsns.fail = 1 // the first answer is refused: a full disk
	ctx := context.Background()
	id := env.send("sender@example.com", spool.Meta{}, "complaint@simulator.amazonses.com", "ooto+x@simulator.amazonses.com")
	env.waitGone(id)
	if env.sinks[0].Connections() != 0 {
		t.Error("the simulator's mail left sesame")
	}
	cs, err := env.store.Complaints(ctx, testAccount, testRegion, id, 0)
	if err != nil || len(cs) != 1 || cs[0].Recipient != "complaint@simulator.amazonses.com" ||
		cs[0].FeedbackType != "abuse" || cs[0].UserAgent != outcome.SimulatorUserAgent {
		t.Fatalf("complaints = %+v, %v", cs, err)
	}
	if _, err := env.store.SuppressedDestination(ctx, testAccount, testRegion, "complaint@simulator.amazonses.com"); err == nil {
		t.Error("the simulator's complaint put its address on the suppression list")
	}
	if bs := env.bounces(id); len(bs) != 0 {
		t.Errorf("bounces = %+v", bs)
	}
	sent := env.dsns.sent()
	if len(sent) != 2 {
		t.Fatalf("%d answers sent, want the complaint and the auto-reply once each", len(sent))
	}
	var arf, ooto string
	for _, m := range sent {
		if m.Recipients[0] != "sender@example.com" {
			t.Errorf("answer to %v", m.Recipients)
		}
		if strings.Contains(string(m.Message), "report-type=feedback-report") {
			arf = string(m.Message)
		} else {
			ooto = string(m.Message)
		}
	}
	for _, want := range []string{"From: complaints@bounce.sesame.test\r\n", "Feedback-Type: abuse\r\n",
		"Original-Rcpt-To: complaint@simulator.amazonses.com\r\n", "Message-ID: <" + id + "@test>\r\n"} {
		if !strings.Contains(arf, want) {
			t.Errorf("complaint lacks %q:\n%s", want, arf)
		}
	}
	for _, want := range []string{"From: ooto+x@simulator.amazonses.com\r\n", "Subject: Out of the office: test 1\r\n",
		"Auto-Submitted: auto-replied\r\n"} {
		if !strings.Contains(ooto, want) {
			t.Errorf("auto-reply lacks %q:\n%s", want, ooto)
		}
	}
}
