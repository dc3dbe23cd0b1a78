package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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

// Every key the README and docs/ name in passing — `[smtp]
// auth_failures_per_ip`, `delivery.max_attempt_age`, `[tls]` `cert_file` —
// is a key of Config, so a page cannot send a reader to a setting that does
// not exist.
func TestDocsNameRealKeys(t *testing.T) {
	t.Parallel()
	keys := map[string]bool{}
	tomlKeys(reflect.TypeOf(Config{}), "", keys)
	tables := map[string]bool{}
	for k := range keys {
		if i := strings.LastIndexByte(k, '.'); i > 0 {
			tables[k[:i]] = true
		}
	}
	// `table.key`, `[table] key` and `[table]` `key`, where table is one
	// of Config's.
	dotted := regexp.MustCompile("`([a-z_]+(?:\\.[a-z_]+)*)\\.([a-z_0-9]+)`")
	bracketed := []*regexp.Regexp{
		regexp.MustCompile("`\\[([a-z_.]+)\\] ([a-z_0-9]+)"),                                   // `[t] k`
		regexp.MustCompile("`\\[([a-z_.]+)\\]`\\s+`([a-z_0-9]+)`(?:\\s*/\\s*`([a-z_0-9]+)`)?"), // `[t]` `k`/`k2`
	}
	pages, err := filepath.Glob("../../docs/*.md")
	pages = append(pages, "../../README.md")
	if err != nil || len(pages) < 3 {
		t.Fatalf("guides: %v %v", pages, err)
	}
	checked := 0
	for _, page := range pages {
		body, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := string(body)
		check := func(table, key, what string) {
			if !tables[table] || fileExtensions[key] {
				return // not a config key: a file name (console.js), a domain, …
			}
			checked++
			if !keys[table+"."+key] {
				t.Errorf("%s: %s names %s.%s, which is no config key", filepath.Base(page), what, table, key)
			}
		}
		for _, m := range dotted.FindAllStringSubmatch(text, -1) {
			check(m[1], m[2], m[0])
		}
		for _, re := range bracketed {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				for _, key := range m[2:] {
					if key != "" {
						check(m[1], key, m[0])
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d keys checked: the patterns are broken", checked)
	}
}

// fileExtensions end file names that look like table.key (console.js).
var fileExtensions = map[string]bool{"js": true, "css": true, "md": true, "toml": true, "pem": true,
	"db": true, "json": true, "go": true, "txt": true, "sql": true, "html": true, "log": true}

// tomlKeys adds the dotted toml keys of struct type typ under prefix.
func tomlKeys(typ reflect.Type, prefix string, into map[string]bool) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		into[prefix+name] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.NumField() > 0 && ft.Field(0).Tag.Get("toml") != "" {
			tomlKeys(ft, prefix+name+".", into)
		}
	}
}
