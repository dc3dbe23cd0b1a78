package api

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode legacy charsets in captured bodies

	"sesame/internal/outcome"
	"sesame/internal/store"
)

// capturedMessage is one message in LocalStack's `/_aws/ses` shape. The
// fields after Timestamp are sesame's additions; LocalStack tools ignore them.
type capturedMessage struct {
	ID          string            `json:"Id"`
	Region      string            `json:"Region"`
	Source      string            `json:"Source"`
	Destination destination       `json:"Destination"`
	Subject     string            `json:"Subject"`
	Body        capturedBody      `json:"Body"`
	RawData     string            `json:"RawData"`
	Timestamp   string            `json:"Timestamp"`
	Recipients  []string          `json:"Recipients"`
	Outcomes    map[string]string `json:"Outcomes"`
}

type destination struct {
	ToAddresses  []string `json:"ToAddresses"`
	CcAddresses  []string `json:"CcAddresses"`
	BccAddresses []string `json:"BccAddresses"`
}

type capturedBody struct {
	TextPart *string `json:"text_part"`
	HTMLPart *string `json:"html_part"`
}

// listCaptured answers GET /_aws/ses[?id=][&email=]. As in LocalStack, id
// selects one message; email selects by address (sesame matches the sender
// and the recipients, LocalStack the sender only).
func (s *Server) listCaptured(w http.ResponseWriter, r *http.Request) {
	s.flushCaptured(r.Context())
	f := store.CaptureFilter{ID: r.URL.Query().Get("id"), Email: r.URL.Query().Get("email")}
	msgs, err := s.cfg.Store.Captured(r.Context(), f)
	if err != nil {
		s.log.Error("list captured mail", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "could not read captured mail"})
		return
	}
	out := make([]capturedMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, toLocalStack(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

// deleteCaptured answers DELETE /_aws/ses[?id=] with 204, as LocalStack.
func (s *Server) deleteCaptured(w http.ResponseWriter, r *http.Request) {
	s.flushCaptured(r.Context()) // or a message acknowledged before would appear after
	f := store.CaptureFilter{ID: r.URL.Query().Get("id"), Email: r.URL.Query().Get("email")}
	if _, err := s.cfg.Store.DeleteCaptured(r.Context(), f); err != nil {
		s.log.Error("delete captured mail", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "could not delete captured mail"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// captureFlushWait bounds how long a read of /_aws/ses waits for capture
// to catch up (a round takes milliseconds; a store that keeps refusing
// must not hang readers): past it, the answer is what is captured.
const captureFlushWait = 5 * time.Second

// flushCaptured makes /_aws/ses read-your-writes: a message whose send was
// answered (API MessageId, SMTP 250) is in the spool, and capture moves it
// to the store asynchronously, a few milliseconds later. Rather than make
// every send wait for that (sends are the hot path), the reader waits for
// capture to take in what was acknowledged before it.
func (s *Server) flushCaptured(ctx context.Context) {
	if s.cfg.FlushCaptured == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, captureFlushWait)
	defer cancel()
	if err := s.cfg.FlushCaptured(ctx); err != nil {
		s.log.Warn("captured mail: capture has not caught up; answering with what it has", "err", err)
	}
}

func toLocalStack(m store.Captured) capturedMessage {
	c := capturedMessage{
		ID:         m.ID,
		Region:     m.Region,
		Source:     m.MailFrom,
		RawData:    string(m.Raw),
		Timestamp:  m.Received.UTC().Format("2006-01-02T15:04:05.000Z"),
		Recipients: m.Recipients,
		Outcomes:   outcome.ParseSummary(m.Recipients, m.Outcome),
	}
	parsed, err := message.Read(bytes.NewReader(m.Raw))
	if parsed == nil {
		// Not even a header section: keep what the envelope says.
		c.Destination.ToAddresses = m.Recipients
		return c
	}
	_ = err // an unknown charset still gives a usable entity
	h := parsed.Header
	if subj, err := h.Text("Subject"); err == nil {
		c.Subject = subj
	} else {
		c.Subject = h.Get("Subject")
	}
	c.Destination = destinationOf(mail.Header(h.Map()), m.Recipients)
	c.Body = bodyOf(parsed)
	return c
}

// destinationOf splits the envelope recipients as an SES Destination: those
// named in To and Cc go there; the rest were Bcc.
func destinationOf(h mail.Header, rcpts []string) destination {
	var d destination
	named := map[string]string{}
	for _, field := range []string{"To", "Cc"} {
		list, _ := h.AddressList(field)
		for _, a := range list {
			named[strings.ToLower(a.Address)] = field
		}
	}
	for _, r := range rcpts {
		switch named[strings.ToLower(r)] {
		case "To":
			d.ToAddresses = append(d.ToAddresses, r)
		case "Cc":
			d.CcAddresses = append(d.CcAddresses, r)
		default:
			d.BccAddresses = append(d.BccAddresses, r)
		}
	}
	if d.ToAddresses == nil {
		d.ToAddresses = []string{}
	}
	if d.CcAddresses == nil {
		d.CcAddresses = []string{}
	}
	if d.BccAddresses == nil {
		d.BccAddresses = []string{}
	}
	return d
}

// bodyOf finds the first text/plain and text/html parts that are not
// attachments, decoded to UTF-8.
func bodyOf(e *message.Entity) capturedBody {
	var b capturedBody
	_ = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil || part.MultipartReader() != nil {
			return nil
		}
		if disp, _, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition")); disp == "attachment" {
			return nil
		}
		typ, _, _ := part.Header.ContentType()
		if typ == "" {
			typ = "text/plain"
		}
		var slot **string
		switch typ {
		case "text/plain":
			slot = &b.TextPart
		case "text/html":
			slot = &b.HTMLPart
		default:
			return nil
		}
		if *slot != nil {
			return nil
		}
		text, err := io.ReadAll(io.LimitReader(part.Body, 50<<20))
		if err != nil && len(text) == 0 {
			return nil
		}
		s := string(text)
		*slot = &s
		return nil
	})
	return b
}
