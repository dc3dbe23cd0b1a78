package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// QueueStats is the spool's state at one moment.
type QueueStats struct {
	Pending  int       // accepted and not done
	Deferred int       // of those, waiting for a retry
	Oldest   time.Time // acceptance of the oldest pending message; zero when none
}

// Sources are the levels read at scrape time. A nil source leaves its
// gauges out.
type Sources struct {
	// Queue reads the spool (*spool.Spool's Stats and Oldest).
	Queue func() QueueStats
	// OutboxBacklog counts outbox records the publisher has not passed
	// (store.OutboxBacklog with the publisher's cursor).
	OutboxBacklog func(ctx context.Context) (int64, error)
	// SNSBacklog counts SNS deliveries waiting for their subscriber
	// (store.SNSBacklog).
	SNSBacklog func(ctx context.Context) (int64, error)
	// Node is [cluster] node_name: the label node on every metric; ""
	// leaves it out.
	Node string
	// Now is the clock the queue's age is measured by (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// cacheFor is how long a scrape-time reading is reused: a scraper (or
// several) asking often costs the spool and the store at most one read a
// second.
const cacheFor = time.Second

// readTimeout bounds a store read at scrape time.
const readTimeout = 5 * time.Second

var (
	queueDesc = prometheus.NewDesc("sesame_queue_messages",
		"Messages in the spool: accepted and not yet delivered, bounced or expired.", nil, nil)
	deferredDesc = prometheus.NewDesc("sesame_queue_deferred_messages",
		"Messages in the spool waiting for a retry after a temporary failure.", nil, nil)
	oldestDesc = prometheus.NewDesc("sesame_queue_oldest_message_age_seconds",
		"Age of the oldest message in the spool (since its acceptance); 0 when the spool is empty.", nil, nil)
	outboxDesc = prometheus.NewDesc("sesame_events_outbox_backlog",
		"Event records in the outbox not yet published.", nil, nil)
	snsDesc = prometheus.NewDesc("sesame_sns_backlog",
		"SNS deliveries queued for subscribers (including ones being retried).", nil, nil)
)

// Collector reports Sources' levels, each reading cached for a second.
type Collector struct {
	src Sources

	mu     sync.Mutex
	queue  cached[QueueStats]
	outbox cached[int64]
	sns    cached[int64]
}

type cached[T any] struct {
	at  time.Time
	v   T
	err error
}

// NewCollector returns a collector of src's levels.
func NewCollector(src Sources) *Collector {
	if src.Now == nil {
		src.Now = time.Now
	}
	if src.Logger == nil {
		src.Logger = slog.Default()
	}
	return &Collector{src: src}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDesc, deferredDesc, oldestDesc, outboxDesc, snsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A store that cannot be read
// leaves its gauge out of the scrape (and is logged) rather than failing
// the whole scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.src.Now()
	if c.src.Queue != nil {
		q := refresh(&c.queue, now, func() (QueueStats, error) { return c.src.Queue(), nil })
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(q.v.Pending))
		ch <- prometheus.MustNewConstMetric(deferredDesc, prometheus.GaugeValue, float64(q.v.Deferred))
		age := 0.0
		if !q.v.Oldest.IsZero() {
			age = max(now.Sub(q.v.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
	}
	c.count(ch, now, outboxDesc, &c.outbox, c.src.OutboxBacklog, "outbox backlog")
	c.count(ch, now, snsDesc, &c.sns, c.src.SNSBacklog, "SNS backlog")
}

// count reports one store-backed gauge.
func (c *Collector) count(ch chan<- prometheus.Metric, now time.Time, d *prometheus.Desc, cache *cached[int64],
	read func(context.Context) (int64, error), what string) {
	if read == nil {
		return
	}
	v := refresh(cache, now, func() (int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		defer cancel()
		return read(ctx)
	})
	if v.err != nil {
		c.src.Logger.Warn("metrics: reading the "+what+"; left out of this scrape", "err", v.err)
		return
	}
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v.v))
}

// refresh returns cache's reading, reading again once it is cacheFor old.
func refresh[T any](cache *cached[T], now time.Time, read func() (T, error)) cached[T] {
	if cache.at.IsZero() || now.Sub(cache.at) >= cacheFor || now.Before(cache.at) {
		v, err := read()
		*cache = cached[T]{at: now, v: v, err: err}
	}
	return *cache
}

// Handler serves the Prometheus text format: the process-wide counters
// and src's levels, each with the constant label node=src.Node when it is
// set.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	var r prometheus.Registerer = reg
	if src.Node != "" {
		r = prometheus.WrapRegistererWith(prometheus.Labels{"node": src.Node}, reg)
	}
	r.MustRegister(processWide...)
	r.MustRegister(NewCollector(src))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
}
