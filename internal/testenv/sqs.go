package testenv

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// SQS is a minimal SQS-compatible server on loopback for tests: the AWS
// JSON 1.0 protocol that aws-sdk-go-v2's sqs client speaks, with
// CreateQueue, GetQueueUrl, SendMessage, ReceiveMessage (long polling) and
// DeleteMessage. No maintained Go SQS server builds from the module proxy
// for that protocol (goaws v0.4.5, the newest there, speaks only the Query
// protocol), so this one is ours. Signatures are not checked; the access
// key of each request is recorded. Stop and Start take it down and bring it
// back on the same address.
type SQS struct {
	t       testing.TB
	Addr    string
	Account string // owner of queues made with CreateQueue over the API

	mu     sync.Mutex
	srv    *http.Server
	queues map[string]*sqsQueue // by URL
	keys   []string
}

type sqsQueue struct {
	account, name string
	msgs          []sqsMessage // not yet received
	sent          []string     // every body ever sent, in order
}

type sqsMessage struct{ id, body string }

// StartSQS starts the server; it stops when the test ends.
func StartSQS(t testing.TB) *SQS {
	t.Helper()
	s := &SQS{t: t, Addr: FreeAddr(t), Account: "000000000000", queues: map[string]*sqsQueue{}}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the endpoint to configure clients with.
func (s *SQS) URL() string { return "http://" + s.Addr }

// Start serves (again) on Addr.
func (s *SQS) Start() {
	s.t.Helper()
	var l net.Listener
	var err error
	// The port was ours a moment ago; the kernel may need a little to free it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if l, err = net.Listen("tcp", s.Addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("sqs: listen %s: %v", s.Addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve)}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(l)
}

// Stop closes the listener and every connection: clients get refused.
func (s *SQS) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// CreateQueue makes a queue of account and returns its URL.
func (s *SQS) CreateQueue(account, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.URL() + "/" + account + "/" + name
	if s.queues[u] == nil {
		s.queues[u] = &sqsQueue{account: account, name: name}
	}
	return u
}

// ARN is the queue's ARN in region.
func (s *SQS) ARN(region, account, name string) string {
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// Sent returns every body sent to the queue so far, received or not.
func (s *SQS) Sent(account, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[s.URL()+"/"+account+"/"+name]
	if q == nil {
		return nil
	}
	return append([]string(nil), q.sent...)
}

// WaitSent polls until the queue had n bodies sent (bounded wait).
func (s *SQS) WaitSent(account, name string, n int, timeout time.Duration) []string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.Sent(account, name)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sqs queue %s got %d messages, want %d", name, len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// AccessKeys returns the access key ids requests were signed with.
func (s *SQS) AccessKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/`)

type sqsError struct {
	status      int
	code, query string
	msg         string
}

func (s *SQS) serve(w http.ResponseWriter, r *http.Request) {
	target, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		http.Error(w, "sqs test server: JSON protocol only", http.StatusBadRequest)
		return
	}
	if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		s.mu.Lock()
		s.keys = append(s.keys, m[1])
		s.mu.Unlock()
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.fail(w, sqsError{400, "InvalidParameterValue", "InvalidParameterValue", err.Error()})
		return
	}
	str := func(k string) string { v, _ := in[k].(string); return v }
	num := func(k string) int { v, _ := in[k].(float64); return int(v) }
	var out any
	var fail *sqsError
	switch target {
	case "CreateQueue":
		out = map[string]string{"QueueUrl": s.CreateQueue(s.Account, str("QueueName"))}
	case "GetQueueUrl":
		owner := str("QueueOwnerAWSAccountId")
		if owner == "" {
			owner = s.Account
		}
		u := s.URL() + "/" + owner + "/" + str("QueueName")
		if s.queue(u) == nil {
			fail = &sqsError{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
			break
		}
		out = map[string]string{"QueueUrl": u}
	case "SendMessage":
		id := uuid.NewString()
		body := str("MessageBody")
		if !s.withQueue(str("QueueUrl"), func(q *sqsQueue) {
			q.msgs = append(q.msgs, sqsMessage{id, body})
			q.sent = append(q.sent, body)
		}) {
			fail = &sqsError{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
			break
		}
		out = map[string]string{"MessageId": id, "MD5OfMessageBody": md5Hex(body)}
	case "ReceiveMessage":
		limit := max(1, num("MaxNumberOfMessages"))
		deadline := time.Now().Add(time.Duration(min(num("WaitTimeSeconds"), 20)) * time.Second)
		var msgs []map[string]string
		for {
			found := s.withQueue(str("QueueUrl"), func(q *sqsQueue) {
				n := min(limit, len(q.msgs))
				for _, m := range q.msgs[:n] {
					msgs = append(msgs, map[string]string{"MessageId": m.id, "ReceiptHandle": m.id,
						"MD5OfBody": md5Hex(m.body), "Body": m.body})
				}
				q.msgs = q.msgs[n:]
			})
			if !found {
				fail = &sqsError{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
				break
			}
			if len(msgs) > 0 || time.Now().After(deadline) || r.Context().Err() != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		out = map[string]any{"Messages": msgs}
	case "DeleteMessage":
		out = map[string]string{}
	default:
		fail = &sqsError{400, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "sqs test server: " + target}
	}
	if fail != nil {
		s.fail(w, *fail)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *SQS) queue(u string) *sqsQueue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queues[u]
}

func (s *SQS) withQueue(u string, fn func(*sqsQueue)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[u]
	if q == nil {
		return false
	}
	fn(q)
	return true
}

func (s *SQS) fail(w http.ResponseWriter, e sqsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", e.query+";Sender")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.msg})
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
