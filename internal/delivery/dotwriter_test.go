package delivery

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// dotEncode runs the chunks through a dotWriter.
func dotEncode(t *testing.T, chunks ...string) string {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	dw := newDotWriter(w)
	for _, c := range chunks {
		if _, err := dw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkCRLF fails unless every CR in data is followed by LF and every LF
// preceded by CR.
func checkCRLF(t *testing.T, data string) {
	t.Helper()
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\r':
			if i+1 >= len(data) || data[i+1] != '\n' {
				t.Fatalf("bare CR at %d in %q", i, data)
			}
		case '\n':
			if i == 0 || data[i-1] != '\r' {
				t.Fatalf("bare LF at %d in %q", i, data)
			}
		}
	}
}

func TestDotWriter(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"crlf", []string{"a\r\nb\r\n"}, "a\r\nb\r\n.\r\n"},
		{"no final line end", []string{"a\r\nb"}, "a\r\nb\r\n.\r\n"},
		{"empty", nil, ".\r\n"},
		{"dot stuffing", []string{".a\r\n..\r\n.\r\n"}, "..a\r\n...\r\n..\r\n.\r\n"},
		{"bare LF", []string{"a\nb\n"}, "a\r\nb\r\n.\r\n"},
		{"bare CR", []string{"a\rb\r"}, "a\r\nb\r\n.\r\n"},
		{"smuggling CR.CR", []string{"a\r.\rMAIL FROM:<x@y>\r\n"}, "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n"},
		{"smuggling LF.LF", []string{"a\n.\nRCPT TO:<x@y>\n"}, "a\r\n..\r\nRCPT TO:<x@y>\r\n.\r\n"},
		{"LF.CRLF", []string{"a\n.\r\nb"}, "a\r\n..\r\nb\r\n.\r\n"},
		{"CRLF.LF", []string{"a\r\n.\nb"}, "a\r\n..\r\nb\r\n.\r\n"},
		{"CR CR LF", []string{"a\r\r\nb"}, "a\r\n\r\nb\r\n.\r\n"},
		{"LF CR", []string{"a\n\rb"}, "a\r\n\r\nb\r\n.\r\n"},
		{"CRLF split across writes", []string{"a\r", "\n", ".b\r", "\n"}, "a\r\n..b\r\n.\r\n"},
		{"dot after split CR", []string{"a\r", ".\r", "\nb"}, "a\r\n..\r\nb\r\n.\r\n"},
		{"NUL kept", []string{"a\x00b\r\n"}, "a\x00b\r\n.\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dotEncode(t, tc.chunks...)
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			checkCRLF(t, got)
		})
	}
}

// Whatever bytes go in, in whatever pieces, what goes out has CRLF line
// ends only, no line that is a lone "." before the end, and undoes (by
// removing the stuffing) to the input with its line ends made CRLF.
func TestDotWriterAnyInput(t *testing.T) {
	alphabet := []byte("ab.\r\n\x00")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		in := make([]byte, rng.IntN(40))
		for i := range in {
			in[i] = alphabet[rng.IntN(len(alphabet))]
		}
		var chunks []string
		for rest := in; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			chunks = append(chunks, string(rest[:n]))
			rest = rest[n:]
		}
		out := dotEncode(t, chunks...)
		checkCRLF(t, out)
		lines := strings.Split(strings.TrimSuffix(out, ".\r\n"), "\r\n")
		lines = lines[:len(lines)-1] // after the last CRLF
		var un []string
		for _, l := range lines {
			if l == "." {
				t.Fatalf("input %q: a lone dot line before the end: %q", in, out)
			}
			if strings.HasPrefix(l, ".") {
				if !strings.HasPrefix(l, "..") {
					t.Fatalf("input %q: unstuffed dot: %q", in, out)
				}
				l = l[1:]
			}
			un = append(un, l)
		}
		norm := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(in))
		norm = strings.TrimSuffix(norm, "\n")
		if len(in) == 0 {
			if len(un) != 0 {
				t.Fatalf("empty input gave %q", out)
			}
			continue
		}
		if got := strings.Join(un, "\n"); got != norm {
			t.Fatalf("input %q: decoded %q, want %q", in, got, norm)
		}
	}
}

// A real receiver over loopback gets exactly CRLF lines for a message
// whose spooled bytes hold bare CRs and LFs: the session's DATA goes
// through the dot writer, not textproto's, which let "\r.\r" through.
func TestSessionSendsOnlyCRLF(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReader(c)
		io.WriteString(c, "220 loopback ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				got <- ""
				return
			}
			switch verb := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(verb, "EHLO"):
				io.WriteString(c, "250-loopback\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
			case verb == "DATA":
				io.WriteString(c, "354 go ahead\r\n")
				// Read raw bytes up to the end of data, as a receiver
				// that honours only CRLF.CRLF does.
				var data []byte
				for !bytes.HasSuffix(data, []byte("\r\n.\r\n")) {
					b, err := r.ReadByte()
					if err != nil {
						got <- string(data)
						return
					}
					data = append(data, b)
				}
				io.WriteString(c, "250 2.0.0 queued\r\n")
				got <- string(data)
			case verb == "QUIT":
				io.WriteString(c, "221 bye\r\n")
				return
			default:
				io.WriteString(c, "250 ok\r\n")
			}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := openSession(nc, "mx.loopback.test", "out.test", 10*time.Second, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	header := []byte("DKIM-Signature: v=1\r\n")
	body := []byte("Subject: x\nTo: a@b.test\r\n\r\nline one\rline two\n.\nafter dot\r.\rMAIL FROM:<evil@x.test>\r\n.\r\nend")
	res, err := s.send("b@bounce.test", []string{"r@x.test"}, len(header)+len(body), false, header, body)
	if err != nil || res.mail != nil || res.data != nil || res.rcpt[0] != nil {
		t.Fatalf("send = %+v, %v", res, err)
	}
	s.quit()
	data := <-got
	checkCRLF(t, data)
	want := "DKIM-Signature: v=1\r\nSubject: x\r\nTo: a@b.test\r\n\r\nline one\r\nline two\r\n..\r\nafter dot\r\n..\r\nMAIL FROM:<evil@x.test>\r\n..\r\nend\r\n.\r\n"
	if data != want {
		t.Fatalf("receiver got\n%q\nwant\n%q", data, want)
	}
}
