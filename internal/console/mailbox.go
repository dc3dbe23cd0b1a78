package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/outcome"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The captured mail of capture mode, as mailpit shows it: the same store
// /_aws/ses reads, but an account sees only its own mail of the view's
// region. SES has no operation for it, so the console reads the store.

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /mailbox":                      s.mailbox,
			"POST /mailbox/delete":              s.deleteAllCaptured,
			"GET /mailbox/{id}":                 s.capturedMessage,
			"POST /mailbox/{id}/delete":         s.deleteCapturedMessage,
			"GET /mailbox/{id}/html":            s.capturedHTML,
			"GET /mailbox/{id}/raw":             s.capturedRaw,
			"GET /mailbox/{id}/attachments/{n}": s.capturedAttachment,
		}
	})
}

// mailboxLimit is how many messages the list shows, newest first.
const mailboxLimit = 200

// flushWait bounds the wait for capture to take in what was acknowledged.
const flushWait = 5 * time.Second

// mailboxRow is one line of the list.
type mailboxRow struct {
	ID, From, To, Subject string
	Received              time.Time
	Outcome, OutcomeClass string
	Size                  string
}

type mailboxData struct {
	Off         bool // not capture mode
	Query       string
	Rows        []mailboxRow
	Total       int // before the subject search
	Limit       int
	APIEndpoint string
}

// filter is the view's account and region: everything the mailbox reads
// or deletes goes through it.
func (v *view) captureFilter() store.CaptureFilter {
	return store.CaptureFilter{AccountID: v.Session.AccountID, Region: v.Region}
}

// flushCaptured lets a message just sent appear: capture takes messages
// from the spool into the store asynchronously, a few ms after the send.
func (s *Server) flushCaptured(ctx context.Context) {
	if s.cfg.FlushCaptured == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, flushWait)
	defer cancel()
	if err := s.cfg.FlushCaptured(ctx); err != nil {
		s.log.Warn("console: capture has not caught up; showing what it has", "err", err)
	}
}

func (s *Server) mailbox(w http.ResponseWriter, r *http.Request, v *view) error {
	d := mailboxData{Off: !s.cfg.Capture, Limit: mailboxLimit, APIEndpoint: s.cfg.APIEndpoint,
		Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Off {
		return v.Render(w, "mailbox", "Captured mail", d)
	}
	s.flushCaptured(r.Context())
	f := v.captureFilter()
	f.Limit = mailboxLimit
	// An address searches the envelope (the store's index); anything else
	// the subjects and header addresses of the newest messages.
	if strings.Contains(d.Query, "@") && !strings.ContainsAny(d.Query, " <>") {
		f.Email = d.Query
	}
	msgs, err := s.cfg.Store.Captured(r.Context(), f)
	if err != nil {
		return err
	}
	d.Total = len(msgs)
	q := strings.ToLower(d.Query)
	for _, m := range slices.Backward(msgs) {
		row := mailboxRow{ID: m.ID, Received: m.Received, Size: byteSize(len(m.Raw))}
		row.From, row.To, row.Subject = mailSummary(m.Raw)
		if row.From == "" {
			row.From = m.MailFrom
		}
		if row.To == "" {
			row.To = strings.Join(m.Recipients, ", ")
		}
		row.Outcome, row.OutcomeClass = outcomeOf(m)
		if q != "" && f.Email == "" && !strings.Contains(strings.ToLower(row.Subject+"\n"+row.From+"\n"+row.To), q) {
			continue
		}
		d.Rows = append(d.Rows, row)
	}
	return v.Render(w, "mailbox", "Captured mail", d)
}

// outcomeOf is what became of the message (the mailbox simulator's
// outcomes per recipient), and its badge.
func outcomeOf(m store.Captured) (string, string) {
	per := outcome.ParseSummary(m.Recipients, m.Outcome)
	var seen []string
	for _, r := range m.Recipients {
		if o := per[r]; !slices.Contains(seen, o) {
			seen = append(seen, o)
		}
	}
	if len(seen) == 0 {
		seen = []string{m.Outcome}
	}
	class := "ok"
	for _, o := range seen {
		switch o {
		case outcome.SimDelivered:
		case "ooto":
			if class == "ok" {
				class = "warn"
			}
		default:
			class = "bad"
		}
	}
	return strings.Join(seen, ", "), class
}

// captured is the view account's message id of the region, or not found.
func (s *Server) captured(r *http.Request, v *view) (store.Captured, error) {
	if !s.cfg.Capture {
		return store.Captured{}, errNoSuchPage
	}
	id := r.PathValue("id")
	s.flushCaptured(r.Context())
	f := v.captureFilter()
	f.ID = id
	msgs, err := s.cfg.Store.Captured(r.Context(), f)
	if err != nil {
		return store.Captured{}, err
	}
	if len(msgs) == 0 {
		return store.Captured{}, seserr.ConsoleCapturedNotFound(id)
	}
	return msgs[0], nil
}

type capturedData struct {
	Msg            store.Captured
	Mail           *mailView
	Tab            string
	Outcome, Class string
	PerRecipient   map[string]string
}

var mailTabs = []string{"html", "text", "headers", "raw", "attachments"}

func (s *Server) capturedMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	m, err := s.captured(r, v)
	if err != nil {
		return err
	}
	d := capturedData{Msg: m, Mail: parseMail(m.Raw), Tab: r.URL.Query().Get("tab"),
		PerRecipient: outcome.ParseSummary(m.Recipients, m.Outcome)}
	d.Outcome, d.Class = outcomeOf(m)
	if !slices.Contains(mailTabs, d.Tab) {
		switch {
		case d.Mail.HasHTML:
			d.Tab = "html"
		case d.Mail.HasText:
			d.Tab = "text"
		default:
			d.Tab = "raw"
		}
	}
	v.Nav = "mailbox"
	title := d.Mail.Subject
	if title == "" {
		title = "(no subject)"
	}
	return v.Render(w, "mailbox_message", title, d)
}

// capturedHTML answers the HTML part for the message page's sandboxed
// frame, under a policy of its own: the mail's HTML runs no script,
// loads nothing (inline images only), submits nothing, and only the
// console may frame it.
func (s *Server) capturedHTML(w http.ResponseWriter, r *http.Request, v *view) error {
	m, err := s.captured(r, v)
	if err != nil {
		return err
	}
	mv := parseMail(m.Raw)
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(mv.HTML))
	return nil
}

func (s *Server) capturedRaw(w http.ResponseWriter, r *http.Request, v *view) error {
	m, err := s.captured(r, v)
	if err != nil {
		return err
	}
	download(w, "message/rfc822", m.ID+".eml", m.Raw)
	return nil
}

func (s *Server) capturedAttachment(w http.ResponseWriter, r *http.Request, v *view) error {
	m, err := s.captured(r, v)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	mv := parseMail(m.Raw)
	if n < 1 || n > len(mv.Attachments) {
		return seserr.ConsoleCapturedPartNotFound(m.ID, r.PathValue("n"))
	}
	a := mv.Attachments[n-1]
	download(w, a.ContentType, a.Name, a.data)
	return nil
}

// download answers a file to save, never to show: attachment, no type
// sniffing, and a sandbox should a browser show it anyway.
func download(w http.ResponseWriter, contentType, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", contentDisposition(name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func (s *Server) deleteCapturedMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	m, err := s.captured(r, v)
	if err != nil {
		return err
	}
	f := v.captureFilter()
	f.ID = m.ID
	if _, err := s.cfg.Store.DeleteCaptured(r.Context(), f); err != nil {
		return err
	}
	return v.Redirect(w, r, "/mailbox", "Deleted the captured message "+m.ID+".")
}

func (s *Server) deleteAllCaptured(w http.ResponseWriter, r *http.Request, v *view) error {
	if !s.cfg.Capture {
		return errNoSuchPage
	}
	s.flushCaptured(r.Context()) // or a message acknowledged before would appear after
	n, err := s.cfg.Store.DeleteCaptured(r.Context(), v.captureFilter())
	if err != nil {
		return err
	}
	return v.Redirect(w, r, "/mailbox", "Deleted "+strconv.Itoa(n)+" captured message"+map[bool]string{true: "", false: "s"}[n == 1]+".")
}

// byteSize is n as a person reads it: 812 B, 4.1 KB, 2.3 MB.
func byteSize(n int) string {
	switch {
	case n < 1000:
		return strconv.Itoa(n) + " B"
	case n < 1000*1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + " KB"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
}
