package tracking

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Engagement is one valid hit with who made it.
type Engagement struct {
	Hit
	IPAddress string
	UserAgent string
	Time      time.Time
}

// Sink records engagements (events.Engagements does: Open and Click
// records). An error is logged; the recipient still gets the pixel or the
// redirect.
type Sink interface {
	Engage(ctx context.Context, e Engagement) error
}

// Handler serves the tracking URLs: GET (or HEAD) of a pixel URL answers a
// 1×1 transparent GIF, of a link URL a 302 to the link's target; a URL
// that does not verify is a 404. Mount it at the root of its listener, or
// route IsTrackingPath paths of another listener to it.
type Handler struct {
	Links  *Links
	Sink   Sink
	Now    func() time.Time
	Logger *slog.Logger
}

// gif is the smallest transparent 1×1 GIF (43 bytes).
var gif = []byte{
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
	'!', 0xf9, 4, 1, 0, 0, 0, 0, ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 'D', 1, 0, ';',
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hit, err := h.Links.Parse(r.URL.EscapedPath())
	if err != nil {
		http.NotFound(w, r)
		return
	}
	// A prefetching HEAD records nothing: only a real fetch is an open or
	// a click.
	if r.Method == http.MethodGet && h.Sink != nil {
		e := Engagement{Hit: hit, IPAddress: clientIP(r), UserAgent: r.UserAgent(), Time: h.now()}
		if err := h.Sink.Engage(r.Context(), e); err != nil {
			h.logger().Warn("tracking: recording a hit", "message", hit.MessageID, "err", err)
		}
	}
	// Every hit must reach sesame: nothing on the way may keep a copy.
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Expires", "0")
	if hit.Kind == Click {
		http.Redirect(w, r, hit.Link, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "image/gif")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(gif)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// clientIP is the peer's address. Forwarded headers are not trusted: the
// listener faces recipients directly (a proxy in front is the operator's
// to configure, and spoofed addresses would land in event records).
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
