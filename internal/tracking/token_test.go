package tracking

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

const testID = "0100016e4ab7c399-5058a2a5-d4ad-407b-92b8-94472f229325-000000"

func TestLinksRoundTrip(t *testing.T) {
	t.Parallel()
	l := NewLinks([]byte("k1"))
	open := l.OpenURL("http://t.example.com", testID)
	if !strings.HasPrefix(open, "http://t.example.com/I0/"+testID+"/") {
		t.Fatalf("open URL %s", open)
	}
	u, _ := url.Parse(open)
	hit, err := l.Parse(u.EscapedPath())
	if err != nil || hit.Kind != Open || hit.MessageID != testID {
		t.Fatalf("Parse(open) = %+v, %v", hit, err)
	}

	target := "https://example.com/a/b?x=1&y=%2F#frag"
	for _, tags := range []string{"", "campaign:spring;k:v"} {
		click := l.ClickURL("https://t.example.com/", testID, target, tags)
		if !strings.HasPrefix(click, "https://t.example.com/L0/https%3A%2F%2Fexample.com%2Fa%2Fb%3Fx%3D1%26y%3D%252F%23frag/1/"+testID+"/") {
			t.Fatalf("click URL %s", click)
		}
		u, _ := url.Parse(click)
		hit, err := l.Parse(u.EscapedPath())
		if err != nil || hit.Kind != Click || hit.MessageID != testID || hit.Link != target {
			t.Fatalf("Parse(click) = %+v, %v", hit, err)
		}
		want, _ := ParseTags(tags)
		if !reflect.DeepEqual(hit.Tags, want) {
			t.Fatalf("tags %v, want %v", hit.Tags, want)
		}
	}
}

// Every edit of a URL, and every URL made with another key, is refused.
func TestLinksRefuseEditsAndForgeries(t *testing.T) {
	t.Parallel()
	l := NewLinks([]byte("k1"))
	other := NewLinks([]byte("k2"))
	pathOf := func(s string) string { u, _ := url.Parse(s); return u.EscapedPath() }
	open := pathOf(l.OpenURL("http://h", testID))
	click := pathOf(l.ClickURL("http://h", testID, "https://example.com/", "a:b"))
	otherID := strings.Replace(testID, "5058", "5059", 1)
	for name, p := range map[string]string{
		"forged open":        pathOf(other.OpenURL("http://h", testID)),
		"forged click":       pathOf(other.ClickURL("http://h", testID, "https://example.com/", "a:b")),
		"open other message": strings.Replace(open, testID, otherID, 1),
		"click other target": strings.Replace(click, "example.com", "evil.example", 1),
		"click other tags":   strings.Replace(click, "/a:b/", "/a:c/", 1),
		"click tags removed": strings.Replace(click, "/a:b/", "/", 1),
		"click other id":     strings.Replace(click, testID, otherID, 1),
		"open as click":      strings.Replace(open, "/I0/", "/L0/", 1),
		"truncated sig":      open[:len(open)-1],
		"no sig":             "/I0/" + testID + "/",
		"extra segment":      open + "/x",
		"bad version":        strings.Replace(click, "/1/", "/2/", 1),
		"not tracking":       "/v2/email/outbound-emails",
		"javascript target":  pathOf(l.ClickURL("http://h", testID, "javascript:alert(1)", "")),
	} {
		if hit, err := l.Parse(p); err == nil {
			t.Errorf("%s: Parse(%s) = %+v, want ErrInvalid", name, p, hit)
		}
	}
}

func TestParseTags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want map[string][]string
		ok   bool
	}{
		{"", nil, true},
		{"k:v;k2:v2;", map[string][]string{"k": {"v"}, "k2": {"v2"}}, true},
		{"k:v", map[string][]string{"k": {"v"}}, true},
		{" a_1:B-2 ; c:d ", map[string][]string{"a_1": {"B-2"}, "c": {"d"}}, true},
		{"k:v;k:w", map[string][]string{"k": {"v", "w"}}, true},
		{"k=v", nil, false},
		{"k:v w", nil, false},
		{"k:", nil, false},
		{":v", nil, false},
		{"k:v;;", nil, false},
		{"k.x:v", nil, false},
	} {
		got, ok := ParseTags(c.in)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseTags(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestTrackable(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"http://example.com":                 true,
		"HTTPS://Example.com/a?b=c&d=%20#x":  true,
		"https://user@example.com/p":         true,
		"https://example.com/a b":            false,
		"https://example.com/%zz":            false,
		"https://example.com/%2":             false,
		"https://exämple.com/":               false,
		"https://example.com/<x>":            false,
		"https://":                           false,
		"http:/example.com":                  false,
		"mailto:a@example.com":               false,
		"ftp://example.com/":                 false,
		"#top":                               false,
		"/relative":                          false,
		"https://example.com/{{unrendered}}": false,
	} {
		if got := Trackable(u); got != want {
			t.Errorf("Trackable(%q) = %v, want %v", u, got, want)
		}
	}
}
