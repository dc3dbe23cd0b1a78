package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Import and export jobs: what was asked (the request's JSON, which the
// store does not interpret) and how far it got. The job runner
// (internal/importexport) moves a job through its statuses; the API reads
// them.

// Job kinds.
const (
	JobImport = "IMPORT"
	JobExport = "EXPORT"
)

// Job statuses (SES's JobStatus).
const (
	JobCreated    = "CREATED"
	JobProcessing = "PROCESSING"
	JobCompleted  = "COMPLETED"
	JobFailed     = "FAILED"
	JobCancelled  = "CANCELLED"
)

// DataJob is one import or export job.
type DataJob struct {
	AccountID string
	Region    string
	ID        string
	Kind      string // JobImport or JobExport
	Type      string // SUPPRESSION_LIST, CONTACT_LIST, METRICS_DATA, MESSAGE_INSIGHTS
	Request   []byte // JSON, the runner's
	Status    string
	// Processed records; Failed import records; Exported export records.
	Processed, Failed, Exported int64
	// Object is where the job wrote (s3://bucket/key): an import's failed
	// records, an export's file; "" for none.
	Object             string
	ErrorMessage       string // why the job FAILED
	Created, Completed time.Time
	// ClaimedBy is the node running the job until ClaimedUntil (set by
	// CreateDataJob; ClaimDataJobs and RenewDataJobClaims move them).
	ClaimedBy    string
	ClaimedUntil time.Time
}

// Finished: the job will not change again.
func (j DataJob) Finished() bool {
	return j.Status == JobCompleted || j.Status == JobFailed || j.Status == JobCancelled
}

// DataJobQuery selects a page of an account's jobs of one kind, oldest
// first; empty fields select all.
type DataJobQuery struct {
	Kind, Type, Status string
	// After is the position of the last job of the previous page.
	AfterCreated time.Time
	AfterID      string
	Limit        int
}

const dataJobColumns = `account_id, region, job_id, kind, job_type, request, status, processed, failed, exported,
	result_object, error_message, created_at, completed_at`

func scanDataJob(row rowScanner) (DataJob, error) {
	var j DataJob
	var req string
	var created, completed int64
	err := row.Scan(&j.AccountID, &j.Region, &j.ID, &j.Kind, &j.Type, &req, &j.Status, &j.Processed, &j.Failed,
		&j.Exported, &j.Object, &j.ErrorMessage, &created, &completed)
	if err != nil {
		return j, err
	}
	j.Request, j.Created = []byte(req), fromDB(created)
	if completed != 0 {
		j.Completed = fromDB(completed)
	}
	return j, nil
}

func completedDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toDB(t)
}

// CreateDataJob adds a job; its id is a fresh UUID.
func (s *Store) CreateDataJob(ctx context.Context, j DataJob) error {
	_, err := s.writes.ExecContext(ctx, `INSERT INTO import_export_jobs (`+dataJobColumns+`, claimed_by, claimed_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.AccountID, j.Region, j.ID, j.Kind, j.Type, string(j.Request), j.Status, j.Processed, j.Failed, j.Exported,
		j.Object, j.ErrorMessage, toDB(j.Created), completedDB(j.Completed), j.ClaimedBy, completedDB(j.ClaimedUntil))
	if err != nil {
		return fmt.Errorf("store: create job %s of %s in %s: %w", j.ID, j.AccountID, j.Region, err)
	}
	return nil
}

// DataJob looks an account's job of a kind up (ErrNotFound if absent).
func (s *Store) DataJob(ctx context.Context, accountID, region, kind, id string) (DataJob, error) {
	return dataJob(ctx, s.reads, accountID, region, kind, id)
}

func dataJob(ctx context.Context, q querier, accountID, region, kind, id string) (DataJob, error) {
	j, err := scanDataJob(q.QueryRowContext(ctx, `SELECT `+dataJobColumns+` FROM import_export_jobs
		WHERE account_id = ? AND region = ? AND job_id = ? AND kind = ?`, accountID, region, id, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("store: job %s of %s in %s: %w", id, accountID, region, ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("store: job %s of %s in %s: %w", id, accountID, region, err)
	}
	return j, nil
}

// UpdateDataJob changes a job in one transaction: fn sees it as stored and
// changes it, or returns an error that leaves it unchanged.
func (s *Store) UpdateDataJob(ctx context.Context, accountID, region, kind, id string, fn func(*DataJob) error) (DataJob, error) {
	var out DataJob
	err := s.inTx(ctx, "update job "+id, func(tx *sql.Tx) error {
		j, err := dataJob(ctx, tx, accountID, region, kind, id)
		if err != nil {
			return err
		}
		if err := fn(&j); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_export_jobs SET status = ?, processed = ?, failed = ?,
			exported = ?, result_object = ?, error_message = ?, completed_at = ?
			WHERE account_id = ? AND region = ? AND job_id = ?`, j.Status, j.Processed, j.Failed, j.Exported,
			j.Object, j.ErrorMessage, completedDB(j.Completed), accountID, region, id); err != nil {
			return fmt.Errorf("store: update job %s: %w", id, err)
		}
		out = j
		return nil
	})
	return out, err
}

// DataJobs lists a page of an account's jobs, oldest first.
func (s *Store) DataJobs(ctx context.Context, accountID, region string, q DataJobQuery) ([]DataJob, error) {
	query := `SELECT ` + dataJobColumns + ` FROM import_export_jobs WHERE account_id = ? AND region = ? AND kind = ?`
	args := []any{accountID, region, q.Kind}
	if q.Type != "" {
		query += ` AND job_type = ?`
		args = append(args, q.Type)
	}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, q.Status)
	}
	if q.AfterID != "" {
		after := toDB(q.AfterCreated)
		query += ` AND (created_at > ? OR (created_at = ? AND job_id > ?))`
		args = append(args, after, after, q.AfterID)
	}
	query += ` ORDER BY created_at, job_id LIMIT ?`
	args = append(args, q.Limit)
	return s.queryDataJobs(ctx, "jobs of "+accountID, query, args...)
}

// ClaimDataJobs claims for holder, until now+ttl, the unfinished jobs
// nobody runs: whose claim ran out (their node died or stopped) or is
// holder's own (holder restarted), oldest first, and returns them. On
// PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED, so nodes claiming
// at once each get other jobs; SQLite has one writer.
func (s *Store) ClaimDataJobs(ctx context.Context, holder string, now time.Time, ttl time.Duration) ([]DataJob, error) {
	var out []DataJob
	err := s.inTx(ctx, "claim jobs", func(tx *sql.Tx) error {
		q := `SELECT ` + dataJobColumns + ` FROM import_export_jobs
			WHERE status IN (?, ?) AND (claimed_until <= ? OR claimed_by = ?) ORDER BY created_at, job_id`
		if s.pg {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, q, JobCreated, JobProcessing, toDB(now), holder)
		if err != nil {
			return fmt.Errorf("store: claim jobs: %w", err)
		}
		out = out[:0]
		for rows.Next() {
			j, err := scanDataJob(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("store: claim jobs: %w", err)
			}
			j.ClaimedBy, j.ClaimedUntil = holder, now.Add(ttl)
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: claim jobs: %w", err)
		}
		for _, j := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE import_export_jobs SET claimed_by = ?, claimed_until = ?
				WHERE account_id = ? AND region = ? AND job_id = ?`, holder, toDB(j.ClaimedUntil), j.AccountID, j.Region, j.ID); err != nil {
				return fmt.Errorf("store: claim job %s: %w", j.ID, err)
			}
		}
		return nil
	})
	return out, err
}

// RenewDataJobClaims extends holder's claims on its unfinished jobs to
// now+ttl and returns the ids of the jobs holder still has; a running job
// not among them was claimed by another node (holder's claim ran out) and
// must stop.
func (s *Store) RenewDataJobClaims(ctx context.Context, holder string, now time.Time, ttl time.Duration) (map[string]bool, error) {
	held := map[string]bool{}
	err := s.inTx(ctx, "renew job claims", func(tx *sql.Tx) error {
		clear(held)
		if _, err := tx.ExecContext(ctx, `UPDATE import_export_jobs SET claimed_until = ?
			WHERE claimed_by = ? AND status IN (?, ?)`, toDB(now.Add(ttl)), holder, JobCreated, JobProcessing); err != nil {
			return fmt.Errorf("store: renew job claims: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT job_id FROM import_export_jobs WHERE claimed_by = ? AND status IN (?, ?)`,
			holder, JobCreated, JobProcessing)
		if err != nil {
			return fmt.Errorf("store: renew job claims: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("store: renew job claims: %w", err)
			}
			held[id] = true
		}
		return rows.Err()
	})
	return held, err
}

func (s *Store) queryDataJobs(ctx context.Context, what, query string, args ...any) ([]DataJob, error) {
	rows, err := s.reads.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []DataJob
	for rows.Next() {
		j, err := scanDataJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// AccountEvents returns up to limit of an account's event records in a
// region made in [start, end), after the one numbered afterSeq, in order:
// what an export reads, a page at a time.
func (s *Store) AccountEvents(ctx context.Context, accountID, region string, start, end time.Time, afterSeq int64, limit int) ([]OutboxEvent, error) {
	rows, err := s.reads.QueryContext(ctx, `SELECT `+eventColumns+` FROM event_outbox
		WHERE account_id = ? AND region = ? AND created_at >= ? AND created_at < ? AND seq > ?
		ORDER BY seq LIMIT ?`, accountID, region, toDB(start), toDB(end), afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s in %s: %w", accountID, region, err)
	}
	return scanEvents(rows)
}
