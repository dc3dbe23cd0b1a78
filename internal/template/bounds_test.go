package template

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// allocated is what fn allocates on the heap, in bytes.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Issue 9: a 1 KB request (template and data) made a render allocate
// 127 MB: nested #each loops multiply a few bytes of text, and the output
// was checked only between nodes against 40 MiB, with bytes.Buffer
// doubling past it. Now a render allocates less than three times
// MaxOutputBytes, whatever the template, and fails with ErrTooComplex.
func TestRenderSmallRequestBoundedMemory(t *testing.T) {
	text := "{{#each l}}{{#each ../l}}{{#each ../../l}}{{#each ../../../l}}{{#each ../../../../l}}" +
		strings.Repeat("x", 700) + "{{/each}}{{/each}}{{/each}}{{/each}}{{/each}}"
	data := "{\"l\":[" + strings.Repeat("0,", 19) + "0]}"
	if n := len(text) + len(data); n > 1100 {
		t.Fatalf("the request is %d bytes, not about 1 KB", n)
	}
	tm, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	value, err := DecodeData(data)
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	start := time.Now()
	n := allocated(func() { _, rerr = tm.Render(value) })
	if !errors.Is(rerr, ErrTooComplex) {
		t.Fatalf("err = %v, want ErrTooComplex", rerr)
	}
	if limit := uint64(3 * MaxOutputBytes); n > limit {
		t.Fatalf("the render allocated %d bytes, want at most %d", n, limit)
	}
	t.Logf("allocated %.1f MB in %v", float64(n)/1e6, time.Since(start))
}

// The bound is exact: a part of MaxOutputBytes renders, one byte more does not.
func TestRenderOutputBoundExact(t *testing.T) {
	const chunk = 1 << 10
	tm, err := Parse("{{#each l}}" + strings.Repeat("y", chunk) + "{{/each}}{{tail}}")
	if err != nil {
		t.Fatal(err)
	}
	list := make([]any, MaxOutputBytes/chunk)
	out, err := tm.Render(map[string]any{"l": list, "tail": ""})
	if err != nil || len(out) != MaxOutputBytes {
		t.Fatalf("at the bound: %d bytes, %v", len(out), err)
	}
	if _, err := tm.Render(map[string]any{"l": list, "tail": "z"}); !errors.Is(err, ErrTooComplex) {
		t.Fatalf("one byte past: %v", err)
	}
}

// Loops whose bodies render nothing still cost work: each iteration is a
// step (before, an empty innermost body made 1000³ iterations free).
func TestRenderEmptyLoopsBounded(t *testing.T) {
	tm, err := Parse("{{#each l}}{{#each @root.l}}{{#each @root.l}}{{/each}}{{/each}}{{/each}}")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := DecodeData("{\"l\":[" + strings.Repeat("1,", 1999) + "1]}")
	done := make(chan error, 1)
	go func() { _, err := tm.Render(data); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrTooComplex) {
			t.Fatalf("err = %v, want ErrTooComplex", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("2000³ empty iterations still running after a minute")
	}
}
