package tracking

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// testRewriter tracks with readable stand-ins for the URLs.
func testRewriter(open, click bool) *Rewriter {
	rw := &Rewriter{}
	if open {
		rw.OpenURL = "http://t/open"
	}
	if click {
		rw.ClickURL = func(target, tags string) string { return "http://t/click?" + target + "|" + tags }
	}
	return rw
}

var pixel = Pixel("http://t/open")

func TestRewriteHTML(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		open, click bool
		in, want    string
	}{
		{"pixel before </body>", true, false,
			`<html><body><p>Hi</p></body></html>`,
			`<html><body><p>Hi</p>` + pixel + `</body></html>`},
		{"pixel before the last </BODY>, any case", true, false,
			"<BODY>x</BODY >\n</HTML>",
			"<BODY>x" + pixel + "</BODY >\n</HTML>"},
		{"pixel before </html> without </body>", true, false,
			`<html><p>x</p></html>`,
			`<html><p>x</p>` + pixel + `</html>`},
		{"pixel appended to a fragment", true, false,
			`<p>x</p>`,
			`<p>x</p>` + pixel},
		{"pixel at the first placeholder, others removed", true, false,
			`<body>{{ses:openTracker}}<p>a {{ses:openTracker}}b</p></body>`,
			`<body>` + pixel + `<p>a b</p></body>`},
		{"placeholders removed without open tracking", false, true,
			`<p>{{ses:openTracker}}x</p>`,
			`<p>x</p>`},
		{"link tracked, other attributes kept", false, true,
			`<p><a class=btn href="https://example.com/a?x=1&amp;y=2" target=_blank>Go</a></p>`,
			`<p><a class="btn" href="http://t/click?https://example.com/a?x=1&amp;y=2|" target="_blank">Go</a></p>`},
		{"uppercase tag and scheme", false, true,
			`<A HREF='HTTP://Example.com/'>x</A>`,
			`<a href="http://t/click?HTTP://Example.com/|">x</A>`},
		{"surrounding spaces trimmed", false, true,
			`<a href=" https://example.com/ ">x</a>`,
			`<a href="http://t/click?https://example.com/|">x</a>`},
		{"ses:no-track stripped, link untouched", false, true,
			`<a ses:no-track href="https://example.com/">x</a>`,
			`<a href="https://example.com/">x</a>`},
		{"ses:tags become the link's tags and go", false, true,
			`<a href="https://example.com/" ses:tags="b:2;a:1;">x</a>`,
			`<a href="http://t/click?https://example.com/|a:1;b:2">x</a>`},
		{"invalid ses:tags: tracked without tags", false, true,
			`<a href="https://example.com/" ses:tags="a=1">x</a>`,
			`<a href="http://t/click?https://example.com/|">x</a>`},
		{"ses: attributes stripped without click tracking", true, false,
			`<a href="https://example.com/" ses:tags="a:1" ses:no-track>x</a>`,
			`<a href="https://example.com/">x</a>` + pixel},
		{"invalid URLs left alone", false, true,
			`<a href="https://example.com/a b">1</a><a href="mailto:x@y">2</a><a href="#top">3</a><a href="/rel">4</a><a name="n">5</a>`,
			`<a href="https://example.com/a b">1</a><a href="mailto:x@y">2</a><a href="#top">3</a><a href="/rel">4</a><a name="n">5</a>`},
		{"not an anchor", false, true,
			`<abbr href="https://example.com/">x</abbr><area href="https://example.com/">`,
			`<abbr href="https://example.com/">x</abbr><area href="https://example.com/">`},
		{"links in comments and scripts untouched", false, true,
			`<!-- <a href="https://example.com/"> --><script>var s='<a href="https://example.com/">';</script>`,
			`<!-- <a href="https://example.com/"> --><script>var s='<a href="https://example.com/">';</script>`},
		{"self-closing anchor", false, true,
			`<a href="https://example.com/"/>`,
			`<a href="http://t/click?https://example.com/|"/>`},
		{"nothing to do", false, true,
			"<p>plain\r\n<b>text</b></p>",
			"<p>plain\r\n<b>text</b></p>"},
	} {
		got := string(testRewriter(c.open, c.click).HTML([]byte(c.in)))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestRewriteHTMLLinkCap(t *testing.T) {
	t.Parallel()
	var in strings.Builder
	for i := range MaxLinks + 5 {
		fmt.Fprintf(&in, `<a href="https://example.com/%d" ses:tags="n:%d">%d</a>`, i, i, i)
	}
	out := string(testRewriter(false, true).HTML([]byte(in.String())))
	if n := strings.Count(out, "http://t/click?"); n != MaxLinks {
		t.Fatalf("%d links tracked, want %d", n, MaxLinks)
	}
	if !strings.Contains(out, `<a href="https://example.com/250">250</a>`) || strings.Contains(out, "ses:tags") {
		t.Fatalf("links past the cap must stay, their ses:tags go: %s", out[len(out)-300:])
	}
}

func FuzzRewriteHTML(f *testing.F) {
	for _, s := range []string{
		`<html><body><a href="https://example.com/" ses:tags="a:b">x</a>{{ses:openTracker}}</body></html>`,
		`<a href=https://x.y/ ses:no-track>`, `<a`, `<a href="`, "<!--", "<script><a href='http://a'>", "<p>x</p>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Without an anchor or placeholder, links-only tracking changes nothing.
		out := testRewriter(false, true).HTML(in)
		lower := bytes.ToLower(in)
		if !bytes.Contains(lower, []byte("<a")) && !bytes.Contains(in, []byte(Placeholder)) && !bytes.Equal(out, in) {
			t.Fatalf("changed without anchors:\n%q\n%q", in, out)
		}
		// The pixel appears exactly once with open tracking.
		out = testRewriter(true, true).HTML(in)
		if n := bytes.Count(out, []byte(pixel)); n != 1+bytes.Count(in, []byte(pixel)) {
			t.Fatalf("%d pixels in %q", n, out)
		}
		// In text (no markup at all), every placeholder goes, unless removing
		// one makes another.
		if !bytes.ContainsAny(in, "<&") && bytes.Contains(out, []byte(Placeholder)) &&
			!bytes.Contains(bytes.ReplaceAll(in, []byte(Placeholder), nil), []byte(Placeholder)) {
			t.Fatalf("placeholder left in %q", out)
		}
	})
}
