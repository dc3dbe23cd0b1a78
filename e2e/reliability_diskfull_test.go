//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sesame/internal/testenv"
)

// needRoot skips a test that mounts file systems when not root — or fails
// it under CI=true, where the suite runs as root and must not skip.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s needs root (CI runs as root)", why)
	}
	t.Skipf("%s needs root", why)
}

// onTmpfs moves the stopped server's data dir onto a tmpfs of the given
// size (mount -t tmpfs -o size=…), unmounted when the test ends.
func onTmpfs(t *testing.T, s *testenv.Server, size string) {
	t.Helper()
	held := s.Dir + ".held"
	if err := os.Rename(s.Dir, held); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", s.Dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		s.Stop() // the process holds files on the mount
		if out, err := exec.Command("umount", "-l", s.Dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	if out, err := exec.Command("cp", "-a", held+"/.", s.Dir).CombinedOutput(); err != nil {
		t.Fatalf("copying the data dir: %v: %s", err, out)
	}
}

// fillDisk writes a file in dir until the file system is full and returns
// its path; removing it gives the space back.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// The last few blocks a page at a time, so not a byte is left.
	for {
		if _, err := f.Write(block[:512]); err != nil {
			break
		}
	}
	return path
}

// TestReliabilityDiskFull: sesame's data dir is on a small tmpfs that a
// filler file takes to its last byte. Sends over SMTP and the API get
// SES's temporary failures (SMTP 4xx; an API error the SDKs retry: 5xx or
// throttling), never a permanent refusal and never a crash; what was
// acknowledged before or during stays; when the filler is removed sesame
// accepts again by itself, without a restart, and every acknowledged message
// is captured.
func TestReliabilityDiskFull(t *testing.T) {
	needRoot(t, "the disk-full test (mount -t tmpfs)")
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	s.Stop()
	onTmpfs(t, s, "48m")
	s.Restart()
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range s.Stderr.Lines() {
				if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
					t.Log(l)
				}
			}
		}
	})
	v2 := s.SESv2Client(t)
	ctx := context.Background()

	var acked []string
	smtpOnce := func(subject string, lines int) (id, reply string) {
		c := login(t, s)
		c.step("MAIL FROM:<sender@example.com>", "~(250 Ok|4\\d\\d .*)")
		c.step("RCPT TO:<rcpt@example.net>", "~(250 Ok|4\\d\\d .*)")
		c.send("DATA")
		if l := c.expect("~(354 .*|4\\d\\d .*)"); !strings.HasPrefix(l, "354") {
			return "", l
		}
		c.send("From: sender@example.com\r\nTo: rcpt@example.net\r\nSubject: " + subject + "\r\n\r\n" + strings.Repeat("disk full test body\r\n", lines))
		reply = c.step(".", "~(250 Ok \\S+|4\\d\\d .*)")
		c.conn.Close()
		if id, ok := strings.CutPrefix(reply, "250 Ok "); ok {
			acked = append(acked, id)
			return id, reply
		}
		return "", reply
	}
	apiOnce := func(subject string) error {
		out, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("api@example.com"),
			Destination:      &v2types.Destination{ToAddresses: []string{"rcpt@example.net"}},
			Content:          simple(subject, strings.Repeat("disk full test body\n", 200), ""),
		})
		if err == nil {
			acked = append(acked, aws.ToString(out.MessageId))
		}
		return err
	}
	for i := range 3 {
		if id, reply := smtpOnce(fmt.Sprintf("before %d", i), 200); id == "" {
			t.Fatalf("before the disk fills: %s", reply)
		}
		if err := apiOnce(fmt.Sprintf("before api %d", i)); err != nil {
			t.Fatalf("before the disk fills: %v", err)
		}
	}
	s.WaitCaptured(len(acked), 30*time.Second)
	// Messages still on their way to the capture store when the disk fills.
	for i := range 10 {
		if err := apiOnce(fmt.Sprintf("in flight %d", i)); err != nil {
			t.Fatal(err)
		}
	}

	filler := fillDisk(t, s.Dir)
	smtpRefused, apiRefused := 0, 0
	for i := range 20 {
		lines := 200
		if i%5 == 0 {
			lines = 20000 // 420 KB: past the spool's memory limit, into a body file
		}
		if id, reply := smtpOnce(fmt.Sprintf("full %d", i), lines); id == "" {
			if !strings.HasPrefix(reply, "4") {
				t.Fatalf("SMTP on a full disk: %q, want a 4xx", reply)
			}
			smtpRefused++
		}
		if err := apiOnce(fmt.Sprintf("full api %d", i)); err != nil {
			if !retriable(err) {
				t.Fatalf("API on a full disk: %v, want an error the SDKs retry (5xx or throttling)", err)
			}
			apiRefused++
		}
		if s.Exited() {
			t.Fatalf("sesame exited on a full disk:\n%s", s.Stderr)
		}
	}
	t.Logf("on a full disk: %d of 20 SMTP and %d of 20 API sends refused with a temporary failure", smtpRefused, apiRefused)
	if smtpRefused == 0 || apiRefused == 0 {
		t.Fatalf("the disk was full but %d SMTP and %d API sends were refused", smtpRefused, apiRefused)
	}
	if resp, err := http.Get("http://" + s.API + "/_sesame/health"); err != nil {
		t.Fatalf("health on a full disk: %v", err)
	} else {
		resp.Body.Close()
	}

	// What the full disk did inside, for the record (docs/reliability.md).
	kinds := map[string]int{}
	for _, l := range s.Stderr.Lines() {
		if i := strings.Index(l, "level=ERROR msg="); i >= 0 || strings.Contains(l, "level=WARN") {
			msg := l[strings.Index(l, "msg="):]
			if j := strings.Index(msg, " "); strings.HasPrefix(msg, "msg=\"") {
				j = strings.Index(msg[5:], "\"") + 6
				msg = msg[:j]
			} else if j > 0 {
				msg = msg[:j]
			}
			kinds[msg]++
		}
	}
	t.Logf("errors and warnings logged on the full disk: %v", kinds)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// No restart: the next sends go through once space is back.
	waitForWithin(t, "SMTP accepting again", time.Minute, func() bool {
		id, _ := smtpOnce("after", 200)
		return id != ""
	})
	waitForWithin(t, "the API accepting again", time.Minute, func() bool { return apiOnce("after api") == nil })
	if s.Exited() {
		t.Fatalf("sesame exited:\n%s", s.Stderr)
	}
	msgs := s.WaitCaptured(len(acked), time.Minute)
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.ID] = true
	}
	for _, id := range acked {
		if !seen[id] {
			t.Errorf("acknowledged message %s not captured after the disk-full episode", id)
		}
	}
	// And after a restart, from the spool and the store as they are on disk.
	s.Restart()
	msgs = s.WaitCaptured(len(acked), time.Minute)
	seen = map[string]bool{}
	for _, m := range msgs {
		seen[m.ID] = true
	}
	for _, id := range acked {
		if !seen[id] {
			t.Errorf("acknowledged message %s lost across the restart after the disk-full episode", id)
		}
	}
}

// retriable says whether an SDK would retry err: a 5xx, or a throttling code.
func retriable(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	switch apiCode(err) {
	case "Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure":
		return true
	}
	return false
}
