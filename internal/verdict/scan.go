package verdict

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// spam asks rspamd for its action on the message (its HTTP API, POST
// /checkv2) and maps it to SES's spam verdict (see the package comment).
func (c *Checker) spam(ctx context.Context, in Input) string {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ScanTimeout)
	defer cancel()
	action, err := c.rspamdAction(ctx, in)
	if err != nil {
		c.cfg.Log.Warn("verdict: spam scanner failed", "rspamd", c.cfg.RspamdURL, "err", err)
		return ProcessingFailed
	}
	switch action {
	case "no action":
		return Pass
	case "greylist", "soft reject":
		return Gray
	case "add header", "rewrite subject", "reject":
		return Fail
	}
	c.cfg.Log.Warn("verdict: spam scanner answered an unknown action", "rspamd", c.cfg.RspamdURL, "action", action)
	return ProcessingFailed
}

// rspamdAction posts the message with its envelope (rspamd's request
// headers IP, Helo, From, Rcpt) and returns the action rspamd answers.
func (c *Checker) rspamdAction(ctx context.Context, in Input) (string, error) {
	url := strings.TrimSuffix(c.cfg.RspamdURL, "/") + "/checkv2"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(in.Message))
	if err != nil {
		return "", fmt.Errorf("rspamd request: %w", err)
	}
	if in.IP.IsValid() {
		req.Header.Set("IP", in.IP.Unmap().String())
	}
	if in.Helo != "" {
		req.Header.Set("Helo", in.Helo)
	}
	if in.MailFrom != "" {
		req.Header.Set("From", in.MailFrom)
	}
	for _, r := range in.Rcpt {
		req.Header.Add("Rcpt", r)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("rspamd: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("rspamd: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("rspamd: HTTP %d: %.200s", resp.StatusCode, body)
	}
	var answer struct {
		Action string  `json:"action"`
		Score  float64 `json:"score"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", fmt.Errorf("rspamd: decoding the answer: %w", err)
	}
	return answer.Action, nil
}

// clamdChunk is the size of one INSTREAM chunk.
const clamdChunk = 64 << 10

// virus streams the message to clamd (INSTREAM) and maps its answer to
// SES's virus verdict (see the package comment).
func (c *Checker) virus(ctx context.Context, in Input) string {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ScanTimeout)
	defer cancel()
	reply, err := c.clamdScan(ctx, in.Message)
	if err != nil {
		c.cfg.Log.Warn("verdict: virus scanner failed", "clamd", c.cfg.ClamdAddress, "err", err)
		return ProcessingFailed
	}
	switch {
	case reply == "stream: OK":
		return Pass
	case strings.HasPrefix(reply, "stream: ") && strings.HasSuffix(reply, " FOUND"):
		return Fail
	}
	c.cfg.Log.Warn("verdict: virus scanner could not scan", "clamd", c.cfg.ClamdAddress, "reply", reply)
	return ProcessingFailed
}

// clamdScan sends msg in zINSTREAM chunks and returns clamd's reply line.
func (c *Checker) clamdScan(ctx context.Context, msg []byte) (string, error) {
	network, addr, ok := strings.Cut(c.cfg.ClamdAddress, ":")
	if !ok || (network != "unix" && network != "tcp") {
		return "", fmt.Errorf("clamd address %q: want unix:/path or tcp:host:port", c.cfg.ClamdAddress)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return "", fmt.Errorf("clamd: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(c.cfg.ScanTimeout))
	}
	// The z prefix makes clamd end its reply with NUL (clamd(8)).
	if _, err := conn.Write([]byte("zINSTREAM\x00")); err != nil {
		return "", fmt.Errorf("clamd: %w", err)
	}
	var size [4]byte
	for len(msg) > 0 {
		n := min(len(msg), clamdChunk)
		binary.BigEndian.PutUint32(size[:], uint32(n))
		if _, err := conn.Write(size[:]); err != nil {
			return readClamdReply(conn, fmt.Errorf("clamd: %w", err))
		}
		if _, err := conn.Write(msg[:n]); err != nil {
			return readClamdReply(conn, fmt.Errorf("clamd: %w", err))
		}
		msg = msg[n:]
	}
	binary.BigEndian.PutUint32(size[:], 0)
	if _, err := conn.Write(size[:]); err != nil {
		return readClamdReply(conn, fmt.Errorf("clamd: %w", err))
	}
	return readClamdReply(conn, nil)
}

// readClamdReply reads clamd's NUL-terminated reply. A write that failed
// because clamd closed the stream early (over its StreamMaxLength) still
// has clamd's reason waiting to be read: that reply wins over writeErr.
func readClamdReply(conn net.Conn, writeErr error) (string, error) {
	b, err := io.ReadAll(io.LimitReader(conn, 4096))
	reply := strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
	if reply != "" {
		return reply, nil
	}
	if writeErr != nil {
		return "", writeErr
	}
	if err != nil {
		return "", fmt.Errorf("clamd: reading the reply: %w", err)
	}
	return "", fmt.Errorf("clamd: empty reply")
}
