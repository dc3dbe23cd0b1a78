package api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"sesame/internal/awsauth"
	"sesame/internal/seserr"
)

// What a request may cost before and after it proves who sent it (issue 9,
// defect 1). Nothing of a body is read until every check that needs no body
// has passed; then at most the operation's own limit is read.

const (
	// DefaultMaxConnections bounds the API listener's open connections;
	// beyond it new ones wait in the kernel's accept queue, holding no file
	// descriptor of sesame's (the SMTP listeners share the process's).
	DefaultMaxConnections = 512
	// DefaultMaxInflight bounds requests being read or handled at once;
	// beyond it the SES APIs answer throttling, which SDKs retry.
	DefaultMaxInflight = 256

	// smallBodyBytes is the limit of every operation not named below: their
	// inputs are names, flags and short JSON documents (a DKIM private key,
	// a policy, SNS's 256 KiB message percent-encoded).
	smallBodyBytes = 1 << 20
	// templateBodyBytes: a template is up to 500 KB and TemplateData up to
	// 262,144 characters; JSON or form escaping may multiply either (an
	// encoder that writes '<' as \u003c makes HTML six times longer).
	templateBodyBytes = 4 << 20
	// bulkBodyBytes: up to 50 destinations, each with its own template data.
	bulkBodyBytes = 32 << 20
	// customVerificationBodyBytes: a custom verification template's content
	// is up to 10 MB of HTML, which JSON or form escaping may inflate.
	customVerificationBodyBytes = 32 << 20
)

// encodedMessageBytes is the body a send operation needs for a message of
// up to n bytes: base64 (4/3), an eighth more for escaping ('/' as "\/" in
// JSON, '+', '/', '=' percent-encoded in a form) and 1 MiB for the other
// fields. The message's own limit is checked after decoding, by sending.
func encodedMessageBytes(n int64) int64 {
	b64 := (n + 2) / 3 * 4
	return b64 + b64/8 + 1<<20
}

// bodyLimit is how much of a body one operation may read, and whether a
// larger body is a message too long (a send operation: SES's
// MessageRejected) or merely a request too large (413).
type bodyLimit struct {
	bytes int64
	send  bool
}

func (l bodyLimit) refusal() error {
	if l.send {
		return seserr.MessageTooLong()
	}
	return seserr.RequestTooLarge(l.bytes)
}

// v2BodyLimit is the limit of the v2 route pattern (as registered).
func (s *Server) v2BodyLimit(pattern string) bodyLimit {
	switch pattern {
	case "POST /v2/email/outbound-emails":
		return bodyLimit{encodedMessageBytes(s.maxMessageBytes()), true}
	case "POST /v2/email/outbound-bulk-emails":
		return bodyLimit{bulkBodyBytes, true}
	case "POST /v2/email/templates", "PUT /v2/email/templates/{TemplateName}",
		"POST /v2/email/templates/{TemplateName}/render":
		return bodyLimit{templateBodyBytes, false}
	case "POST /v2/email/custom-verification-email-templates",
		"PUT /v2/email/custom-verification-email-templates/{TemplateName}":
		return bodyLimit{customVerificationBodyBytes, false}
	}
	return bodyLimit{smallBodyBytes, false}
}

// v1BodyLimit is the limit of a v1 Query action.
func v1BodyLimit(action string) bodyLimit {
	switch action {
	case "SendEmail", "SendRawEmail":
		return bodyLimit{encodedMessageBytes(maxV1MessageBytes), true}
	case "SendBulkTemplatedEmail":
		return bodyLimit{bulkBodyBytes, true}
	case "SendTemplatedEmail":
		return bodyLimit{templateBodyBytes, true}
	case "CreateTemplate", "UpdateTemplate", "TestRenderTemplate":
		return bodyLimit{templateBodyBytes, false}
	case "CreateCustomVerificationEmailTemplate", "UpdateCustomVerificationEmailTemplate":
		return bodyLimit{customVerificationBodyBytes, false}
	}
	return bodyLimit{smallBodyBytes, false}
}

func (s *Server) maxMessageBytes() int64 {
	if s.cfg.MaxMessageBytes > 0 {
		return s.cfg.MaxMessageBytes
	}
	return 40 << 20
}

// errBodyTooLarge is readBody's answer to a body over its limit.
var errBodyTooLarge = errors.New("api: request body over its limit")

// readBody reads r's body after head (bytes already read), at most limit
// bytes in all. A declared Content-Length over the limit is refused without
// reading; a small known length is read into one buffer of that size, a
// larger one grows with what arrives (a client that declares 60 MB and
// sends nothing holds no 60 MB buffer).
func readBody(r *http.Request, head []byte, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	if r.ContentLength >= 0 && r.ContentLength <= smallBodyBytes && int64(len(head)) <= r.ContentLength {
		body := make([]byte, r.ContentLength)
		n := copy(body, head)
		if _, err := io.ReadFull(r.Body, body[n:]); err != nil {
			return nil, err
		}
		return body, nil
	}
	rest := io.LimitReader(r.Body, limit-int64(len(head))+1)
	body, err := io.ReadAll(io.MultiReader(strings.NewReader(string(head)), rest))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// readQueryBody reads a Query-protocol (v1, SNS) body whose Action is not
// in the URL. The action is in the body (SDKs send it first), so the body
// is read a little at a time until its parameters name the action; from
// then on the action's limit applies. A body that names none within
// smallBodyBytes is too large whatever it is.
func readQueryBody(r *http.Request, limitOf func(action string) bodyLimit) ([]byte, bodyLimit, error) {
	small := bodyLimit{bytes: smallBodyBytes}
	if r.ContentLength >= 0 && r.ContentLength <= smallBodyBytes {
		b, err := readBody(r, nil, smallBodyBytes)
		return b, small, err
	}
	head := make([]byte, 0, 16<<10)
	chunk := make([]byte, 16<<10)
	for {
		n, err := r.Body.Read(chunk)
		head = append(head, chunk[:n]...)
		if err == io.EOF {
			return head, small, nil
		}
		if err != nil {
			return nil, small, err
		}
		if action := formAction(head); action != "" {
			lim := limitOf(action)
			if int64(len(head)) > lim.bytes {
				return nil, lim, errBodyTooLarge
			}
			b, err := readBody(r, head, lim.bytes)
			return b, lim, err
		}
		if len(head) > smallBodyBytes {
			return nil, small, errBodyTooLarge
		}
	}
}

// formAction finds Action among the complete parameters of a form body's
// beginning (the last one may be cut short, so it counts only when an '&'
// follows it).
func formAction(head []byte) string {
	rest := string(head)
	for {
		pair, after, more := strings.Cut(rest, "&")
		if !more {
			return ""
		}
		k, v, _ := strings.Cut(pair, "=")
		if k == "Action" {
			if a, err := url.QueryUnescape(v); err == nil {
				return a
			}
			return ""
		}
		rest = after
	}
}

// refuseBody answers before the body is read: an HTTP/1 connection is
// closed after the answer, so the server does not read (or wait for) the
// rest. (HTTP/2 resets the stream's unread body by itself.)
func refuseBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 && r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

// inflight is a counting semaphore that never waits.
type inflight chan struct{}

func (f inflight) tryAcquire() bool {
	select {
	case f <- struct{}{}:
		return true
	default:
		return false
	}
}

func (f inflight) release() { <-f }

// limitListener accepts at most max connections at a time; Accept waits
// for one to close. Waiting connections stay in the kernel's queue and cost
// sesame no file descriptor, so a flood of them cannot starve the SMTP
// listeners of descriptors.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitedConn gives its slot back once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// operation is what the server knows of a signed request before reading
// its body: which API, its body limit, and its v1/SNS action when the URL
// names it.
type operation struct {
	api    string // "v2", "v1", "sns"
	limit  bodyLimit
	action string // v1/SNS: from the URL, "" when it is in the body
}

// operationOf finds the operation from the method, the path and the URL's
// query, refusing before the body what no body can make valid.
func (s *Server) operationOf(r *http.Request, p awsauth.Principal, isV2 bool) (operation, error) {
	switch {
	case p.Service == awsauth.ServiceSNS:
		if r.URL.Path != "/" || r.Method != http.MethodPost {
			return operation{}, seserr.SNSInvalidAction("")
		}
		op := operation{api: "sns", limit: bodyLimit{bytes: smallBodyBytes}, action: r.URL.Query().Get("Action")}
		if _, ok := s.sns[op.action]; op.action != "" && !ok {
			return operation{}, seserr.SNSInvalidAction(op.action)
		}
		return op, nil
	case isV2:
		_, pattern := s.v2.Handler(r)
		if pattern == "" || pattern == "/" {
			return operation{}, unknownOperation()
		}
		return operation{api: "v2", limit: s.v2BodyLimit(pattern)}, nil
	case r.URL.Path == "/" && r.Method == http.MethodPost:
		op := operation{api: "v1", action: r.URL.Query().Get("Action")}
		if op.action != "" {
			if _, ok := s.v1[op.action]; !ok {
				return operation{}, unknownAction(op.action)
			}
			op.limit = v1BodyLimit(op.action)
		}
		return op, nil
	}
	return operation{}, unknownOperation()
}

// unknownAction is v1's answer to an Action it does not have.
func unknownAction(action string) error { return seserr.InvalidAction(action) }

// snsBodyLimit: every SNS action takes the small limit.
func snsBodyLimit(string) bodyLimit { return bodyLimit{bytes: smallBodyBytes} }
