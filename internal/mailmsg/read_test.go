package mailmsg

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestHeaderSection(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"CRLF", "From: a@x.com\r\nSubject: s\r\n\r\nbody\r\n\r\nmore\r\n", "From: a@x.com\r\nSubject: s\r\n\r\n"},
		{"LF", "From: a@x.com\nSubject: s\n\nbody\n", "From: a@x.com\nSubject: s\n\n"},
		{"folded", "Subject: a\r\n\tb\r\n  c\r\nX: y\r\n\r\nbody", "Subject: a\r\n\tb\r\n  c\r\nX: y\r\n\r\n"},
		{"no blank line", "From: a@x.com\r\nSubject: s", "From: a@x.com\r\nSubject: s"},
		{"no blank line, last line ended", "From: a@x.com\r\n", "From: a@x.com\r\n"},
		{"empty header section", "\r\nFrom: in the body\r\n", "\r\n"},
		{"empty header section, LF", "\nbody", "\n"},
		{"empty", "", ""},
		{"a blank-looking line with a blank is not blank", "A: 1\r\n \r\nB: 2\r\n\r\nbody", "A: 1\r\n \r\nB: 2\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := HeaderSection([]byte(tt.in)); string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// failAfter reads r, then fails where r ends, as a broken stream does.
type failAfter struct{ r io.Reader }

var errBroken = errors.New("broken")

func (f failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBroken
	}
	return n, err
}

func TestReadHeaderSection(t *testing.T) {
	t.Parallel()
	long := "X-Long: " + strings.Repeat("v", 10<<10) + "\r\n"
	tests := []struct {
		name string
		r    io.Reader
		max  int
		want string
		err  error
	}{
		{"CRLF", strings.NewReader("A: 1\r\nB: 2\r\n\r\nbody\r\n"), 1 << 10, "A: 1\r\nB: 2\r\n\r\n", nil},
		{"LF", strings.NewReader("A: 1\nB: 2\n\nbody\n"), 1 << 10, "A: 1\nB: 2\n\n", nil},
		{"folded", strings.NewReader("Subject: a\r\n\tb\r\n  c\r\nX: y\r\n\r\nbody"), 1 << 10, "Subject: a\r\n\tb\r\n  c\r\nX: y\r\n\r\n", nil},
		{"no blank line: all of it", strings.NewReader("A: 1\r\nB: 2"), 1 << 10, "A: 1\r\nB: 2", nil},
		{"empty header section", strings.NewReader("\r\nbody"), 1 << 10, "\r\n", nil},
		{"empty", strings.NewReader(""), 1 << 10, "", nil},
		{"a byte at a time, the blank line split across reads", iotest.OneByteReader(strings.NewReader("A: 1\r\nB: 2\r\n\r\nbody")), 1 << 10, "A: 1\r\nB: 2\r\n\r\n", nil},
		{"a byte at a time, LF", iotest.OneByteReader(strings.NewReader("\nbody")), 1 << 10, "\n", nil},
		{"the blank line past the first chunk", strings.NewReader(long + long + "\r\nbody"), 64 << 10, long + long + "\r\n", nil},
		{"data and EOF together", iotest.DataErrReader(strings.NewReader("A: 1\r\n\r\nbody")), 1 << 10, "A: 1\r\n\r\n", nil},
		{"a truncated stream", failAfter{strings.NewReader("A: 1\r\nB: 2\r\n")}, 1 << 10, "", errBroken},
		{"a truncated stream after the blank line", failAfter{strings.NewReader("A: 1\r\n\r\nbo")}, 1 << 10, "A: 1\r\n\r\n", nil},
		{"max reached: cut back to the last whole line", strings.NewReader("A: 1\r\nB: 22222\r\n\r\nbody"), 10, "A: 1\r\n", nil},
		{"max reached at a line end", strings.NewReader("A: 1\r\nB: 2\r\n\r\nbody"), 12, "A: 1\r\nB: 2\r\n", nil},
		{"max reached over chunks", strings.NewReader(long + long + "\r\nbody"), len(long) + 100, long, nil},
		{"max reached within the first line", strings.NewReader(long), 100, "", nil},
		{"max reached just before the blank line's LF", strings.NewReader("A: 1\r\n\r\nbody"), 7, "A: 1\r\n", nil},
		{"max reached with the blank line", strings.NewReader("A: 1\r\n\r\nbody"), 8, "A: 1\r\n\r\n", nil},
		{"max of zero", strings.NewReader("A: 1\r\n\r\n"), 0, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadHeaderSection(tt.r, tt.max)
			if string(got) != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("got  %q, %v\nwant %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	type field struct{ key, value string }
	tests := []struct {
		name string
		in   string
		want []field
	}{
		{"CRLF", "From: a@x.com\r\nSubject: s\r\n\r\nX-Body: no\r\n", []field{{"From", "a@x.com"}, {"Subject", "s"}}},
		{"LF", "From: a@x.com\nSubject: s\n\nX-Body: no\n", []field{{"From", "a@x.com"}, {"Subject", "s"}}},
		{"folded", "Subject: a\r\n\tb\r\n  c\r\nX: y\r\n\r\n", []field{{"Subject", "a b c"}, {"X", "y"}}},
		{"no blank line", "A: 1\r\nB: 2", []field{{"A", "1"}, {"B", "2"}}},
		{"names canonical, blanks around the value go", "message-id :  <m@x>  \r\n\r\n", []field{{"Message-Id", "<m@x>"}}},
		{"a malformed line ends the section", "A: 1\r\nnot a field\r\nB: 2\r\n\r\n", []field{{"A", "1"}}},
		{"a continuation first is malformed", " A: 1\r\nB: 2\r\n\r\n", nil},
		{"empty header section", "\r\nA: 1\r\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := Fields([]byte(tt.in))
			var got []field
			for fs := h.Fields(); fs.Next(); {
				got = append(got, field{fs.Key(), fs.Value()})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}
