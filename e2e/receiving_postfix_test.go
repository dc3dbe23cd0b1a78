package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"sesame/internal/testenv"
)

// Postfix as the sending MTA: a private Postfix instance relays a domain to
// sesame's inbound MX through a transport map, as the internet's MTAs
// would after an MX lookup. sesame is killed (SIGKILL) while Postfix
// delivers and started again: every message Postfix saw accepted (its
// log's status=sent, sesame's "250 … queued as ID") has its actions run,
// and a message's actions run more than once only for the messages in
// flight at the kill.

// activateRules makes one rule set with rules active for the account.
func activateRules(t *testing.T, srv *testenv.Server, rules ...sestypes.ReceiptRule) {
	t.Helper()
	createRuleSet(t, srv, rules...)
	if _, err := srv.SESClient(t).SetActiveReceiptRuleSet(context.Background(),
		&ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
}

// createRuleSet makes the rule set "main" with rules, in order.
func createRuleSet(t *testing.T, srv *testenv.Server, rules ...sestypes.ReceiptRule) {
	t.Helper()
	ctx := context.Background()
	v1 := srv.SESClient(t)
	if _, err := v1.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	after := ""
	for _, r := range rules {
		in := &ses.CreateReceiptRuleInput{RuleSetName: aws.String("main"), Rule: &r}
		if after != "" {
			in.After = aws.String(after)
		}
		if _, err := v1.CreateReceiptRule(ctx, in); err != nil {
			t.Fatalf("CreateReceiptRule %s: %v", *r.Name, err)
		}
		after = *r.Name
	}
}

// functionCalls counts the function's events per message (its Message-ID
// header, as commonHeaders.messageId shows it).
func (f *lambdaFunction) callsByMessageID() map[string]int {
	n := map[string]int{}
	for _, ev := range f.all() {
		recs, _ := ev["Records"].([]any)
		for _, r := range recs {
			mail, _ := r.(map[string]any)["ses"].(map[string]any)["mail"].(map[string]any)
			ch, _ := mail["commonHeaders"].(map[string]any)
			if id, ok := ch["messageId"].(string); ok {
				n[id]++
			}
		}
	}
	return n
}

func TestReceivingFromPostfixSurvivesCrash(t *testing.T) {
	p := startReceivingPeers(t)
	inAddr := testenv.FreeAddr(t)
	srv := testenv.Start(t, testenv.Options{Extra: p.config(inAddr)})
	srv.Verify("example.com")
	hook := "arn:aws:lambda:us-east-1:" + fnAccount + ":function:hook"
	activateRules(t, srv, sestypes.ReceiptRule{Name: aws.String("all"), Enabled: true, Actions: []sestypes.ReceiptAction{
		{S3Action: &sestypes.S3Action{BucketName: aws.String("inbox")}},
		{LambdaAction: &sestypes.LambdaAction{FunctionArn: aws.String(hook), InvocationType: sestypes.InvocationTypeEvent}},
	}})
	pf := testenv.StartPostfix(t, inAddr, "example.com", "unverified.test")

	// One message first, end to end: Postfix's log shows sesame's reply
	// with the id, and the function sees the message.
	pf.Send(t, "alice@sender.test", []string{"bob@example.com"}, []byte(
		"From: alice@sender.test\r\nTo: bob@example.com\r\nSubject: via postfix\r\nMessage-ID: <first@sender.test>\r\n\r\nhi\r\n"))
	waitFor(t, "the first message to be sent and run", func() bool {
		return len(pf.Sent()) == 1 && p.fn.callsByMessageID()["<first@sender.test>"] == 1
	})
	for _, byRcpt := range pf.Sent() {
		d := byRcpt["bob@example.com"]
		if !strings.HasPrefix(d.Reply, "250 2.0.0 Ok: queued as ") {
			t.Errorf("Postfix logged %q", d.Reply)
		}
	}
	// A recipient sesame does not receive for (no account verified its
	// domain) bounces in Postfix.
	pf.Send(t, "alice@sender.test", []string{"nobody@unverified.test"}, []byte("Subject: x\r\n\r\nx\r\n"))

	// A slow function: the processor falls behind the acceptance, so at
	// the kill many messages are accepted (250) and not yet processed.
	p.fn.mu.Lock()
	p.fn.delay = 20 * time.Millisecond
	p.fn.mu.Unlock()
	const n = 300
	for i := range n {
		pf.Send(t, "alice@sender.test", []string{fmt.Sprintf("user%d@example.com", i%7)}, []byte(fmt.Sprintf(
			"From: alice@sender.test\r\nTo: user@example.com\r\nSubject: crash %d\r\nMessage-ID: <crash-%d@sender.test>\r\n\r\nbody %d\r\n", i, i, i)))
	}
	waitFor(t, "Postfix to be delivering", func() bool { return len(pf.Sent()) > 20 })
	srv.Kill()
	sentAtKill, runAtKill := len(pf.Sent()), len(p.fn.callsByMessageID())-1
	srv.Restart()
	pf.Flush(t)
	waitFor(t, "Postfix's queue to empty", func() bool { return pf.QueueEmpty() && len(pf.Sent()) == n+1 })

	// Every message Postfix saw accepted has its actions run.
	waitFor(t, "every accepted message's function call", func() bool {
		calls := p.fn.callsByMessageID()
		for i := range n {
			if calls[fmt.Sprintf("<crash-%d@sender.test>", i)] == 0 {
				return false
			}
		}
		return true
	})
	calls := p.fn.callsByMessageID()
	extra := 0
	for i := range n {
		extra += calls[fmt.Sprintf("<crash-%d@sender.test>", i)] - 1
	}
	// Twice only for what was in flight at the kill: a message the
	// processor's 8 workers had claimed and not finished, or one Postfix
	// sent again because the kill cut its DATA (its log says so).
	resent := 0
	for _, d := range pf.Deliveries() {
		if d.Status == "deferred" && strings.Contains(d.Reply, "may be sent more than once") {
			resent++
		}
	}
	t.Logf("%d of %d sent before the kill (%d of them run); %d actions ran twice; %d messages Postfix resent", sentAtKill, n, runAtKill, extra, resent)
	if limit := resent + 8; extra > limit {
		t.Errorf("%d messages' actions ran twice, more than the %d in flight", extra, limit)
	}
	for _, d := range pf.Deliveries() {
		if d.To == "nobody@unverified.test" && (d.Status != "bounced" || !strings.Contains(d.Reply, "550 5.1.1")) {
			t.Errorf("the unknown recipient: %+v", d)
		}
	}
}
