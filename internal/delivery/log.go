package delivery

import (
	"context"
	"log/slog"
	"math"
	"net"
	"strings"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/spool"
)

// The delivery log answers "what happened to my mail" as Postfix's
// "status=sent (250 …)" lines do: one info line per recipient and attempt,
// msg "delivery", written in one place per mode once the attempt's outcome
// for every recipient is known (so a recipient deferred and then expired in
// the same attempt gets one line, bounced). Keys:
//
//	status      sent, deferred, bounced, or captured (capture mode)
//	message_id  SES's MessageId
//	to          the recipient
//	relay       host[ip]:port of the receiver that answered; the host alone
//	            when no session was open with it; none when nothing was reached
//	delay       seconds since sesame accepted the message (ms precision)
//	attempts    this attempt's number (1 = the first)
//	dsn         the RFC 3463 status
//	reply       the receiver's reply, or sesame's own reason in its shape
const (
	statusSent     = "sent"
	statusDeferred = "deferred"
	statusBounced  = "bounced"
	statusCaptured = "captured"
)

// attemptLog writes one attempt's lines for one message.
type attemptLog struct {
	log     *slog.Logger
	e       *spool.Entry
	now     time.Time
	attempt int
	port    string // receivers' port (MX mode), for relay
	// delivered is the status of a Delivered result that did not come
	// from the mailbox simulator: sent, or captured in capture mode.
	delivered string
}

// enabled says whether lines are written at all: the hot path pays a level
// check and nothing else when info is off.
func (l *attemptLog) enabled(ctx context.Context) bool {
	return l.log.Enabled(ctx, slog.LevelInfo)
}

func (l *attemptLog) line(ctx context.Context, status, to, relay, dsn, reply string) {
	l.log.LogAttrs(ctx, slog.LevelInfo, "delivery",
		slog.String("status", status),
		slog.String("message_id", l.e.ID),
		slog.String("to", to),
		slog.String("relay", relay),
		slog.Float64("delay", math.Round(l.now.Sub(l.e.Received).Seconds()*1000)/1000),
		slog.Int("attempts", l.attempt),
		slog.String("dsn", dsn),
		slog.String("reply", reply))
}

// results writes the final outcomes among results: Delivered and Bounced
// per recipient, and a message that was never mail (a template that did
// not render, a virus) as bounced for each of its recipients. Sent,
// Delayed, Complained and AutoReplied are no delivery outcome of their own.
func (l *attemptLog) results(ctx context.Context, results []outcome.Result) {
	for i := range results {
		r := &results[i]
		switch r.Kind {
		case outcome.Delivered:
			status, relay := l.delivered, l.relay(r.MTA, r.RemoteIP)
			if r.MTA == outcome.SimulatorDomain {
				status = statusSent
			} else if status == statusCaptured {
				relay = "none"
			}
			dsn := replyStatus(r.Reply)
			for _, to := range r.Recipients {
				l.line(ctx, status, to, relay, dsn, r.Reply)
			}
		case outcome.Bounced:
			relay := l.relay(r.Failure.MTA, r.Failure.RemoteIP)
			for _, to := range r.Recipients {
				l.line(ctx, statusBounced, to, relay, r.Failure.Status(), r.Failure.Error())
			}
		case outcome.RenderingFailed:
			for _, to := range l.e.Recipients {
				l.line(ctx, statusBounced, to, "none", "5.6.0", "(not sent: the template did not render: "+r.Error+")")
			}
		case outcome.Rejected:
			for _, to := range l.e.Recipients {
				l.line(ctx, statusBounced, to, "none", "5.7.1", "(not sent: "+r.Error+")")
			}
		}
	}
}

// deferred writes the line of a recipient left for another attempt.
func (l *attemptLog) deferred(ctx context.Context, to string, f *outcome.Failure) {
	l.line(ctx, statusDeferred, to, l.relay(f.MTA, f.RemoteIP), f.Status(), f.Error())
}

// relay is Postfix's relay= value.
func (l *attemptLog) relay(host, ip string) string {
	switch {
	case host == "":
		return "none"
	case ip == "" || l.port == "":
		return host
	}
	return host + "[" + ip + "]:" + l.port
}

// hostIP is the address part of ip:port.
func hostIP(addr string) string {
	ip, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return ip
}

// replyStatus is the RFC 3463 status at the start of a reply's text
// ("250 2.0.0 Ok: queued as X" → "2.0.0"), else the one its code implies.
func replyStatus(reply string) string {
	code, rest, _ := strings.Cut(reply, " ")
	if len(code) != 3 || code[0] < '2' || code[0] > '5' {
		return ""
	}
	enh, _, _ := strings.Cut(rest, " ")
	if len(enh) >= 5 && enh[0] == code[0] && enh[1] == '.' && strings.Count(enh, ".") == 2 &&
		strings.Trim(enh, "0123456789.") == "" {
		return enh
	}
	return code[:1] + ".0.0"
}
