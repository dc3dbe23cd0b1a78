// Command s3sink is the benchmark's S3-compatible server: gofakes3 with its
// in-memory backend (s3mem) on loopback, the bucket created at start, so a
// receipt rule's S3 action has somewhere real to store messages without
// MinIO. It keeps every object in memory (about the message size each:
// 20,000 2-KB messages are ~50 MB), which a bounded bench run can afford and
// which keeps the store itself from being the slow part; gofakes3's
// filesystem backend (s3afero) takes one lock around every request and
// writes without fsync, so it would neither be faster nor more durable.
//
// Beside the S3 API it answers GET /_sink/stats with one line,
//
//	objects=N bytes=B puts=P errors=E
//
// (objects stored, their bytes, PUT requests, and PUTs answered with an
// error), so a script can wait until every accepted message is in the
// bucket without listing it.
//
// It is a benchmark tool: no authentication (any SigV4 signature passes).
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// StatsPath is where the counters are served.
const StatsPath = "/_sink/stats"

// counter counts the object PUTs going through to gofakes3.
type counter struct {
	next                 http.Handler
	objects, bytes, puts atomic.Int64
	errors               atomic.Int64
}

// newHandler builds the S3 server with bucket already created.
func newHandler(bucket string) (*counter, error) {
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		return nil, fmt.Errorf("creating bucket %q: %w", bucket, err)
	}
	fake := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	return &counter{next: fake.Server()}, nil
}

// statusWriter remembers the status code of the response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatsPath {
		fmt.Fprintf(w, "objects=%d bytes=%d puts=%d errors=%d\n",
			c.objects.Load(), c.bytes.Load(), c.puts.Load(), c.errors.Load())
		return
	}
	// An object PUT is /bucket/key (path style); a bucket PUT has no key.
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	isObjectPut := r.Method == http.MethodPut && bucket != "" && key != "" &&
		r.Header.Get("X-Amz-Copy-Source") == ""
	if !isObjectPut {
		c.next.ServeHTTP(w, r)
		return
	}
	c.puts.Add(1)
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	n := r.ContentLength
	c.next.ServeHTTP(sw, r)
	if sw.code/100 != 2 {
		c.errors.Add(1)
		return
	}
	// Counted after the response: an object is counted once it is stored.
	c.objects.Add(1)
	if n > 0 {
		c.bytes.Add(n)
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:6900", "address (loopback: it has no authentication)")
	bucket := flag.String("bucket", "bench-inbound", "bucket created at start")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := newHandler(*bucket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "s3sink: %v\n", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "s3sink: %v\n", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: h}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	log.Info("s3sink listening", "addr", ln.Addr().String(), "bucket", *bucket)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errs:
		fmt.Fprintf(os.Stderr, "s3sink: %v\n", err)
		os.Exit(1)
	case <-sig:
	}
	srv.Close()
}
