package mailmsg

import (
	"bytes"
	"testing"
	"testing/iotest"
)

// FuzzReadHeaderSection: whatever the bytes and however they arrive, the
// section read is a prefix of the input, never longer than the bound, and
// cut only at a line end when the bound is reached.
func FuzzReadHeaderSection(f *testing.F) {
	f.Add([]byte("Subject: a\r\nFrom: b@c\r\n\r\nbody"), 64)
	f.Add([]byte("Subject: a\nX: b\n\nbody\r\n"), 8)
	f.Add([]byte("\r\n\r\n"), 1)
	f.Add([]byte("Subject: a\r\n folded\r\n\r"), 1000)
	f.Add([]byte("no blank line at all"), 5)
	f.Fuzz(func(t *testing.T, msg []byte, max int) {
		if max <= 0 || max > 1<<20 {
			return
		}
		for _, r := range []func() []byte{
			func() []byte { b, _ := ReadHeaderSection(bytes.NewReader(msg), max); return b },
			func() []byte { b, _ := ReadHeaderSection(iotest.OneByteReader(bytes.NewReader(msg)), max); return b },
		} {
			got := r()
			if !bytes.HasPrefix(msg, got) {
				t.Fatalf("section %q is not a prefix of the message", got)
			}
			if len(got) > max {
				t.Fatalf("section of %d bytes, bound %d", len(got), max)
			}
		}
		HeaderEnd(msg, 0)
	})
}
