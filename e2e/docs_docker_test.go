package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sesame/internal/config"
)

// TestDocsDockerRunPublishesPorts: every `docker run` that starts the
// server in the README and docs/ publishes each port the image's config
// listens on (SMTP, the APIs, the web console), so a reader who copies it
// reaches everything the page goes on to use.
func TestDocsDockerRunPublishesPorts(t *testing.T) {
	t.Parallel()
	c, err := config.Load("../dist/docker/sesame.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := listenerPorts(t, c)
	pages, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join("..", "README.md"))
	publish := regexp.MustCompile(`-p (?:[\d.]+:)?\d+:(\d+)`)
	checked := 0
	for _, page := range pages {
		body, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		// A command continued with "\" is one line.
		text := strings.ReplaceAll(string(body), "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			_, run, ok := strings.Cut(line, "docker run ")
			if !ok || !strings.Contains(run, " -p ") {
				continue // not one that starts the server (docker run --rm sesame version)
			}
			checked++
			var got []int
			for _, m := range publish.FindAllStringSubmatch(run, -1) {
				n, _ := strconv.Atoi(m[1])
				got = append(got, n)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: docker run publishes %v, the image's config listens on %v:\n%s", filepath.Base(page), got, want, strings.TrimSpace(line))
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d docker run commands checked: the pattern is broken", checked)
	}
}
