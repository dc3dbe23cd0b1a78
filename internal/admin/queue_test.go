package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/queuectl"
	"sesame/internal/seserr"
	"sesame/internal/spool"
)

func queueMessage(t *testing.T, sp *spool.Spool, id string) {
	t.Helper()
	d, err := sp.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(d, "From: a@example.com\r\nSubject: hello\r\n  "+id+"\r\nTo: b@example.net\r\n\r\nbody\r\n")
	env := &spool.Envelope{ID: id, AccountID: "111122223333", Region: "us-east-1", MailFrom: "a@example.com",
		Recipients: []string{"b@example.net"}, Received: time.Now().UTC(), Via: "smtp"}
	if err := sp.Append(context.Background(), env, []byte("Received: by test\r\n"), d); err != nil {
		t.Fatal(err)
	}
}

// TestQueueCommands runs the queue commands against a live control socket,
// then against the stopped server's spool directory.
func TestQueueCommands(t *testing.T) {
	f := newFixture(t, 1)
	data := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sp, err := spool.Open(filepath.Join(data, "spool"), spool.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"m1", "m2", "m3"} {
		queueMessage(t, sp, id)
	}
	es, err := sp.Claim(ctx, 3)
	if err != nil || len(es) != 3 {
		t.Fatal(es, err)
	}
	next := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for _, id := range []string{"m1", "m2"} {
		if err := sp.Defer(ctx, id, spool.DeliveryState{Attempts: 2, NextAttempt: next, LastError: "451 try later"}); err != nil {
			t.Fatal(err)
		}
	}
	sp.Release("m3")
	sock := filepath.Join(data, queuectl.SocketName)
	srv, err := queuectl.Listen(sock, sp, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket mode: %v, %v", fi.Mode(), err)
	}
	stopped := false
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := RunWith(ctx, f.st, Options{Regions: regions, Queue: func(ctx context.Context) (queuectl.Queue, error) {
			return queuectl.Open(ctx, data, quiet)
		}}, args, &out)
		return out.String(), err
	}
	list := func() map[string]queuectl.Message {
		t.Helper()
		out, err := run("queue", "list")
		if err != nil {
			t.Fatal(err)
		}
		var ms []queuectl.Message
		if err := json.Unmarshal([]byte(out), &ms); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		got := map[string]queuectl.Message{}
		for _, m := range ms {
			got[m.ID] = m
		}
		return got
	}
	for _, phase := range []string{"live server", "stopped server"} {
		t.Run(phase, func(t *testing.T) {
			ms := list()
			m1 := ms["m1"]
			if len(ms) != 3 || m1.Attempts != 2 || m1.LastError != "451 try later" || m1.NextAttempt == nil ||
				!m1.NextAttempt.Equal(next) || m1.Account != "111122223333" || m1.Size == 0 ||
				!slices.Equal(m1.Recipients, []string{"b@example.net"}) || ms["m3"].NextAttempt != nil ||
				m1.Active || ms["m3"].Active {
				t.Fatalf("queue list: %+v", ms)
			}
			out, err := run("queue", "show", "m1")
			if err != nil {
				t.Fatal(err)
			}
			var d queuectl.Detail
			json.Unmarshal([]byte(out), &d)
			want := []string{"Received: by test", "From: a@example.com", "Subject: hello m1", "To: b@example.net"}
			if !slices.Equal(d.Headers, want) || d.Via != "smtp" {
				t.Fatalf("queue show: headers %q, via %q", d.Headers, d.Via)
			}
			if _, err := run("queue", "show", "nope"); !errors.Is(err, spool.ErrNotPending) {
				t.Errorf("show of an unknown id: %v", err)
			}
			if stopped {
				return
			}
			if out, err := run("queue", "retry", "m1"); err != nil || !strings.Contains(out, `"retried": 1`) {
				t.Fatalf("queue retry: %s, %v", out, err)
			}
			if e, _ := sp.Entry("m1"); !e.State.NextAttempt.IsZero() || e.State.Attempts != 2 {
				t.Errorf("m1 after retry: %+v", e.State)
			}
			if _, err := run("queue", "retry"); err == nil {
				t.Error("retry without an id or --all accepted")
			}
			if _, err := run("queue", "delete", "m3", "nope"); !errors.Is(err, spool.ErrNotPending) {
				t.Errorf("delete of an unknown id: %v", err)
			}
			if _, ok := sp.Entry("m3"); ok {
				t.Error("m3 still queued after delete")
			}
			// Back to three for the stopped server's turn.
			queueMessage(t, sp, "m3")
			sp.Defer(ctx, "m1", spool.DeliveryState{Attempts: 2, NextAttempt: next, LastError: "451 try later"})
			srv.Close()
			sp.Close()
			stopped = true
		})
	}
	if out, err := run("queue", "retry", "--all"); err != nil || !strings.Contains(out, `"retried": 2`) {
		t.Fatalf("queue retry --all: %s, %v", out, err)
	}
	if out, err := run("queue", "delete", "m1", "m2"); err != nil || !strings.Contains(out, `"deleted": 2`) {
		t.Fatalf("queue delete: %s, %v", out, err)
	}
	if ms := list(); len(ms) != 1 || ms["m3"].ID != "m3" || ms["m3"].NextAttempt != nil {
		t.Fatalf("after retry --all and delete: %+v", ms)
	}
}

// TestSpoolAdopt runs `spool adopt` against a live control socket, then
// against the stopped server's spool directory: it prints what it moved,
// and refuses a directory in use, one that is not a spool and the server's
// own spool with their texts.
func TestSpoolAdopt(t *testing.T) {
	data := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(dir string) *spool.Spool {
		t.Helper()
		sp, err := spool.Open(dir, spool.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	own := filepath.Join(data, "spool")
	live := open(own)
	srv, err := queuectl.Listen(filepath.Join(data, queuectl.SocketName), live, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := RunWith(context.Background(), nil, Options{Queue: func(ctx context.Context) (queuectl.Queue, error) {
			return queuectl.Open(ctx, data, quiet)
		}}, args, &out)
		return out.String(), err
	}
	dead := []string{filepath.Join(t.TempDir(), "spool"), filepath.Join(t.TempDir(), "spool")}
	for i, dir := range dead {
		sp := open(dir)
		queueMessage(t, sp, fmt.Sprintf("d%d-1", i))
		queueMessage(t, sp, fmt.Sprintf("d%d-2", i))
		sp.Close()
	}
	busyDir := filepath.Join(t.TempDir(), "spool")
	busy := open(busyDir)
	defer busy.Close()
	for _, phase := range []string{"live server", "stopped server"} {
		dir := dead[0]
		if phase == "stopped server" {
			dir = dead[1]
		}
		out, err := run("spool", "adopt", dir)
		var got queuectl.Adopted
		if err != nil || json.Unmarshal([]byte(out), &got) != nil || got != (queuectl.Adopted{Adopted: 2, Source: dir}) {
			t.Fatalf("%s: spool adopt: %s, %v", phase, out, err)
		}
		for _, tc := range []struct {
			dir  string
			want error
		}{
			{busyDir, seserr.SpoolInUse},
			{t.TempDir(), seserr.SpoolNotASpool},
			{own, seserr.SpoolIsOwn},
		} {
			if _, err := run("spool", "adopt", tc.dir); err == nil || !strings.Contains(err.Error(), tc.want.Error()) {
				t.Errorf("%s: adopt %s: %v, want %q", phase, tc.dir, err, tc.want)
			}
		}
		if _, err := run("spool", "adopt"); err == nil {
			t.Errorf("%s: adopt without DIR accepted", phase)
		}
		if phase == "live server" {
			if n := live.Len(); n != 2 {
				t.Fatalf("live spool holds %d, want 2", n)
			}
			srv.Close()
			live.Close()
		}
	}
	live = open(own)
	defer live.Close()
	if n := live.Len(); n != 4 {
		t.Errorf("spool holds %d after both adoptions, want 4", n)
	}
}
