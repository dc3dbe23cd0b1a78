package e2e

import (
	"strconv"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// deliveryLines are the server's "delivery" log lines for rcpt so far (the
// text handler's key=value pairs; testenv logs at debug, so info is on).
func deliveryLines(s *testenv.Server, rcpt string) []map[string]string {
	var out []map[string]string
	for _, l := range strings.Split(s.Stderr.String(), "\n") {
		if !strings.Contains(l, " msg=delivery ") {
			continue
		}
		kv := logFields(l)
		if kv["to"] == rcpt {
			out = append(out, kv)
		}
	}
	return out
}

// waitDeliveryLine waits for rcpt's one delivery line and returns it; a
// second line for the same attempt fails the test.
func waitDeliveryLine(t *testing.T, s *testenv.Server, rcpt string) map[string]string {
	t.Helper()
	var lines []map[string]string
	waitFor(t, "the delivery line of "+rcpt, func() bool {
		lines = deliveryLines(s, rcpt)
		return len(lines) > 0
	})
	if len(lines) != 1 {
		t.Errorf("%d delivery lines for %s: %v", len(lines), rcpt, lines)
	}
	return lines[0]
}

// logFields splits a log/slog text line into its keys and values (quoted
// values unquoted).
func logFields(line string) map[string]string {
	out := map[string]string{}
	for line != "" {
		key, rest, ok := strings.Cut(line, "=")
		if !ok {
			break
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end+1, len(rest))
			val, _ = strconv.Unquote(rest[:end])
			rest = rest[end:]
		} else {
			val, rest, _ = strings.Cut(rest, " ")
		}
		out[strings.TrimSpace(key)] = val
		line = strings.TrimLeft(rest, " ")
	}
	return out
}

// Capture mode logs each recipient's outcome as status=captured (the
// mailbox simulator's addresses as the simulator decides).
func TestCaptureDeliveryLog(t *testing.T) {
	s := startProduction(t, testenv.Options{})
	s.Verify("example.com")
	smtpSendTo(t, s, "sender@example.com", "delivery log", "someone@example.net", "bounce@simulator.amazonses.com")
	m := waitSubject(t, s, "delivery log")
	line := waitDeliveryLine(t, s, "someone@example.net")
	if line["level"] != "INFO" || line["component"] != "delivery" || line["status"] != "captured" || line["message_id"] != m.ID || line["relay"] != "none" ||
		line["reply"] != "250 2.0.0 Ok: captured by sesame.test" || line["dsn"] != "2.0.0" {
		t.Errorf("captured line: %v", line)
	}
	line = waitDeliveryLine(t, s, "bounce@simulator.amazonses.com")
	if line["status"] != "bounced" || line["message_id"] != m.ID || line["dsn"] != "5.1.1" {
		t.Errorf("simulator line: %v", line)
	}
}
