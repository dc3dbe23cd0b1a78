package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"sesame/internal/importexport"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Import and export jobs (v2): Create/Get/ListImportJob(s) and
// Create/Get/List/CancelExportJob(s). importexport checks and runs them
// against the operator's S3-compatible store; this file decodes, reads
// the jobs back from the store and answers in SES's shapes.

func (s *Server) registerImportExportJobs() {
	s.handleV2("POST /v2/email/import-jobs", s.createImportJobV2)
	// ListImportJobs is POST …/import-jobs/list in current SDKs; older
	// models (botocore, aws CLI 2.9) send a GET to …/import-jobs with a
	// JSON body.
	s.handleV2("POST /v2/email/import-jobs/list", s.listImportJobsV2)
	s.handleV2("GET /v2/email/import-jobs", s.listImportJobsV2)
	s.handleV2("GET /v2/email/import-jobs/{JobId}", s.getImportJobV2)

	s.handleV2("POST /v2/email/export-jobs", s.createExportJobV2)
	s.handleV2("POST /v2/email/list-export-jobs", s.listExportJobsV2)
	s.handleV2("GET /v2/email/export-jobs/{JobId}", s.getExportJobV2)
	s.handleV2("PUT /v2/email/export-jobs/{JobId}/cancel", s.cancelExportJobV2)
}

// JobStore is what the job operations read of the store.
type JobStore interface {
	DataJob(ctx context.Context, accountID, region, kind, id string) (store.DataJob, error)
	DataJobs(ctx context.Context, accountID, region string, q store.DataJobQuery) ([]store.DataJob, error)
}

func (s *Server) jobStore() JobStore { return s.cfg.Store }

// maxJobPage bounds PageSize of both lists (the model gives no bound; the
// other v2 lists take up to 1000).
const maxJobPage = 1000

// jobPage reads a list's paging from its JSON body.
func jobPage(token string, size *int) (after time.Time, afterID string, limit int, err error) {
	limit = maxJobPage
	if size != nil {
		if *size < 1 || *size > maxJobPage {
			return after, "", 0, seserr.PageSizeOutOfRange(maxJobPage)
		}
		limit = *size
	}
	key, err := decodePageToken(token)
	if err != nil || key == "" {
		return after, "", limit, err
	}
	var ns int64
	if _, err := fmt.Sscanf(key, "%d/%s", &ns, &afterID); err != nil || afterID == "" {
		return after, "", 0, seserr.InvalidNextToken()
	}
	return time.Unix(0, ns), afterID, limit, nil
}

// listJobs is a page of jobs and the token of the next.
func (s *Server) listJobs(ctx context.Context, q store.DataJobQuery, token string, size *int) ([]store.DataJob, string, error) {
	var err error
	if q.AfterCreated, q.AfterID, q.Limit, err = jobPage(token, size); err != nil {
		return nil, "", err
	}
	want := q.Limit
	q.Limit++
	p := principal(ctx)
	jobs, err := s.jobStore().DataJobs(ctx, p.AccountID, p.Region, q)
	if err != nil || len(jobs) <= want {
		return jobs, "", err
	}
	jobs = jobs[:want]
	last := jobs[want-1]
	return jobs, encodePageToken(fmt.Sprintf("%d/%s", last.Created.UnixNano(), last.ID)), nil
}

// jobTime is a CompletedTimestamp: absent until the job ends.
func jobTime(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

type failureInfo struct {
	FailedRecordsS3Url string `json:",omitempty"`
	ErrorMessage       string `json:",omitempty"`
}

// failureOf is a job's FailureInfo: the failed records as a URL that
// reads them for a while, the reason a job failed.
func (s *Server) failureOf(ctx context.Context, j store.DataJob) (*failureInfo, error) {
	f := failureInfo{ErrorMessage: j.ErrorMessage}
	if j.Kind == store.JobImport && j.Object != "" {
		u, err := s.cfg.Jobs.ObjectURL(ctx, j.Object)
		if err != nil {
			return nil, err
		}
		f.FailedRecordsS3Url = u
	}
	if f == (failureInfo{}) {
		return nil, nil
	}
	return &f, nil
}

// --- import jobs -----------------------------------------------------------

func (s *Server) createImportJobV2(ctx context.Context, r *http.Request) (any, error) {
	var in importexport.ImportRequest
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	p := principal(ctx)
	id, err := s.cfg.Jobs.CreateImport(ctx, p.AccountID, p.Region, in)
	if err != nil {
		return nil, err
	}
	return struct{ JobId string }{id}, nil
}

func (s *Server) getImportJobV2(ctx context.Context, r *http.Request) (any, error) {
	id := r.PathValue("JobId")
	p := principal(ctx)
	j, err := s.jobStore().DataJob(ctx, p.AccountID, p.Region, store.JobImport, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, seserr.ImportJobNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	var req importexport.ImportRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return nil, fmt.Errorf("import job %s: %w", id, err)
	}
	failure, err := s.failureOf(ctx, j)
	if err != nil {
		return nil, err
	}
	return struct {
		JobId                 string
		ImportDestination     *importexport.ImportDestination
		ImportDataSource      *importexport.ImportDataSource
		FailureInfo           *failureInfo `json:",omitempty"`
		JobStatus             string
		CreatedTimestamp      epochTime
		CompletedTimestamp    *epochTime `json:",omitempty"`
		ProcessedRecordsCount int64
		FailedRecordsCount    int64
	}{j.ID, req.ImportDestination, req.ImportDataSource, failure, j.Status, epochTime(j.Created),
		jobTime(j.Completed), j.Processed, j.Failed}, nil
}

func (s *Server) listImportJobsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		ImportDestinationType string
		NextToken             string
		PageSize              *int
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet {
		// The older model's GET puts the paging in the query string.
		if t := r.URL.Query().Get("NextToken"); t != "" {
			in.NextToken = t
		}
		n, given, err := queryInt(r, "PageSize")
		if err != nil {
			return nil, err
		}
		if given {
			in.PageSize = &n
		}
	}
	switch in.ImportDestinationType {
	case "", importexport.TypeSuppressionList, importexport.TypeContactList:
	default:
		return nil, seserr.InvalidEnumValue("ImportDestinationType", in.ImportDestinationType, "SUPPRESSION_LIST, CONTACT_LIST")
	}
	jobs, next, err := s.listJobs(ctx, store.DataJobQuery{Kind: store.JobImport, Type: in.ImportDestinationType}, in.NextToken, in.PageSize)
	if err != nil {
		return nil, err
	}
	type summary struct {
		JobId                 string
		ImportDestination     *importexport.ImportDestination
		JobStatus             string
		CreatedTimestamp      epochTime
		ProcessedRecordsCount int64
		FailedRecordsCount    int64
	}
	out := struct {
		ImportJobs []summary
		NextToken  string `json:",omitempty"`
	}{ImportJobs: []summary{}, NextToken: next}
	for _, j := range jobs {
		var req importexport.ImportRequest
		if err := json.Unmarshal(j.Request, &req); err != nil {
			return nil, fmt.Errorf("import job %s: %w", j.ID, err)
		}
		out.ImportJobs = append(out.ImportJobs, summary{j.ID, req.ImportDestination, j.Status, epochTime(j.Created), j.Processed, j.Failed})
	}
	return out, nil
}

// --- export jobs -----------------------------------------------------------

func (s *Server) createExportJobV2(ctx context.Context, r *http.Request) (any, error) {
	var in importexport.ExportRequest
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	p := principal(ctx)
	id, err := s.cfg.Jobs.CreateExport(ctx, p.AccountID, p.Region, in)
	if err != nil {
		return nil, err
	}
	return struct{ JobId string }{id}, nil
}

func (s *Server) getExportJobV2(ctx context.Context, r *http.Request) (any, error) {
	id := r.PathValue("JobId")
	p := principal(ctx)
	j, err := s.jobStore().DataJob(ctx, p.AccountID, p.Region, store.JobExport, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, seserr.ExportJobNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	var req importexport.ExportRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return nil, fmt.Errorf("export job %s: %w", id, err)
	}
	// As SES's, a finished export's S3Url is a URL that reads the file for
	// a while; before that it is the destination asked for.
	dest := *req.ExportDestination
	if j.Status == store.JobCompleted && j.Object != "" {
		if dest.S3Url, err = s.cfg.Jobs.ObjectURL(ctx, j.Object); err != nil {
			return nil, err
		}
	}
	failure, err := s.failureOf(ctx, j)
	if err != nil {
		return nil, err
	}
	type statistics struct{ ProcessedRecordsCount, ExportedRecordsCount int64 }
	return struct {
		JobId              string
		ExportSourceType   string
		JobStatus          string
		ExportDestination  importexport.ExportDestination
		ExportDataSource   *importexport.ExportDataSource
		CreatedTimestamp   epochTime
		CompletedTimestamp *epochTime   `json:",omitempty"`
		FailureInfo        *failureInfo `json:",omitempty"`
		Statistics         statistics
	}{j.ID, j.Type, j.Status, dest, req.ExportDataSource, epochTime(j.Created), jobTime(j.Completed), failure,
		statistics{j.Processed, j.Exported}}, nil
}

func (s *Server) listExportJobsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		ExportSourceType, JobStatus string
		NextToken                   string
		PageSize                    *int
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	switch in.ExportSourceType {
	case "", importexport.TypeMetricsData, importexport.TypeMessageInsights:
	default:
		return nil, seserr.InvalidEnumValue("ExportSourceType", in.ExportSourceType, "METRICS_DATA, MESSAGE_INSIGHTS")
	}
	switch in.JobStatus {
	case "", store.JobCreated, store.JobProcessing, store.JobCompleted, store.JobFailed, store.JobCancelled:
	default:
		return nil, seserr.InvalidEnumValue("JobStatus", in.JobStatus, "CREATED, PROCESSING, COMPLETED, FAILED, CANCELLED")
	}
	jobs, next, err := s.listJobs(ctx, store.DataJobQuery{Kind: store.JobExport, Type: in.ExportSourceType, Status: in.JobStatus},
		in.NextToken, in.PageSize)
	if err != nil {
		return nil, err
	}
	type summary struct {
		JobId              string
		ExportSourceType   string
		JobStatus          string
		CreatedTimestamp   epochTime
		CompletedTimestamp *epochTime `json:",omitempty"`
	}
	out := struct {
		ExportJobs []summary
		NextToken  string `json:",omitempty"`
	}{ExportJobs: []summary{}, NextToken: next}
	for _, j := range jobs {
		out.ExportJobs = append(out.ExportJobs, summary{j.ID, j.Type, j.Status, epochTime(j.Created), jobTime(j.Completed)})
	}
	return out, nil
}

func (s *Server) cancelExportJobV2(ctx context.Context, r *http.Request) (any, error) {
	p := principal(ctx)
	return nil, s.cfg.Jobs.CancelExport(ctx, p.AccountID, p.Region, r.PathValue("JobId"))
}
