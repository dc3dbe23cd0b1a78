package listmgmt

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Store is what the endpoint needs of the store.
type Store interface {
	Contact(ctx context.Context, accountID, region, list, email string) (store.Contact, store.ContactList, error)
	CreateContact(ctx context.Context, c store.Contact, fill func(*store.Contact, store.ContactList) error) error
	UpdateContact(ctx context.Context, accountID, region, list, email string, fn func(*store.Contact, store.ContactList) error) (store.Contact, error)
}

// Sources of a change, as a Subscription record's source says. SES's
// example record shows UnsubscribeHeader (the one-click POST); the
// preference page's value is undocumented [?].
const (
	SourceHeader = "UnsubscribeHeader"
	SourceLink   = "UnsubscribeLink"
)

// Change is one change of a contact's subscription made through a link.
type Change struct {
	Token    Token // the link used: its message's configuration set gets the event
	Source   string
	List     store.ContactList
	Old, New Preferences
	Time     time.Time
}

// Preferences are a contact's effective subscription: unsubscribed from
// all, and each topic of the list opted in or out (its own choice, else
// the topic's default).
type Preferences struct {
	UnsubscribeAll bool
	Topics         []TopicStatus
}

// TopicStatus is one topic's effective status.
type TopicStatus struct {
	Topic  store.Topic
	OptIn  bool
	Chosen bool // the contact's own choice, not the default
}

// Sink keeps a change as a Subscription event (events.Subscriptions).
type Sink interface {
	Subscription(ctx context.Context, c Change) error
}

// Handler serves Path: RFC 8058's one-click POST, the preference page
// (GET) and the page's form (POST). It needs no cookie and no login: the
// signed token in the URL is the authority, as in SES.
type Handler struct {
	Links  *Links
	Store  Store
	Sink   Sink // nil: changes are kept, no event
	Now    func() time.Time
	Logger *slog.Logger
}

// maxForm bounds a POST body: the form has at most 20 topics.
const maxForm = 16 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, err := h.Links.Parse(r.URL.Query().Get("t"))
	if err != nil {
		h.fail(w, seserr.UnsubscribeLinkInvalid())
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.page(w, r, t, "")
	case http.MethodPost:
		h.post(w, r, t)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

// post is the one-click unsubscribe (RFC 8058 §3.2: the body is exactly
// "List-Unsubscribe=One-Click", form-encoded; it unsubscribes from the
// link's topic, or from the whole list without one) or the preference
// form (action=save with the topics kept, or action=unsubscribe_all).
func (h *Handler) post(w http.ResponseWriter, r *http.Request, t Token) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
	if err != nil || len(body) > maxForm {
		h.fail(w, seserr.UnsubscribeBadRequest())
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.fail(w, seserr.UnsubscribeBadRequest())
		return
	}
	var edit func(*store.Contact, store.ContactList)
	source, done := SourceLink, seserr.PreferencesSavedText
	switch {
	case form.Get("List-Unsubscribe") == "One-Click":
		source, done = SourceHeader, seserr.UnsubscribedText
		edit = func(c *store.Contact, _ store.ContactList) {
			if t.Topic == "" {
				c.UnsubscribeAll = true
				return
			}
			c.Preferences = setPreference(c.Preferences, t.Topic, "OPT_OUT")
		}
	case form.Get("action") == "unsubscribe_all":
		done = seserr.UnsubscribedText
		edit = func(c *store.Contact, _ store.ContactList) { c.UnsubscribeAll = true }
	case form.Get("action") == "save":
		kept := form["topic"]
		edit = func(c *store.Contact, l store.ContactList) {
			c.UnsubscribeAll = form.Get("unsubscribe_all") != ""
			for _, tp := range l.Topics {
				status := "OPT_OUT"
				if slices.Contains(kept, tp.Name) {
					status = "OPT_IN"
				}
				c.Preferences = setPreference(c.Preferences, tp.Name, status)
			}
		}
	default:
		h.fail(w, seserr.UnsubscribeBadRequest())
		return
	}
	if err := h.change(r.Context(), t, source, edit); err != nil {
		h.failErr(w, err)
		return
	}
	if source == SourceHeader {
		// A mailbox provider's POST: a short answer is all it reads.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, done+"\n")
		return
	}
	h.page(w, r, t, done)
}

// change applies edit to the token's contact in one store transaction and
// hands the change to the Sink. A recipient who is not (or no longer) a
// contact of the list becomes one, with the change made: the next send
// with this list must skip them all the same.
func (h *Handler) change(ctx context.Context, t Token, source string, edit func(*store.Contact, store.ContactList)) error {
	now := h.now()
	var old, cur store.Contact
	var list store.ContactList
	fn := func(c *store.Contact, l store.ContactList) error {
		old, list = *c, l
		old.Preferences = slices.Clone(c.Preferences)
		edit(c, l)
		c.Updated = now
		cur = *c
		return nil
	}
	_, err := h.Store.UpdateContact(ctx, t.AccountID, t.Region, t.List, t.Email, fn)
	if errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrNoContactList) {
		err = h.Store.CreateContact(ctx, store.Contact{AccountID: t.AccountID, Region: t.Region, List: t.List,
			Email: t.Email, Created: now}, fn)
		if errors.Is(err, store.ErrExists) { // made by a concurrent request: change it instead
			_, err = h.Store.UpdateContact(ctx, t.AccountID, t.Region, t.List, t.Email, fn)
		}
	}
	if err != nil {
		return err
	}
	c := Change{Token: t, Source: source, List: list, Old: Effective(old, list), New: Effective(cur, list), Time: now}
	if h.Sink == nil || (c.Old.UnsubscribeAll == c.New.UnsubscribeAll && slices.Equal(c.Old.Topics, c.New.Topics)) {
		return nil
	}
	if err := h.Sink.Subscription(ctx, c); err != nil {
		// The preference is kept (it is what the recipient asked for);
		// only the event is missing, and the log says so.
		h.logger().Error("listmgmt: recording a Subscription event", "list", t.List, "message", t.MessageID, "err", err)
	}
	return nil
}

func setPreference(prefs []store.TopicPreference, topic, status string) []store.TopicPreference {
	for i := range prefs {
		if prefs[i].Topic == topic {
			prefs[i].Status = status
			return prefs
		}
	}
	return append(prefs, store.TopicPreference{Topic: topic, Status: status})
}

// Effective is c's subscription to each topic of l.
func Effective(c store.Contact, l store.ContactList) Preferences {
	p := Preferences{UnsubscribeAll: c.UnsubscribeAll}
	for _, tp := range l.Topics {
		ts := TopicStatus{Topic: tp, OptIn: tp.DefaultStatus == "OPT_IN"}
		for _, own := range c.Preferences {
			if own.Topic == tp.Name {
				ts.OptIn, ts.Chosen = own.Status == "OPT_IN", true
			}
		}
		p.Topics = append(p.Topics, ts)
	}
	return p
}

// Unsubscribed reports whether c must not get mail sent with list l and
// topic ("" = the list as a whole): unsubscribed from all, or from that
// topic (its own OPT_OUT, or the topic's OPT_OUT default without an
// OPT_IN of its own).
func Unsubscribed(c store.Contact, l store.ContactList, topic string) bool {
	if c.UnsubscribeAll {
		return true
	}
	if topic == "" {
		return false
	}
	for _, ts := range Effective(c, l).Topics {
		if ts.Topic.Name == topic {
			return !ts.OptIn
		}
	}
	return false
}

// page shows the preference page: the list's topics as checkboxes, a form
// that saves them, and "unsubscribe from all".
func (h *Handler) page(w http.ResponseWriter, r *http.Request, t Token, notice string) {
	c, l, err := h.Store.Contact(r.Context(), t.AccountID, t.Region, t.List, t.Email)
	if errors.Is(err, store.ErrNoContactList) {
		h.fail(w, seserr.UnsubscribeListGone())
		return
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.failErr(w, err)
		return
	}
	c.Email = t.Email // a recipient who is not a contact sees the defaults
	data := pageData{Notice: notice, Email: t.Email, List: l, Prefs: Effective(c, l), Action: r.URL.RequestURI()}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, data); err != nil {
		h.logger().Warn("listmgmt: writing the preference page", "err", err)
	}
}

type pageData struct {
	Notice string
	Email  string
	List   store.ContactList
	Prefs  Preferences
	Action string
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Subscription preferences</title></head>
<body>
<h1>Subscription preferences</h1>
{{if .Notice}}<p id="notice">{{.Notice}}</p>{{end}}
<p>For <strong>{{.Email}}</strong> on the list <strong>{{.List.Name}}</strong>{{if .List.Description}}: {{.List.Description}}{{end}}.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="action" value="save">
{{range .Prefs.Topics}}<p><label><input type="checkbox" name="topic" value="{{.Topic.Name}}"{{if .OptIn}} checked{{end}}> {{if .Topic.DisplayName}}{{.Topic.DisplayName}}{{else}}{{.Topic.Name}}{{end}}</label>{{if .Topic.Description}}<br><small>{{.Topic.Description}}</small>{{end}}</p>
{{end}}<p><label><input type="checkbox" name="unsubscribe_all" value="on"{{if .Prefs.UnsubscribeAll}} checked{{end}}> Unsubscribe from all</label></p>
<p><button type="submit">Save preferences</button></p>
</form>
<form method="post" action="{{.Action}}">
<input type="hidden" name="action" value="unsubscribe_all">
<p><button type="submit">Unsubscribe from all</button></p>
</form>
</body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body><h1>Unsubscribe</h1><p id="error">{{.}}</p></body></html>
`))

// fail answers e as a small page with e's status.
func (h *Handler) fail(w http.ResponseWriter, e *seserr.Error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.HTTPStatus)
	if err := errorTemplate.Execute(w, e.Message); err != nil {
		h.logger().Warn("listmgmt: writing an error page", "err", err)
	}
}

// failErr answers a store failure: the list gone, or a 503 (logged) that
// a mailbox provider retries.
func (h *Handler) failErr(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNoContactList) {
		h.fail(w, seserr.UnsubscribeListGone())
		return
	}
	h.logger().Error("listmgmt: changing a subscription", "err", err)
	e := seserr.TemporaryFailure()
	e.HTTPStatus = http.StatusServiceUnavailable
	h.fail(w, e)
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}
