package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// writeLoad does a mix of the writes the server and the admin CLI make.
func writeLoad(ctx context.Context, s *Store, tag string, rounds int) error {
	for i := range rounds {
		if _, _, err := s.CreateAccount(ctx); err != nil {
			return err
		}
		batch := make([]Captured, 20)
		for j := range batch {
			batch[j] = Captured{ID: fmt.Sprintf("%s-%d-%d", tag, i, j), AccountID: "a", Region: "us-east-1",
				MailFrom: "s@example.com", Recipients: []string{"r@example.com"}, Raw: []byte("x"), Outcome: "delivered"}
		}
		if err := s.AddCaptured(ctx, batch); err != nil {
			return err
		}
		if err := s.AddSendCounts(ctx, []SendCount{{AccountID: "a", Region: "us-east-1",
			Minute: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), N: 1}}); err != nil {
			return err
		}
		if err := s.PutIdentity(ctx, Identity{AccountID: "a", Region: "us-east-1", Name: tag + ".example"}); err != nil {
			return err
		}
	}
	return nil
}

func checkLoad(t *testing.T, s *Store, writers, rounds int) {
	t.Helper()
	ctx := context.Background()
	accts, err := s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Captured(ctx, CaptureFilter{})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := s.SendCountsSince(ctx, "a", "us-east-1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(writers * rounds)
	if len(accts) != int(want) || len(msgs) != int(want)*20 || len(counts) != 1 || counts[0].N != want {
		t.Errorf("after %d writers x %d rounds: %d accounts, %d captured, counts %+v; want %d, %d, N=%d",
			writers, rounds, len(accts), len(msgs), counts, want, want*20, want)
	}
}

// Two handles on one data dir stand for the server and `sesame admin`: both
// write at once and neither sees "database is locked".
func TestConcurrentHandlesWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := openTest(t, dir)
	b := openTest(t, dir)
	const rounds = 25
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, s := range []*Store{a, b, a, b} {
		wg.Go(func() { errs <- writeLoad(context.Background(), s, fmt.Sprint("w", i), rounds) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	checkLoad(t, a, 4, rounds)
}

// The same across processes: the test binary re-runs itself as a writer.
func TestConcurrentProcessesWrite(t *testing.T) {
	if dir := os.Getenv("SESAME_STORE_WRITER_DIR"); dir != "" {
		s, err := OpenWith(context.Background(), Options{DataDir: dir, URL: os.Getenv("SESAME_STORE_WRITER_URL")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := writeLoad(context.Background(), s, os.Getenv("SESAME_STORE_WRITER_TAG"), 25); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s.Close()
		os.Exit(0)
	}
	t.Parallel()
	dir := t.TempDir()
	s := openTest(t, dir) // created and migrated before the children race
	child := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcessesWrite$")
	child.Env = append(os.Environ(), "SESAME_STORE_WRITER_DIR="+dir, "SESAME_STORE_WRITER_TAG=child",
		"SESAME_STORE_WRITER_URL="+testOptions(t, dir).URL)
	out := make(chan error, 1)
	go func() {
		b, err := child.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("child writer: %w: %s", err, b)
		}
		out <- err
	}()
	if err := writeLoad(context.Background(), s, "parent", 25); err != nil {
		t.Error(err)
	}
	if err := <-out; err != nil {
		t.Error(err)
	}
	checkLoad(t, s, 2, 25)
}

// Two processes opening a fresh data dir at once agree on one secret.key and
// apply each migration once.
func TestConcurrentFirstOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := testOptions(t, dir)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = OpenWith(context.Background(), opts) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	_, key, err := stores[0].CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		got, err := s.AccessKey(context.Background(), key.ID)
		if err != nil || got.Secret != key.Secret {
			t.Errorf("store %d: AccessKey = %v, %v; want the same secret", i, got.Secret, err)
		}
	}
}
