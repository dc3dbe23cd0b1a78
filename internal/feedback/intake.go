package feedback

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"sesame/internal/seserr"
)

// Handler is what the intake hands feedback to (delivery.MX): it knows
// which bounce addresses are sesame's and applies what a report says.
type Handler interface {
	// KnownBounceAddress says whether local@domain is the bounce address
	// of a message sesame sent.
	KnownBounceAddress(ctx context.Context, local, domain string) (bool, error)
	// Feedback applies a report about message id; it returns once its
	// consequences are durable, and an error when they are not.
	Feedback(ctx context.Context, id string, rep *Report, raw []byte) error
}

// Intake is the feedback side of the inbound MX (internal/inbound): it
// says which recipients are bounce addresses and applies the mail sent to
// them. Its errors are *seserr.Error, the SMTP reply to give.
type Intake struct {
	h         Handler
	log       *slog.Logger
	forwarded *forwardedSeen
}

// NewIntake builds the intake over h.
func NewIntake(h Handler, log *slog.Logger) *Intake {
	if log == nil {
		log = slog.Default()
	}
	return &Intake{h: h, log: log, forwarded: newForwardedSeen()}
}

// Recipient says whether rcpt is a bounce address: id is its message id
// (the local part, lower-cased) when it is. An error is a temporary
// failure.
func (in *Intake) Recipient(ctx context.Context, rcpt string) (id string, ok bool, err error) {
	at := strings.LastIndexByte(rcpt, '@')
	if at <= 0 {
		return "", false, nil
	}
	local, domain := rcpt[:at], rcpt[at+1:]
	ok, err = in.h.KnownBounceAddress(ctx, local, domain)
	if err != nil {
		in.log.Warn("feedback: looking up a bounce address", "rcpt", rcpt, "err", err)
		return "", false, seserr.FeedbackTemporary()
	}
	return strings.ToLower(local), ok, nil
}

// Apply applies one message sent to the bounce addresses ids; from and
// remote are for the log. It returns once what the message says is
// durable.
func (in *Intake) Apply(ctx context.Context, ids []string, raw []byte, from, remote string) error {
	rep, err := Parse(bytes.NewReader(raw))
	if err != nil {
		// Not even a message: nothing anyone could act on.
		return seserr.FeedbackUnparsable()
	}
	seen := make([]string, 0, len(ids))
	for _, id := range ids {
		// A report to the same address twice in one transaction counts once.
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		// Reports are idempotent where they are applied; mail that is
		// forwarded is not, so a second copy of it is dropped here.
		var key string
		if rep.Kind == KindOther {
			key = forwardKey(id, raw)
			if in.forwarded.seen(key, time.Now()) {
				in.log.Info("feedback: duplicate not forwarded again", "id", id, "from", from, "remote", remote)
				continue
			}
		}
		if err := in.h.Feedback(ctx, id, rep, raw); err != nil {
			in.log.Error("feedback: applying a report; the sender will retry", "id", id,
				"kind", rep.Kind, "err", err)
			return seserr.FeedbackTemporary()
		}
		if key != "" {
			in.forwarded.add(key, time.Now())
		}
	}
	in.log.Info("feedback received", "kind", rep.Kind, "ids", strings.Join(seen, ","),
		"from", from, "remote", remote)
	return nil
}
