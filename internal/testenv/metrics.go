package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// ParseMetrics reads Prometheus' text format: each sample
// ("name{labels}") with its value.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			return nil, fmt.Errorf("metrics: bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// ScrapeMetrics GETs a Prometheus endpoint (the whole URL) and returns its
// samples.
func ScrapeMetrics(t testing.TB, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	m, err := ParseMetrics(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ScrapeNodeMetrics is ScrapeMetrics of a server whose metrics carry the
// label node=<node> ([cluster] node_name): it fails the test when a sample
// lacks it, and returns the samples without it, so the rest of a test
// reads as for a single server (`sesame_queue_messages`).
func ScrapeNodeMetrics(t testing.TB, url, node string) map[string]float64 {
	t.Helper()
	label := fmt.Sprintf("node=%q", node)
	out := map[string]float64{}
	for k, v := range ScrapeMetrics(t, url) {
		name, labels, ok := strings.Cut(strings.TrimSuffix(k, "}"), "{")
		var rest []string
		found := false
		for l := range strings.SplitSeq(labels, ",") {
			if l == label {
				found = true
			} else if l != "" {
				rest = append(rest, l)
			}
		}
		if !ok || !found {
			t.Fatalf("%s: sample %s has no label %s", url, k, label)
		}
		if len(rest) > 0 {
			name += "{" + strings.Join(rest, ",") + "}"
		}
		out[name] = v
	}
	return out
}
