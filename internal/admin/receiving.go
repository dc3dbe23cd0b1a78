package admin

import (
	"context"
	"flag"
	"time"
)

// What the inbound MX received for an account and what its rules did,
// for an operator: the active rule set as SES's DescribeActiveReceiptRuleSet
// shows it, and the last received messages with their verdicts and actions.

type receivedOut struct {
	ID         string    `json:"id"`
	Received   time.Time `json:"received"`
	MailFrom   string    `json:"mailFrom"`
	Recipients []string  `json:"recipients"`
	From       string    `json:"from,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	MessageID  string    `json:"messageId,omitempty"`
	SPF        string    `json:"spf"`
	DKIM       string    `json:"dkim"`
	DMARC      string    `json:"dmarc"`
	Spam       string    `json:"spam"`
	Virus      string    `json:"virus"`
	Actions    []string  `json:"actions"`
}

func (a *admin) receivingRules(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	return a.run(fs, name, args, 0, "", func([]string) error {
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		set, err := a.st.ActiveReceiptRuleSet(ctx, acct, r)
		if err != nil {
			return err
		}
		if set == nil {
			return a.print(struct{}{})
		}
		return a.print(set)
	})
}

func (a *admin) receivingMessages(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	limit := fs.Int("limit", 20, "at most this many, newest first")
	return a.run(fs, name, args, 0, "", func([]string) error {
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		ms, err := a.st.RecentReceivedMessages(ctx, acct, r, *limit)
		if err != nil {
			return err
		}
		out := make([]receivedOut, len(ms))
		for i, m := range ms {
			out[i] = receivedOut{ID: m.ID, Received: m.Received, MailFrom: m.MailFrom, Recipients: m.Recipients,
				From: m.From, Subject: m.Subject, MessageID: m.MessageID, SPF: m.SPF, DKIM: m.DKIM, DMARC: m.DMARC,
				Spam: m.Spam, Virus: m.Virus, Actions: m.Actions}
		}
		return a.print(out)
	})
}
