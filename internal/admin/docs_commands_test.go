package admin

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsNameRealCommands: every `sesame admin …` the README and docs/
// show a reader names a command of the table (or a group, for its help),
// and every --flag written after it is one that command's synopsis lists,
// so a guide cannot send a reader to a command or flag that does not exist.
func TestDocsNameRealCommands(t *testing.T) {
	t.Parallel()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "../../README.md")
	// An invocation ends where shell or Markdown syntax does.
	invocation := regexp.MustCompile("sesame admin([^`|;#)>\n]*)")
	placeholder := map[string]bool{"COMMAND": true, "GROUP": true, "…": true, "...": true, "<command>": true}
	checked := 0
	for _, page := range pages {
		body, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range invocation.FindAllStringSubmatch(string(body), -1) {
			words := commandWords(strings.Fields(m[1]))
			if len(words) == 0 || placeholder[words[0]] || strings.HasPrefix(words[0], "-") {
				continue
			}
			if words[0] == "help" { // "sesame admin help key create" is --help
				words = words[1:]
			}
			checked++
			c, rest, ok := docCommand(words)
			if !ok {
				t.Errorf("%s: %q names no admin command", filepath.Base(page), strings.TrimSpace(m[0]))
				continue
			}
			for _, w := range rest {
				flag, _, _ := strings.Cut(w, "=")
				if !strings.HasPrefix(flag, "--") || flag == "--help" || flag == "--data" {
					continue
				}
				if !regexp.MustCompile(`(^|[\[ |])` + regexp.QuoteMeta(flag) + `([\] =|]|$)`).MatchString(c.synopsis) {
					t.Errorf("%s: %q: %s takes no %s (synopsis: %s)", filepath.Base(page), strings.TrimSpace(m[0]), c.name, flag, c.synopsis)
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d invocations checked: the pattern is broken", checked)
	}
}

// commandWords drops the -c FILE and --data DIR that may come first.
func commandWords(words []string) []string {
	for len(words) > 0 {
		switch {
		case words[0] == "-c" || words[0] == "--data":
			words = words[min(2, len(words)):]
		case strings.HasPrefix(words[0], "--data=") || strings.HasPrefix(words[0], "-c="):
			words = words[1:]
		default:
			return words
		}
	}
	return nil
}

// docCommand finds the command words name: "group sub …", a one-word
// command, or a group alone (its help). rest is what follows the name.
func docCommand(words []string) (command, []string, bool) {
	if len(words) >= 2 {
		if c, ok := lookup(words[0] + " " + words[1]); ok {
			return c, words[2:], true
		}
	}
	if c, ok := lookup(words[0]); ok {
		return c, words[1:], true
	}
	for _, c := range commands() {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == words[0] && (len(words) == 1 || words[1] == "--help") {
			return command{name: g}, nil, true
		}
	}
	return command{}, nil, false
}
