package delivery

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// scripted is a receiver that answers each command by its verb; it records
// the lines it got.
func scripted(t *testing.T, replies map[string]string) (net.Conn, <-chan []string) {
	t.Helper()
	client, server := net.Pipe()
	got := make(chan []string, 1)
	go func() {
		defer server.Close()
		var lines []string
		defer func() { got <- lines }()
		r := bufio.NewReader(server)
		server.Write([]byte("220 scripted ESMTP\r\n"))
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			lines = append(lines, line)
			if inData {
				if line == "." {
					inData = false
					server.Write([]byte(replies["."] + "\r\n"))
				}
				continue
			}
			verb := strings.ToUpper(strings.Fields(line + " x")[0])
			if verb == "RCPT" {
				verb = line // per recipient
			}
			reply, ok := replies[verb]
			if !ok {
				reply = "250 ok"
			}
			if verb == "DATA" && strings.HasPrefix(reply, "354") {
				inData = true
			}
			server.Write([]byte(reply + "\r\n"))
			if verb == "QUIT" {
				return
			}
		}
	}()
	return client, got
}

func TestSessionWithoutPipelining(t *testing.T) {
	tests := []struct {
		name    string
		replies map[string]string
		helo    bool
	}{
		{name: "EHLO", replies: map[string]string{"EHLO": "250-scripted\r\n250-SIZE 1000000\r\n250 8BITMIME"}},
		{name: "HELO fallback", replies: map[string]string{"EHLO": "502 5.5.1 what?"}, helo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.replies["RCPT TO:<gone@x.test>"] = "550 5.1.1 no such user"
			tc.replies["DATA"] = "354 go ahead"
			tc.replies["."] = "250 2.0.0 queued"
			nc, got := scripted(t, tc.replies)
			s, err := openSession(nc, "mx.x.test", "out.test", time.Second, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.send("b@bounce.test", []string{"ok@x.test", "gone@x.test"}, 20, false, []byte("H: 1\r\n"), []byte("\r\n.dot\r\n"))
			if err != nil || res.mail != nil || res.data != nil || res.rcpt[0] != nil || res.rcpt[1] == nil {
				t.Fatalf("send = %+v, %v", res, err)
			}
			if f := replyFailure(res.rcpt[1], "mx.x.test"); f.Status() != "5.1.1" || !f.Permanent {
				t.Errorf("refusal = %+v", f)
			}
			s.quit()
			lines := strings.Join(<-got, "\n")
			for _, want := range []string{"MAIL FROM:<b@bounce.test>", "RCPT TO:<ok@x.test>", "DATA", "H: 1", "..dot", "QUIT"} {
				if !strings.Contains(lines, want) {
					t.Errorf("receiver did not get %q:\n%s", want, lines)
				}
			}
			if tc.helo != strings.Contains(lines, "HELO out.test") {
				t.Errorf("HELO sent = %v, want %v", !tc.helo, tc.helo)
			}
			if !tc.helo && !strings.Contains(lines, "SIZE=20") {
				t.Errorf("no SIZE parameter:\n%s", lines)
			}
		})
	}
}

func TestSessionPipelinedNoRecipientAccepted(t *testing.T) {
	nc, got := scripted(t, map[string]string{
		"EHLO":                  "250-scripted\r\n250 PIPELINING",
		"RCPT TO:<gone@x.test>": "550 5.1.1 no such user",
		"DATA":                  "354 go ahead anyway",
		".":                     "554 5.5.1 no valid recipients",
	})
	s, err := openSession(nc, "mx.x.test", "out.test", time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.send("b@bounce.test", []string{"gone@x.test"}, 10, false, nil, []byte("body\r\n"))
	if err != nil || res.rcpt[0] == nil {
		t.Fatalf("send = %+v, %v", res, err)
	}
	if !s.reset() {
		t.Error("connection unusable after a refused pipelined transaction")
	}
	s.quit()
	if lines := strings.Join(<-got, "\n"); strings.Contains(lines, "body") {
		t.Errorf("the message went out with no recipient accepted:\n%s", lines)
	}
}
