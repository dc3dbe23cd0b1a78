package mailmsg

import (
	"bytes"
	"errors"
	"testing"
)

func TestNormalizeLines(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in      string
		normalized    string
		normalizeErr  error
		rejectErr     error // in reject mode; the result is in otherwise unchanged
		wantUnchanged bool
	}{
		{name: "CRLF", in: "a\r\nb\r\n", normalized: "a\r\nb\r\n", wantUnchanged: true},
		{name: "no final line end", in: "a\r\nb", normalized: "a\r\nb", wantUnchanged: true},
		{name: "empty", in: "", normalized: "", wantUnchanged: true},
		{name: "bare LF", in: "a\nb\r\nc\n", normalized: "a\r\nb\r\nc\r\n", rejectErr: ErrBareLF},
		{name: "LF dot LF", in: "x\n.\nMAIL FROM:<a@b>\n", normalized: "x\r\n.\r\nMAIL FROM:<a@b>\r\n", rejectErr: ErrBareLF},
		{name: "leading LF", in: "\nx", normalized: "\r\nx", rejectErr: ErrBareLF},
		{name: "CR dot CR", in: "x\r.\rMAIL FROM:<a@b>\r\n", normalizeErr: ErrBareCR, rejectErr: ErrBareCR},
		{name: "final bare CR", in: "x\r", normalizeErr: ErrBareCR, rejectErr: ErrBareCR},
		{name: "CR CR LF", in: "x\r\r\n", normalizeErr: ErrBareCR, rejectErr: ErrBareCR},
		{name: "NUL", in: "a\x00b\r\n", normalizeErr: ErrNUL, rejectErr: ErrNUL},
		{name: "NUL after bare LF", in: "a\nb\x00\r\n", normalizeErr: ErrNUL, rejectErr: ErrBareLF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			got, err := NormalizeLines(in, BareLFNormalize)
			if !errors.Is(err, tc.normalizeErr) || err == nil && tc.normalizeErr != nil {
				t.Fatalf("normalize: err = %v, want %v", err, tc.normalizeErr)
			}
			if err == nil && string(got) != tc.normalized {
				t.Errorf("normalize: %q, want %q", got, tc.normalized)
			}
			if tc.wantUnchanged && len(in) > 0 && &got[0] != &in[0] {
				t.Error("a clean message was copied")
			}
			wantReject := tc.rejectErr
			if wantReject == nil {
				wantReject = tc.normalizeErr
			}
			got, err = NormalizeLines(in, BareLFReject)
			if !errors.Is(err, wantReject) || err == nil && wantReject != nil {
				t.Fatalf("reject: err = %v, want %v", err, wantReject)
			}
			if err == nil && string(got) != tc.in {
				t.Errorf("reject: %q, want it unchanged", got)
			}
		})
	}
}

func TestParseBareLF(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]BareLF{"": BareLFNormalize, "normalize": BareLFNormalize, "reject": BareLFReject} {
		if got, err := ParseBareLF(in); err != nil || got != want {
			t.Errorf("ParseBareLF(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseBareLF("yes"); err == nil {
		t.Error("ParseBareLF(yes) accepted")
	}
}

// FuzzNormalizeLines: what NormalizeLines returns has only CRLF line ends
// and no NUL, and is the input with LF turned into CRLF.
func FuzzNormalizeLines(f *testing.F) {
	for _, s := range []string{"a\r\n", "a\nb", "\r.\r", "\n.\r\n", "\r\n.\n", "x\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := NormalizeLines(in, BareLFNormalize)
		if err != nil {
			return
		}
		if bytes.IndexByte(out, 0) >= 0 {
			t.Fatalf("NUL kept: %q", out)
		}
		if bytes.Count(out, []byte("\r")) != bytes.Count(out, []byte("\r\n")) ||
			bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
			t.Fatalf("bare CR or LF kept: %q", out)
		}
		if want := bytes.ReplaceAll(bytes.ReplaceAll(in, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")); !bytes.Equal(out, want) {
			t.Fatalf("%q became %q, want %q", in, out, want)
		}
	})
}
