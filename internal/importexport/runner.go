// Package importexport runs SES v2's import and export jobs: it reads a
// CSV or JSON object from the operator's S3-compatible store into the
// suppression list or a contact list, and writes message insights and
// metrics (from sesame's event records) to it. Jobs are rows in the store
// and run in the background, a few at a time; a job that was CREATED or
// PROCESSING when sesame stopped runs again from the start at the next
// start (an import's PUT and DELETE may be repeated, an export rewrites its
// object). In a cluster each job is claimed by the node that runs it (the
// one it was created on), renewed while it runs; a node claims and runs
// again the jobs whose claims ran out, so a dead node's jobs move to
// another within ClaimTTL.
//
// It never reaches AWS: without a configured endpoint there is no runner,
// and it talks to that endpoint only.
package importexport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"sesame/internal/clock"
	"sesame/internal/objstore"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Store is what the jobs need of the store.
type Store interface {
	CreateDataJob(ctx context.Context, j store.DataJob) error
	UpdateDataJob(ctx context.Context, accountID, region, kind, id string, fn func(*store.DataJob) error) (store.DataJob, error)
	ClaimDataJobs(ctx context.Context, holder string, now time.Time, ttl time.Duration) ([]store.DataJob, error)
	RenewDataJobClaims(ctx context.Context, holder string, now time.Time, ttl time.Duration) (map[string]bool, error)

	PutSuppressedDestination(ctx context.Context, d store.SuppressedDestination) error
	DeleteSuppressedDestination(ctx context.Context, accountID, region, addr string) error

	ContactList(ctx context.Context, accountID, region, name string) (store.ContactList, error)
	CreateContact(ctx context.Context, c store.Contact, fill func(*store.Contact, store.ContactList) error) error
	UpdateContact(ctx context.Context, accountID, region, list, email string, fn func(*store.Contact, store.ContactList) error) (store.Contact, error)
	DeleteContact(ctx context.Context, accountID, region, list, email string) error

	AccountEvents(ctx context.Context, accountID, region string, start, end time.Time, afterSeq int64, limit int) ([]store.OutboxEvent, error)
	MessageEvents(ctx context.Context, accountID, region, messageID string) ([]store.OutboxEvent, error)
}

// Config wires a Runner.
type Config struct {
	Store  Store
	S3     objstore.Config
	Clock  clock.Clock
	Logger *slog.Logger
	// Concurrency is how many jobs run at once (default 2).
	Concurrency int
	// Holder names this node in the jobs' claims (lease.NodeID: the same
	// after a restart, so a node takes its own jobs back at once).
	Holder string
	// ClaimTTL is how long a claim lasts unrenewed (default a minute): how
	// long a dead node's jobs wait for another node.
	ClaimTTL time.Duration
}

// Runner creates and runs jobs.
type Runner struct {
	cfg  Config
	st   Store
	obj  *objstore.Store
	clk  clock.Clock
	log  *slog.Logger
	slot chan struct{}

	ctx    context.Context // ends at Close
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	cancel map[string]context.CancelFunc // running jobs by id
}

// New returns a runner; Start resumes the jobs a previous run left.
func New(cfg Config) *Runner {
	r := &Runner{cfg: cfg, st: cfg.Store, clk: cfg.Clock, log: cfg.Logger, cancel: map[string]context.CancelFunc{}}
	if cfg.S3.Endpoint != "" {
		r.obj = objstore.New(cfg.S3)
	}
	if r.clk == nil {
		r.clk = clock.Real{}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = 2
	}
	r.slot = make(chan struct{}, n)
	if r.cfg.ClaimTTL <= 0 {
		r.cfg.ClaimTTL = time.Minute
	}
	r.ctx, r.stop = context.WithCancel(context.Background())
	return r
}

// Enabled: an object store is configured, so jobs can be created and run.
// A runner without one refuses to create jobs, and leaves the jobs it
// finds unfinished as they are until one is configured.
func (r *Runner) Enabled() bool { return r.obj != nil }

// Start runs again every job left CREATED or PROCESSING that no other
// node runs, and then, until Close, renews the claims of the jobs running
// here and takes over those whose node stopped renewing.
func (r *Runner) Start(ctx context.Context) error {
	if !r.Enabled() {
		return nil
	}
	if err := r.claim(ctx); err != nil {
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(r.cfg.ClaimTTL / 3):
			}
			r.renew(r.ctx)
			if err := r.claim(r.ctx); err != nil && r.ctx.Err() == nil {
				r.log.Warn("import/export: claiming jobs", "err", err)
			}
		}
	}()
	return nil
}

// claim runs the unfinished jobs nobody else runs.
func (r *Runner) claim(ctx context.Context) error {
	jobs, err := r.st.ClaimDataJobs(ctx, r.cfg.Holder, r.clk.Now(), r.cfg.ClaimTTL)
	if err != nil {
		return fmt.Errorf("importexport: resume: %w", err)
	}
	for _, j := range jobs {
		r.mu.Lock()
		_, running := r.cancel[j.ID]
		r.mu.Unlock()
		if running {
			continue
		}
		r.log.Info("import/export job resumed", "job", j.ID, "kind", j.Kind, "account", j.AccountID, "was", j.Status)
		r.run(j)
	}
	return nil
}

// renew extends the claims of the jobs running here; one another node
// claimed meanwhile (this node could not renew in time) stops here.
func (r *Runner) renew(ctx context.Context) {
	// Only jobs running before the renewal are judged by it: one created
	// meanwhile may have been committed after it looked.
	r.mu.Lock()
	before := map[string]context.CancelFunc{}
	for id, stop := range r.cancel {
		before[id] = stop
	}
	r.mu.Unlock()
	held, err := r.st.RenewDataJobClaims(ctx, r.cfg.Holder, r.clk.Now(), r.cfg.ClaimTTL)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("import/export: renewing job claims", "err", err)
		}
		return
	}
	for id, stop := range before {
		if !held[id] {
			r.log.Info("import/export job finished, cancelled or claimed elsewhere; stopped here", "job", id)
			stop()
		}
	}
}

// Close stops the running jobs (they stay PROCESSING, to run again at the
// next start) and waits for them.
func (r *Runner) Close() {
	r.stop()
	r.wg.Wait()
}

// CreateImport checks req, keeps it as a new job and starts it; it
// returns the job's id.
func (r *Runner) CreateImport(ctx context.Context, accountID, region string, req ImportRequest) (string, error) {
	if err := req.Validate(); err != nil {
		return "", err
	}
	if !r.Enabled() {
		return "", seserr.NoObjectStore()
	}
	if c := req.ImportDestination.ContactListDestination; c != nil {
		if _, err := r.st.ContactList(ctx, accountID, region, c.ContactListName); errors.Is(err, store.ErrNotFound) {
			return "", seserr.ContactListDoesNotExist(c.ContactListName)
		} else if err != nil {
			return "", err
		}
	}
	return r.create(ctx, accountID, region, store.JobImport, req.Type(), req)
}

// CreateExport checks req, keeps it as a new job and starts it.
func (r *Runner) CreateExport(ctx context.Context, accountID, region string, req ExportRequest) (string, error) {
	if err := req.Validate(); err != nil {
		return "", err
	}
	if !r.Enabled() {
		return "", seserr.NoObjectStore()
	}
	return r.create(ctx, accountID, region, store.JobExport, req.Type(), req)
}

func (r *Runner) create(ctx context.Context, accountID, region, kind, typ string, req any) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("importexport: %w", err)
	}
	j := store.DataJob{AccountID: accountID, Region: region, ID: uuid.NewString(), Kind: kind, Type: typ,
		Request: b, Status: store.JobCreated, Created: r.clk.Now(),
		ClaimedBy: r.cfg.Holder, ClaimedUntil: r.clk.Now().Add(r.cfg.ClaimTTL)}
	if err := r.st.CreateDataJob(ctx, j); err != nil {
		return "", err
	}
	r.run(j)
	return j.ID, nil
}

// CancelExport cancels an export job that has not finished
// (CancelExportJob).
func (r *Runner) CancelExport(ctx context.Context, accountID, region, id string) error {
	_, err := r.st.UpdateDataJob(ctx, accountID, region, store.JobExport, id, func(j *store.DataJob) error {
		if j.Finished() {
			return seserr.ExportJobNotCancellable(id, j.Status)
		}
		j.Status, j.Completed = store.JobCancelled, r.clk.Now()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return seserr.ExportJobNotFound(id)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	if stop := r.cancel[id]; stop != nil {
		stop()
	}
	r.mu.Unlock()
	return nil
}

// ObjectURL is an HTTP(S) URL that reads the object at an s3:// location
// for a while (the failed records of an import, an export's output).
func (r *Runner) ObjectURL(ctx context.Context, s3url string) (string, error) {
	l, err := ParseS3URL(s3url, false)
	if err != nil {
		return "", err
	}
	if !r.Enabled() {
		return s3url, nil
	}
	return r.obj.URL(ctx, l.Bucket, l.Key, presignFor)
}

// run starts j in the background, once a slot is free.
func (r *Runner) run(j store.DataJob) {
	ctx, stop := context.WithCancel(r.ctx)
	r.mu.Lock()
	r.cancel[j.ID] = stop
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.cancel, j.ID)
			r.mu.Unlock()
			stop()
		}()
		select {
		case r.slot <- struct{}{}:
			defer func() { <-r.slot }()
		case <-ctx.Done():
			return
		}
		r.process(ctx, j)
	}()
}

// progress is what a job reports as it ends.
type progress struct {
	processed, failed, exported int64
	object                      string // s3:// of what the job wrote (failed records, the export)
	errMessage                  string // the job FAILED
}

func (r *Runner) process(ctx context.Context, j store.DataJob) {
	log := r.log.With("job", j.ID, "kind", j.Kind, "type", j.Type, "account", j.AccountID, "region", j.Region)
	j, err := r.st.UpdateDataJob(ctx, j.AccountID, j.Region, j.Kind, j.ID, func(cur *store.DataJob) error {
		if cur.Finished() {
			return errFinished
		}
		cur.Status, cur.Processed, cur.Failed, cur.Exported = store.JobProcessing, 0, 0, 0
		return nil
	})
	if err != nil {
		if !errors.Is(err, errFinished) && ctx.Err() == nil {
			log.Error("import/export job could not start", "err", err)
		}
		return
	}
	var p progress
	if j.Kind == store.JobImport {
		p, err = r.runImport(ctx, j)
	} else {
		p, err = r.runExport(ctx, j)
	}
	if ctx.Err() != nil {
		// Cancelled (the store says so already) or sesame is stopping
		// (the job runs again at the next start).
		log.Info("import/export job stopped", "err", ctx.Err())
		return
	}
	if err != nil {
		log.Error("import/export job failed", "err", err)
		if p.errMessage == "" {
			// A failure the job did not describe (the store, say) is
			// still a failure: never COMPLETED with what it did not do.
			p.errMessage = seserr.JobFailedInSesame
		}
	}
	status := store.JobCompleted
	if p.errMessage != "" {
		status = store.JobFailed
	}
	_, err = r.st.UpdateDataJob(context.WithoutCancel(ctx), j.AccountID, j.Region, j.Kind, j.ID, func(cur *store.DataJob) error {
		if cur.Finished() {
			return errFinished // cancelled meanwhile: that answer stands
		}
		cur.Status, cur.Completed = status, r.clk.Now()
		cur.Processed, cur.Failed, cur.Exported = p.processed, p.failed, p.exported
		cur.Object, cur.ErrorMessage = p.object, p.errMessage
		return nil
	})
	if err != nil && !errors.Is(err, errFinished) {
		log.Error("import/export job: record the end", "err", err)
		return
	}
	log.Info("import/export job finished", "status", status, "processed", p.processed, "failed", p.failed, "exported", p.exported)
}

var errFinished = errors.New("job finished")
