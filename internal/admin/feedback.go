package admin

import (
	"context"
	"flag"
	"time"
)

// The bounce and complaint records delivery keeps (from receivers' replies,
// the feedback MX and the mailbox simulator), for an operator who has no
// event destination to read them from. Field names follow SES's event JSON.

type bounceOut struct {
	Timestamp      time.Time `json:"timestamp"`
	MessageID      string    `json:"messageId"`
	EmailAddress   string    `json:"emailAddress"`
	BounceType     string    `json:"bounceType"`
	BounceSubType  string    `json:"bounceSubType"`
	Status         string    `json:"status"`
	DiagnosticCode string    `json:"diagnosticCode,omitempty"`
	RemoteMTA      string    `json:"remoteMta,omitempty"`
	FeedbackID     string    `json:"feedbackId"`
}

type complaintOut struct {
	Timestamp             time.Time  `json:"timestamp"`
	MessageID             string     `json:"messageId"`
	EmailAddress          string     `json:"emailAddress"`
	ComplaintFeedbackType string     `json:"complaintFeedbackType,omitempty"`
	UserAgent             string     `json:"userAgent,omitempty"`
	ArrivalDate           *time.Time `json:"arrivalDate,omitempty"`
	FeedbackID            string     `json:"feedbackId"`
}

// feedbackList runs a list command over one account and region, with
// --message and --limit; list reads and shapes the records.
func (a *admin) feedbackList(ctx context.Context, name string, args []string,
	list func(acct, region, message string, limit int) (any, error)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	account, region := identityFlags(fs)
	message := fs.String("message", "", "only this MessageId")
	limit := fs.Int("limit", 100, "at most this many, oldest first")
	return a.run(fs, name, args, 0, "", func([]string) error {
		acct, r, err := a.scope(ctx, *account, *region)
		if err != nil {
			return err
		}
		out, err := list(acct, r, *message, *limit)
		if err != nil {
			return err
		}
		return a.print(out)
	})
}

func (a *admin) bounceList(ctx context.Context, name string, args []string) error {
	return a.feedbackList(ctx, name, args, func(acct, region, message string, limit int) (any, error) {
		bs, err := a.st.Bounces(ctx, acct, region, message, limit)
		out := make([]bounceOut, len(bs))
		for i, b := range bs {
			out[i] = bounceOut{Timestamp: b.Created, MessageID: b.MessageID, EmailAddress: b.Recipient,
				BounceType: b.Type, BounceSubType: b.SubType, Status: b.Status, DiagnosticCode: b.Diagnostic,
				RemoteMTA: b.RemoteMTA, FeedbackID: b.FeedbackID}
		}
		return out, err
	})
}

func (a *admin) complaintList(ctx context.Context, name string, args []string) error {
	return a.feedbackList(ctx, name, args, func(acct, region, message string, limit int) (any, error) {
		cs, err := a.st.Complaints(ctx, acct, region, message, limit)
		out := make([]complaintOut, len(cs))
		for i, c := range cs {
			out[i] = complaintOut{Timestamp: c.Created, MessageID: c.MessageID, EmailAddress: c.Recipient,
				ComplaintFeedbackType: c.FeedbackType, UserAgent: c.UserAgent, FeedbackID: c.FeedbackID}
			if !c.Arrival.IsZero() {
				out[i].ArrivalDate = &cs[i].Arrival
			}
		}
		return out, err
	})
}
