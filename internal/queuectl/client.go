package queuectl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"sesame/internal/spool"
)

// Dial returns the queue of the server whose control socket is at path.
// It connects on each call.
func Dial(path string) Queue {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &remote{c: &http.Client{Transport: tr}, tr: tr}
}

type remote struct {
	c  *http.Client
	tr *http.Transport
}

func (q *remote) List(ctx context.Context) ([]Message, error) {
	var ms []Message
	return ms, q.do(ctx, http.MethodGet, "/queue", &ms)
}

func (q *remote) Show(ctx context.Context, id string) (Detail, error) {
	var d Detail
	return d, q.do(ctx, http.MethodGet, "/queue/"+url.PathEscape(id), &d)
}

func (q *remote) Retry(ctx context.Context, id string) error {
	return q.do(ctx, http.MethodPost, "/queue/"+url.PathEscape(id)+"/retry", nil)
}

func (q *remote) RetryAll(ctx context.Context) (int, error) {
	var c counted
	return c.Retried, q.do(ctx, http.MethodPost, "/queue/retry", &c)
}

// Delete deletes each id, reporting the ones not queued after trying all.
func (q *remote) Delete(ctx context.Context, ids ...string) error {
	var errs []error
	for _, id := range ids {
		errs = append(errs, q.do(ctx, http.MethodDelete, "/queue/"+url.PathEscape(id), nil))
	}
	return errors.Join(errs...)
}

func (q *remote) Close() error {
	q.tr.CloseIdleConnections()
	return nil
}

func (q *remote) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://sesame"+path, nil)
	if err != nil {
		return err
	}
	resp, err := q.c.Do(req)
	if err != nil {
		return fmt.Errorf("queue: control socket: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return fmt.Errorf("queue: control socket: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		if resp.StatusCode == http.StatusNotFound {
			ids := strings.TrimPrefix(e.Error, spool.ErrNotPending.Error()+": ")
			return fmt.Errorf("%w: %s", spool.ErrNotPending, ids)
		}
		return fmt.Errorf("queue: server: %s", e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("queue: control socket answer: %w", err)
	}
	return nil
}
