package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"sesame/internal/seserr"
)

// view is what every page template gets: the frame's facts (session,
// region, flash, error) and the page's own Data. Handlers use its methods
// to answer: Render, Fragment, Redirect, and the SDK clients (clients.go).
type view struct {
	s       *Server
	remote  string
	Title   string
	Nav     string // the navigation entry to highlight
	Region  string // "" on operator and sign-in pages
	Regions []string
	Session *session
	CSRF    string
	Flash   string
	Error   string // shown above the page's content
	Capture bool   // capture mode: the mailbox is in the navigation
	Path    string // the page's path below /{region}, for the region switcher
	Data    any
}

func (s *Server) newView(r *http.Request, sess *session, region string) *view {
	v := &view{s: s, remote: r.RemoteAddr, Region: region, Regions: s.cfg.Regions, Session: sess,
		CSRF: sess.CSRF, Flash: sess.takeFlash(), Capture: s.cfg.Capture}
	if region != "" {
		v.Path = strings.TrimPrefix(r.URL.Path, "/"+region)
	}
	return v
}

// URL is p below the view's region ("/identities" → "/us-east-1/identities").
func (v *view) URL(p string) string {
	if v.Region == "" {
		return p
	}
	return "/" + v.Region + p
}

// Render answers with the page's whole HTML (status 200).
func (v *view) Render(w http.ResponseWriter, page, title string, data any) error {
	return v.RenderStatus(w, http.StatusOK, page, title, data)
}

// RenderStatus is Render with a status: a form shown again with its error.
// A refused form (a 4xx error: SES's validation, a name taken) answers 200,
// as Django's and Rails' re-rendered forms do: the page is the form, shown
// as asked, with SES's error in it — a 4xx page load would also be an
// error in the browser's console. sesame's own failures (5xx) keep their
// status.
func (v *view) RenderStatus(w http.ResponseWriter, status int, page, title string, data any) error {
	if status >= 400 && status < 500 {
		status = http.StatusOK
	}
	v.Title, v.Data = title, data
	if v.Nav == "" {
		v.Nav = page
	}
	v.s.pages.render(w, status, page, v)
	return nil
}

// Fragment answers with one named template of the page (an htmx swap).
func (v *view) Fragment(w http.ResponseWriter, page, name string, data any) error {
	v.Data = data
	v.s.pages.fragment(w, http.StatusOK, page, name, v)
	return nil
}

// Redirect sends the browser to p below the region (after a POST), with a
// message for the next page; htmx requests follow HX-Redirect.
func (v *view) Redirect(w http.ResponseWriter, r *http.Request, p, flash string) error {
	if flash != "" {
		v.Session.setFlash(flash)
	}
	target := v.URL(p)
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// pages is every page template, each parsed with the layout and the
// shared partials (files starting with "_").
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"time": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if t == nil || t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return fmt.Sprint(t)
	},
	"json": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err.Error()
		}
		return string(b)
	},
	"deref": func(v any) any {
		switch p := v.(type) {
		case *string:
			if p == nil {
				return ""
			}
			return *p
		case *int32:
			if p == nil {
				return int32(0)
			}
			return *p
		case *int64:
			if p == nil {
				return int64(0)
			}
			return *p
		case *bool:
			return p != nil && *p
		case *float64:
			if p == nil {
				return 0.0
			}
			return *p
		}
		return v
	},
	"percent": func(f float64) string { return fmt.Sprintf("%.2f%%", f*100) },
	"join":    strings.Join,
	"lower":   strings.ToLower,
	"str":     func(v any) string { return fmt.Sprint(v) },
}

func parsePages() (*pages, error) {
	base := template.New("").Funcs(funcs)
	names, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") || path.Base(n) == "layout.html" {
			if base, err = base.ParseFS(webFS, n); err != nil {
				return nil, fmt.Errorf("console: template %s: %w", n, err)
			}
		}
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		b := path.Base(n)
		if strings.HasPrefix(b, "_") || b == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(webFS, n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", n, err)
		}
		p.byName[strings.TrimSuffix(b, ".html")] = t
	}
	return p, nil
}

func (p *pages) render(w http.ResponseWriter, status int, page string, v *view) {
	p.execute(w, status, page, "layout", v)
}

func (p *pages) fragment(w http.ResponseWriter, status int, page, name string, v *view) {
	p.execute(w, status, page, name, v)
}

// execute renders into a buffer first: a template error becomes a clean
// 500, not half a page.
func (p *pages) execute(w http.ResponseWriter, status int, page, name string, v *view) {
	t := p.byName[page]
	if t == nil {
		http.Error(w, "console: no page "+page, http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, v); err != nil {
		if v.s != nil {
			v.s.log.Error("console: render", "page", page, "template", name, "err", err)
		}
		http.Error(w, "console: the page could not be shown (the server's log says why)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// renderError answers a request that reached no page (no session, a bad
// token, an unknown page) with a page of its own.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, e *seserr.Error) {
	v := &view{s: s, Title: http.StatusText(status), Error: e.Message}
	if sess := s.sessions.get(r); sess != nil {
		v.Session, v.CSRF, v.Regions = sess, sess.CSRF, s.cfg.Regions
		if !sess.Operator {
			v.Region = s.cfg.Regions[0]
		}
	}
	s.pages.render(w, status, "error", v)
}

// renderFailure shows a handler's error in the page's place, in SES's
// words; the log gets the cause of sesame's own failures.
func (s *Server) renderFailure(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status := errorStatus(err)
	if status >= 500 {
		s.log.Error("console: page failed", "path", r.URL.Path, "err", err)
	}
	v.Error = errorText(err)
	if r.Header.Get("HX-Request") != "" {
		v.s.pages.fragment(w, status, "error", "alert", v)
		return
	}
	v.Title = http.StatusText(status)
	s.pages.render(w, status, "error", v)
}
