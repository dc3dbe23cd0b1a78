// Command apiload is an SES API load generator: it sends SESv2 SendEmail
// (Simple content) requests, signed with aws-sdk-go-v2's SigV4 signer as the
// SDKs sign them, from -conns concurrent clients over reused keep-alive
// connections, and reports requests/s and latency percentiles.
//
// It talks HTTP directly rather than through the SDK's client so the load
// generator, which shares the CPUs with the server it measures, spends as
// little as possible per request: the JSON body is built once per worker and
// only the subject's sequence number is patched in place; every request is
// still signed afresh (a new X-Amz-Date and signature), as clients do.
//
// The last line of output is machine-readable:
//
//	RESULT msgs=20000 secs=5.01 rate=3992.0/s p50=14.2ms p99=40.1ms errors=0 conns=64 ...
//
// Exit status is 0 only when every request was answered 200 with a MessageId.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type options struct {
	endpoint, region, key, secret string
	from, to                      string
	conns, msgs, maxErrors        int
	timeout, duration             time.Duration
	quiet                         bool
}

func main() {
	var o options
	flag.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8787", "API endpoint URL")
	flag.StringVar(&o.region, "region", "us-east-1", "region the requests are signed for")
	flag.StringVar(&o.key, "key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key id (default $AWS_ACCESS_KEY_ID)")
	flag.StringVar(&o.secret, "secret", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key (default $AWS_SECRET_ACCESS_KEY)")
	flag.StringVar(&o.from, "from", "sender@example.com", "FromEmailAddress")
	flag.StringVar(&o.to, "to", "success@simulator.amazonses.com", "the one ToAddresses entry")
	flag.IntVar(&o.conns, "conns", 16, "concurrent clients, each with its own keep-alive connection")
	flag.IntVar(&o.msgs, "msgs", 10000, "total SendEmail requests")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "limit for each request")
	flag.DurationVar(&o.duration, "duration", 2*time.Minute, "stop starting requests after this long (keeps every run bounded)")
	flag.IntVar(&o.maxErrors, "max-errors", 100, "stop after this many failed requests (0 = never)")
	flag.BoolVar(&o.quiet, "q", false, "do not print the first errors to stderr")
	flag.Parse()
	switch {
	case o.conns < 1 || o.msgs < 1:
		fatalf("-conns and -msgs must be at least 1")
	case o.key == "" || o.secret == "":
		fatalf("-key and -secret (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) are required")
	case o.duration <= 0 || o.timeout <= 0:
		fatalf("-duration and -timeout must be positive")
	}
	os.Exit(run(&o))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "apiload: "+format+"\n", a...)
	os.Exit(2)
}

// run drives the load and prints the RESULT line; it returns the exit status.
func run(o *options) int {
	tot, errs, secs := load(o)
	var ru syscall.Rusage
	cpu := 0.0
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu = float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	}
	// cpu= is the load generator's own CPU time: what it took from the server.
	fmt.Printf("RESULT msgs=%d secs=%.2f rate=%.1f/s p50=%s p99=%s max=%s errors=%d conns=%d cpu=%.2fs endpoint=%s\n",
		tot.ok, secs, float64(tot.ok)/secs, pct(tot.lat, 50), pct(tot.lat, 99), pct(tot.lat, 100),
		errs, o.conns, cpu, o.endpoint)
	if errs > 0 || tot.ok < o.msgs {
		return 1
	}
	return 0
}

// shared is the state every worker touches: the request counter and the error budget.
type shared struct {
	o        *options
	next     atomic.Int64
	failed   atomic.Int64
	stop     atomic.Bool
	deadline time.Time
}

func (s *shared) claim() (int64, bool) {
	if s.stop.Load() || time.Now().After(s.deadline) {
		return 0, false
	}
	n := s.next.Add(1) - 1
	return n, n < int64(s.o.msgs)
}

func (s *shared) fail(err error) {
	n := s.failed.Add(1)
	if !s.o.quiet && n <= 10 {
		fmt.Fprintln(os.Stderr, "apiload:", err)
	}
	if s.o.maxErrors > 0 && n >= int64(s.o.maxErrors) {
		s.stop.Store(true)
	}
}

// stats is one worker's tally, merged at the end so workers never contend.
type stats struct {
	lat []time.Duration
	ok  int
}

func load(o *options) (tot stats, errs int, secs float64) {
	s := &shared{o: o}
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: o.timeout}).DialContext,
		MaxIdleConns:        o.conns,
		MaxIdleConnsPerHost: o.conns,
		MaxConnsPerHost:     o.conns,
		IdleConnTimeout:     time.Minute,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: o.timeout}
	all := make([]*stats, o.conns)
	var wg sync.WaitGroup
	start := time.Now()
	s.deadline = start.Add(o.duration)
	for i := range all {
		st := &stats{lat: make([]time.Duration, 0, o.msgs/o.conns+1)}
		all[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(s, st, client)
		}()
	}
	wg.Wait()
	secs = time.Since(start).Seconds()
	for _, st := range all {
		tot.lat = append(tot.lat, st.lat...)
		tot.ok += st.ok
	}
	slices.Sort(tot.lat)
	return tot, int(s.failed.Load()), secs
}

// seqDigits is the width of the sequence number patched into each subject.
const seqDigits = 10

// body is a SendEmail request with a fixed-width sequence number in the
// subject, and the offset of that number.
func body(o *options) ([]byte, int) {
	const marker = "##########"
	b, err := json.Marshal(map[string]any{
		"FromEmailAddress": o.from,
		"Destination":      map[string]any{"ToAddresses": []string{o.to}},
		"Content": map[string]any{"Simple": map[string]any{
			"Subject": map[string]string{"Data": "apiload " + marker},
			"Body": map[string]any{"Text": map[string]string{
				"Data": "A SendEmail request from bench/apiload, signed with SigV4.\r\n"}},
		}},
	})
	if err != nil {
		panic(err) // a literal map always marshals
	}
	return b, bytes.Index(b, []byte(marker))
}

func worker(s *shared, st *stats, client *http.Client) {
	o := s.o
	payload, seqAt := body(o)
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: o.key, SecretAccessKey: o.secret}
	url := o.endpoint + "/v2/email/outbound-emails"
	for {
		n, ok := s.claim()
		if !ok {
			return
		}
		copy(payload[seqAt:], fmt.Sprintf("%0*d", seqDigits, n%1e10))
		t0 := time.Now()
		if err := send(client, signer, creds, o.region, url, payload); err != nil {
			s.fail(fmt.Errorf("request %d: %w", n, err))
			continue
		}
		st.lat = append(st.lat, time.Since(t0))
		st.ok++
	}
}

// send signs and posts one SendEmail request and checks the answer.
func send(client *http.Client, signer *v4.Signer, creds aws.Credentials, region, url string, payload []byte) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ses", region, time.Now()); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), answer)
	}
	var out struct{ MessageId string }
	if err := json.Unmarshal(answer, &out); err != nil || out.MessageId == "" {
		return errors.New("200 without a MessageId: " + strconv.Quote(string(answer)))
	}
	return nil
}

// pct is the p-th percentile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := (len(sorted)*p + 99) / 100
	i = max(min(i, len(sorted))-1, 0)
	return fmt.Sprintf("%.2fms", float64(sorted[i].Microseconds())/1000)
}
