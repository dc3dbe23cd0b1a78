package verdict

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scanMessage is a plain message whose subject and body the test picks.
func scanMessage(subject, body string) []byte {
	return []byte("From: a@sender.test\r\nTo: rcpt@inbound.test\r\nSubject: " + subject + "\r\n" +
		"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <scan@sender.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + body + "\r\n")
}

// gtube is rspamd's test pattern with its first letter chosen: X for
// reject, Y for add header, Z for rewrite subject.
func gtube(first string) string {
	return first + "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
}

func TestSpamVerdictRspamd(t *testing.T) {
	t.Parallel()
	url := needRspamd(t)
	c := New(Config{RspamdURL: url, ScanTimeout: 20 * time.Second})
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"clean mail passes", scanMessage("lunch", "See you at noon."), Pass},
		{"greylist is GRAY", scanMessage("a suspicious offer", "See you at noon."), Gray},
		{"add header is FAIL", scanMessage("hello", gtube("Y")), Fail},
		{"rewrite subject is FAIL", scanMessage("hello", gtube("Z")), Fail},
		{"reject is FAIL", scanMessage("hello", gtube("X")), Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := c.spam(context.Background(), Input{IP: permittedIP, Helo: "mail.sender.test",
				MailFrom: "a@sender.test", Rcpt: []string{"rcpt@inbound.test"}, Message: tc.msg})
			if got != tc.want {
				t.Errorf("spam verdict %s, want %s", got, tc.want)
			}
		})
	}
}

func TestVirusVerdictClamd(t *testing.T) {
	t.Parallel()
	addr := needClamd(t)
	c := New(Config{ClamdAddress: addr, ScanTimeout: 20 * time.Second})
	// The marker straddles the boundary of the first INSTREAM chunk, so a
	// FAIL proves the chunks reach clamd as one stream.
	header := len(scanMessage("big", "")) - len("\r\n")
	straddling := scanMessage("big", strings.Repeat("x", clamdChunk-header-10)+virusMarker+strings.Repeat("y", 5000))
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"clean mail passes", scanMessage("lunch", "See you at noon."), Pass},
		{"a signature match is FAIL", scanMessage("invoice", "Open me: "+virusMarker), Fail},
		{"a match across chunks is FAIL", straddling, Fail},
		{"a clean message of several chunks passes", scanMessage("big", strings.Repeat("z", 3*clamdChunk+17)), Pass},
		// StreamMaxLength is 1 MiB in the test config: clamd cannot scan it.
		{"over clamd's stream limit is PROCESSING_FAILED", scanMessage("huge", strings.Repeat("z", 2<<20)), ProcessingFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if i := bytes.Index(tc.msg, []byte(virusMarker)); tc.name == "a match across chunks is FAIL" && (i >= clamdChunk || i+len(virusMarker) <= clamdChunk) {
				t.Fatalf("the marker at %d does not straddle the chunk boundary %d", i, clamdChunk)
			}
			if got := c.virus(context.Background(), Input{Message: tc.msg}); got != tc.want {
				t.Errorf("virus verdict %s, want %s", got, tc.want)
			}
		})
	}
}

// Check with both real scanners and a rule that scans: the verdicts and
// SES's headers for them.
func TestCheckWithScanners(t *testing.T) {
	t.Parallel()
	url, addr := needRspamd(t), needClamd(t)
	c := New(Config{RspamdURL: url, ClamdAddress: addr, Timeout: time.Second}.WithResolver(silentDNS(t)))
	in := Input{IP: permittedIP, Helo: "mail.sender.test", MailFrom: "a@sender.test",
		Message: scanMessage("hello", gtube("X")+"\r\n"+virusMarker), Scan: true}
	v := c.Check(context.Background(), in)
	if v.Spam != Fail || v.Virus != Fail {
		t.Fatalf("spam %s virus %s, want FAIL FAIL", v.Spam, v.Virus)
	}
	h := string(v.Headers(in, "mx.sesame.test"))
	if !strings.HasPrefix(h, "X-SES-Spam-Verdict: FAIL\r\nX-SES-Virus-Verdict: FAIL\r\nReceived-SPF: temperror ") {
		t.Errorf("headers:\n%s", h)
	}
	in.Scan = false
	if v := c.Check(context.Background(), in); v.Spam != Disabled || v.Virus != Disabled {
		t.Errorf("without Scan: spam %s virus %s, want DISABLED DISABLED", v.Spam, v.Virus)
	}
}

// Scanners that are not there, or that never answer, give
// PROCESSING_FAILED within the scan timeout; scanning off, or no scanner
// configured, is DISABLED without asking anything.
func TestScannersDown(t *testing.T) {
	t.Parallel()
	closedPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	// A listener that accepts and never answers.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })
	go func() {
		for {
			conn, err := mute.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	missingSock := "unix:" + filepath.Join(t.TempDir(), "clamd.sock")
	dns := silentDNS(t)
	tests := []struct {
		name              string
		cfg               Config
		scan              bool
		wantSpam, wantVir string
	}{
		{"nothing listens", Config{RspamdURL: "http://127.0.0.1:" + strconv.Itoa(closedPort), ClamdAddress: missingSock},
			true, ProcessingFailed, ProcessingFailed},
		{"a scanner that never answers", Config{RspamdURL: "http://" + mute.Addr().String(), ClamdAddress: "tcp:" + mute.Addr().String()},
			true, ProcessingFailed, ProcessingFailed},
		{"a malformed clamd address", Config{ClamdAddress: "/run/clamd.sock"}, true, Disabled, ProcessingFailed},
		{"scanning off", Config{RspamdURL: "http://127.0.0.1:" + strconv.Itoa(closedPort), ClamdAddress: missingSock},
			false, Disabled, Disabled},
		{"no scanners configured", Config{}, true, Disabled, Disabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.ScanTimeout = 300 * time.Millisecond
			cfg.Timeout = 300 * time.Millisecond
			c := New(cfg.WithResolver(dns))
			start := time.Now()
			v := c.Check(context.Background(), Input{IP: permittedIP, Helo: "h.test", MailFrom: "a@x.test",
				Message: scanMessage("hi", "hello"), Scan: tc.scan})
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Check took %v with 300ms timeouts", took)
			}
			if v.Spam != tc.wantSpam || v.Virus != tc.wantVir {
				t.Errorf("spam %s virus %s, want %s %s", v.Spam, v.Virus, tc.wantSpam, tc.wantVir)
			}
		})
	}
}
