package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every ```toml block in the README and docs/ is a config a reader may
// paste: it must parse with no unknown key and validate over the
// defaults, so a renamed or misspelt key in a guide fails here.
func TestDocsTOMLBlocksLoad(t *testing.T) {
	t.Parallel()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "../../README.md")
	checked := 0
	for _, page := range pages {
		body, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range tomlBlocks(string(body)) {
			checked++
			c := Default()
			err := Parse(&c, b.text)
			if err == nil {
				err = c.Validate()
			}
			if err != nil {
				t.Errorf("%s:%d: the toml block does not load: %v\n%s", filepath.Base(page), b.line, err, b.text)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d toml blocks found: the pattern is broken", checked)
	}
}

type tomlBlock struct {
	line int // of the opening fence, 1-based
	text string
}

// tomlBlocks returns md's fenced blocks marked toml.
func tomlBlocks(md string) []tomlBlock {
	var out []tomlBlock
	var cur *tomlBlock
	for i, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```toml":
			cur = &tomlBlock{line: i + 1}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, "  ") + "\n"
		}
	}
	return out
}
