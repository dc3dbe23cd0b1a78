package smtpd

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"sesame/internal/mailmsg"
)

// readDataFrom runs readData over input and reports the stored bytes, the
// refusal's reply (or ""), the I/O error and how many input bytes it used.
func readDataFrom(input string, limit int64, bareLF mailmsg.BareLF) (stored, refusal string, err error, used int) {
	src := strings.NewReader(input)
	s := &session{srv: &Server{cfg: Config{MaxMessageBytes: limit, BareLF: bareLF}}}
	s.r = bufio.NewReaderSize(src, readBufferSize)
	var out bytes.Buffer
	e, err := s.readData(&out)
	if e != nil {
		refusal = e.SMTPReply()
	}
	return out.String(), refusal, err, len(input) - src.Len() - s.r.Buffered()
}

func TestReadData(t *testing.T) {
	t.Parallel()
	const (
		bare = "554 Transaction failed: Message contains bare CR or LF characters; lines must end with CRLF."
		long = "554 Transaction failed: Message contains a line longer than 1000 characters."
		nul  = "554 Transaction failed: Message contains NUL characters."
		big  = "552 Message is too long."
	)
	cases := []struct {
		name, input     string
		stored, refusal string
		unexpectedEOF   bool
		rest            string // input left for the next command
		limit           int64
		strict          bool // [smtp] bare_lf = "reject"
	}{
		{name: "empty", input: ".\r\nQUIT\r\n", rest: "QUIT\r\n"},
		{name: "plain", input: "a\r\nb\r\n.\r\n", stored: "a\r\nb\r\n"},
		{name: "dot unstuffing", input: "..a\r\n..\r\n.\r\n", stored: ".a\r\n.\r\n"},
		{name: "dot alone in text", input: "...\r\n.\r\n", stored: "..\r\n"},
		// Postfix's normalize: a bare LF ends a line and becomes CRLF; only
		// <CRLF>.<CRLF> ends the data, and a "." line next to a bare LF is
		// dropped.
		{name: "bare LF", input: "a\nb\r\n.\r\n", stored: "a\r\nb\r\n"},
		{name: "LF dot LF does not end", input: "a\n.\nRSET\r\n.\r\nNEXT", stored: "a\r\nRSET\r\n", rest: "NEXT"},
		{name: "LF dot CRLF does not end", input: "a\r\nb\n.\r\nRSET\r\n.\r\n", stored: "a\r\nb\r\nRSET\r\n"},
		{name: "CRLF dot LF does not end", input: "a\r\n.\nRSET\r\n.\r\n", stored: "a\r\nRSET\r\n"},
		{name: "LF dot stuffed", input: "a\n..b\n..\r\n.\r\n", stored: "a\r\n.b\r\n.\r\n"},
		{name: "bare LF, strict", strict: true, input: "a\nb\r\n.\r\n", refusal: bare},
		{name: "LF dot LF does not end, strict", strict: true, input: "a\n.\nRSET\r\n.\r\nNEXT", refusal: bare, rest: "NEXT"},
		{name: "LF dot CRLF does not end, strict", strict: true, input: "a\r\nb\n.\r\nRSET\r\n.\r\n", refusal: bare},
		{name: "CR dot CR does not end", input: "a\r.\r\r\n.\r\n", refusal: bare},
		{name: "bare CR", input: "a\rb\r\n.\r\n", refusal: bare},
		{name: "NUL", input: "a\x00\r\n.\r\n", refusal: nul},
		{name: "1000 octets", input: strings.Repeat("x", 998) + "\r\n.\r\n", stored: strings.Repeat("x", 998) + "\r\n"},
		{name: "1001 octets", input: strings.Repeat("x", 999) + "\r\n.\r\n", refusal: long},
		{name: "stuffed 1001 on the wire", input: "." + strings.Repeat("x", 998) + "\r\n.\r\n", stored: strings.Repeat("x", 998) + "\r\n"},
		{name: "longer than the read buffer", input: strings.Repeat("x", 40000) + "\r\n.\r\nNEXT", refusal: long, rest: "NEXT"},
		// The CR of a long line's CRLF is the last octet of a buffer-full
		// read: the line still ends properly.
		{name: "CRLF split at the buffer's end", input: strings.Repeat("x", readBufferSize-1) + "\r\n.\r\nNEXT", refusal: long, rest: "NEXT"},
		{name: "long line with bare LF", input: strings.Repeat("x", 20000) + "\n.\r\n.\r\nNEXT", refusal: long, rest: "NEXT"},
		{name: "long line with bare LF, strict", strict: true, input: strings.Repeat("x", 20000) + "\n.\r\n.\r\n", refusal: long},
		{name: "over the limit", input: "0123456789\r\n0123456789\r\n.\r\n", limit: 20, refusal: big},
		{name: "first refusal wins", input: "a\x00\r\nb\rc\r\n.\r\n", refusal: nul},
		{name: "EOF before the end", input: "a\r\nb\r\n", unexpectedEOF: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			limit := tc.limit
			if limit == 0 {
				limit = 1 << 20
			}
			mode := mailmsg.BareLFNormalize
			if tc.strict {
				mode = mailmsg.BareLFReject
			}
			stored, refusal, err, used := readDataFrom(tc.input, limit, mode)
			if tc.unexpectedEOF {
				if err != io.ErrUnexpectedEOF {
					t.Fatalf("err = %v, want unexpected EOF", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if refusal != tc.refusal {
				t.Errorf("refusal = %q, want %q", refusal, tc.refusal)
			}
			if refusal == "" && stored != tc.stored {
				t.Errorf("stored %q, want %q", stored, tc.stored)
			}
			if rest := tc.input[used:]; rest != tc.rest {
				t.Errorf("left %q for the next command, want %q", rest, tc.rest)
			}
		})
	}
}

// FuzzReadData checks the DATA reader against its definition: it stops
// right after the first <CRLF>.<CRLF> (a "." line whose line end and the
// previous one's are CRLF); what it stores is what it read, line by line
// (a bare LF ends a line too), with dot-stuffing undone, CRLF line ends and
// "." lines next to a bare LF dropped; it never stores bare CR, bare LF or
// NUL. In strict mode it stores the same or refuses.
func FuzzReadData(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "..a\r\n.\r\n", "a\n.\n.\r\n", "\r\n.\r\n", "a\r.\r\n\r\n.\r\n", "x\x00\r\n.\r\n", "a\r\n.\nb\n.\r\n.\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		checkReadData(t, input, false)
		checkReadData(t, input, true)
	})
}

func checkReadData(t *testing.T, input string, strict bool) {
	t.Helper()
	mode := mailmsg.BareLFNormalize
	if strict {
		mode = mailmsg.BareLFReject
	}
	stored, refusal, err, used := readDataFrom(input, 1<<20, mode)
	if err != nil {
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("err = %v", err)
		}
		return
	}
	read := input[:used]
	if !strings.HasSuffix("\r\n"+read, "\r\n.\r\n") {
		t.Fatalf("stopped after %q, not at <CRLF>.<CRLF>", read)
	}
	if refusal != "" {
		return
	}
	if strings.ContainsRune(stored, 0) {
		t.Fatalf("stored a NUL: %q", stored)
	}
	if strings.Count(stored, "\r") != strings.Count(stored, "\n") || strings.Count(stored, "\r\n") != strings.Count(stored, "\n") {
		t.Fatalf("stored a bare CR or LF: %q", stored)
	}
	if strict && strings.Count(read, "\n") != strings.Count(read, "\r\n") {
		t.Fatalf("strict mode stored %q from input with a bare LF", read)
	}
	var want strings.Builder
	lines := strings.SplitAfter(read[:len(read)-3], "\n")
	prevBare := false
	for i, line := range lines {
		if line == "" {
			continue
		}
		bare := !strings.HasSuffix(line, "\r\n")
		text := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if text == "." {
			if !bare && !prevBare && i < len(lines)-1 {
				t.Fatalf("read past the end of data in %q", read)
			}
			prevBare = bare
			continue
		}
		prevBare = bare
		want.WriteString(strings.TrimPrefix(text, "."))
		want.WriteString("\r\n")
	}
	if stored != want.String() {
		t.Fatalf("stored %q, want %q from %q", stored, want.String(), read)
	}
}
