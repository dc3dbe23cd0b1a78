// Package metrics is sesame's Prometheus instrumentation: it owns the
// registry and the sesame_* metrics (docs/metrics.md lists them), gives the
// stages tiny functions to count what happens at the point it happens, and
// serves /metrics.
//
// The counting functions sit on hot paths (end of DATA, spool append,
// every delivery outcome): each is a switch onto a counter resolved when
// the package loads and one atomic add — no label lookup, no allocation,
// no lock. Everything that is a level rather than a count (queue depth,
// outbox and SNS backlogs) is read at scrape time by a collector
// (collector.go) and cached for a second, so scrapes cannot hammer the
// spool's lock or the store.
//
// metrics decides nothing and imports nothing of sesame's but the outcome
// vocabulary; the counters are process-wide, as Prometheus counters are.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"sesame/internal/outcome"
)

// processWide are the counters and the Go runtime and process collectors.
// They are not registered here but by each Handler, into a registry of its
// own that labels them with the node's name (known only once the
// configuration is read, long after these load); a collector may sit in
// several registries.
var processWide []prometheus.Collector

func register[C prometheus.Collector](c C) C {
	processWide = append(processWide, c)
	return c
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return register(prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

func counter(name, help string) prometheus.Counter {
	return register(prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
}

// Label values. Every label has a small, fixed set of values, so a
// series cannot multiply by client input.
const (
	ProtocolSMTP   = "smtp"
	ProtocolAPI    = "api"
	ProtocolSystem = "system" // mail sesame sends itself (DSNs, verification)
	other          = "other"
)

var (
	accepted = counterVec("sesame_messages_accepted_total",
		"Messages accepted for sending (spooled durably), by the protocol they came in by.", "protocol")
	acceptedSMTP   = accepted.WithLabelValues(ProtocolSMTP)
	acceptedAPI    = accepted.WithLabelValues(ProtocolAPI)
	acceptedSystem = accepted.WithLabelValues(ProtocolSystem)

	rejected = counterVec("sesame_messages_rejected_total",
		"Messages refused by sending policy, by the SES API error code the client got.", "reason")

	delivered = counter("sesame_recipients_delivered_total",
		"Recipients a receiving MX (or capture) took the message for.")
	delayed = counter("sesame_recipients_delayed_total",
		"Recipients reported in DeliveryDelay events: still being tried after the delay threshold.")
	bounced = counterVec("sesame_recipients_bounced_total",
		"Recipients that bounced, by SES bounce type.", "bounce_type")
	bouncedPermanent    = bounced.WithLabelValues(outcome.BouncePermanent)
	bouncedTransient    = bounced.WithLabelValues(outcome.BounceTransient)
	bouncedUndetermined = bounced.WithLabelValues(outcome.BounceUndetermined)
	complained          = counter("sesame_recipients_complained_total",
		"Recipients that complained (feedback loops, the mailbox simulator).")

	latency = func() prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sesame_delivery_latency_seconds",
			Help: "Time from a message's acceptance to its delivery, per delivered recipient.",
			// 10 ms (capture, a local MX) up to a day of retries.
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 14 * 3600, 24 * 3600}})
		return register(h)
	}()

	recorded = counterVec("sesame_events_recorded_total",
		"SES event records appended to the outbox, by event type (SES's v2 MatchingEventTypes name).", "type")
	recordedByKind = map[outcome.Kind]prometheus.Counter{
		outcome.Sent:            recorded.WithLabelValues("SEND"),
		outcome.Delivered:       recorded.WithLabelValues("DELIVERY"),
		outcome.Bounced:         recorded.WithLabelValues("BOUNCE"),
		outcome.Delayed:         recorded.WithLabelValues("DELIVERY_DELAY"),
		outcome.Complained:      recorded.WithLabelValues("COMPLAINT"),
		outcome.RenderingFailed: recorded.WithLabelValues("RENDERING_FAILURE"),
		outcome.Rejected:        recorded.WithLabelValues("REJECT"),
	}

	published = counter("sesame_events_published_total",
		"Outbox records the publisher has passed: published to every topic their configuration set and identity name (or to none).")
	publishErrors = counter("sesame_events_publish_errors_total",
		"Publishing rounds that failed (store or SNS) and are retried.")

	snsDeliveries = counterVec("sesame_sns_deliveries_total",
		"HTTP(S) deliveries to SNS subscribers: ok (2xx), retry (will be tried again), dropped (refused or past the retry period).", "result")
	snsOK      = snsDeliveries.WithLabelValues("ok")
	snsRetry   = snsDeliveries.WithLabelValues("retry")
	snsDropped = snsDeliveries.WithLabelValues("dropped")
)

func init() {
	register(collectors.NewGoCollector())
	register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Accepted counts a message spooled for sending; via is the envelope's
// spool.ViaSMTP, ViaAPI or ViaSystem.
func Accepted(via string) {
	switch via {
	case ProtocolSMTP:
		acceptedSMTP.Inc()
	case ProtocolAPI:
		acceptedAPI.Inc()
	default:
		acceptedSystem.Inc()
	}
}

// Rejected counts a message refused by policy; reason is the seserr API
// code (seserr's catalogue is finite, so the label set is bounded).
// Refusals are not the hot path: the label lookup is fine here.
func Rejected(reason string) {
	if reason == "" || len(reason) > 64 {
		reason = other
	}
	rejected.WithLabelValues(reason).Inc()
}

// Recorded counts the results of one message whose event records are now
// in the outbox; received is when the message was accepted (the start of
// the delivery latency).
func Recorded(received time.Time, results []outcome.Result) {
	for i := range results {
		res := &results[i]
		if c := recordedByKind[res.Kind]; c != nil {
			c.Inc()
		}
		n := float64(len(res.Recipients))
		switch res.Kind {
		case outcome.Delivered:
			delivered.Add(n)
			at := res.Time
			if at.IsZero() {
				at = time.Now()
			}
			secs := at.Sub(received).Seconds()
			for range res.Recipients {
				latency.Observe(secs)
			}
		case outcome.Delayed:
			delayed.Add(n)
		case outcome.Complained:
			complained.Add(n)
		case outcome.Bounced:
			switch res.BounceType {
			case outcome.BouncePermanent:
				bouncedPermanent.Add(n)
			case outcome.BounceTransient:
				bouncedTransient.Add(n)
			default:
				bouncedUndetermined.Add(n)
			}
		}
	}
}

// EventsPublished counts outbox records the publisher is done with.
func EventsPublished(n int) { published.Add(float64(n)) }

// EventPublishFailed counts a publishing round that failed.
func EventPublishFailed() { publishErrors.Inc() }

// SNSDelivery counts one delivery attempt to an SNS subscriber: ok, or
// dropped for good, or (neither) to be retried.
func SNSDelivery(ok, dropped bool) {
	switch {
	case ok:
		snsOK.Inc()
	case dropped:
		snsDropped.Inc()
	default:
		snsRetry.Inc()
	}
}
