-- 0024: SES v2 import and export jobs (issue 11, item 6), per account and
-- region as in SES. A job is its request as given (JSON of the API's
-- ImportDestination/ImportDataSource or ExportDataSource/ExportDestination)
-- and its progress; the objects it reads and writes live in the configured
-- S3-compatible store, never here. Portable SQL as in 0001: times are BIGINT
-- Unix nanoseconds (UTC), 0 = not yet.

-- kind: IMPORT or EXPORT. job_type: an import's destination
-- (SUPPRESSION_LIST, CONTACT_LIST) or an export's source (METRICS_DATA,
-- MESSAGE_INSIGHTS). status: CREATED, PROCESSING, COMPLETED, FAILED,
-- CANCELLED. result_object: s3://bucket/key of what the job wrote (an
-- import's failed records, an export's file), '' for none.
CREATE TABLE import_export_jobs (
    account_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    job_id         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    job_type       TEXT NOT NULL,
    request        TEXT NOT NULL,
    status         TEXT NOT NULL,
    processed      BIGINT NOT NULL,
    failed         BIGINT NOT NULL,
    exported       BIGINT NOT NULL,
    result_object  TEXT NOT NULL,
    error_message  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    completed_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, job_id)
);
CREATE INDEX import_export_jobs_list ON import_export_jobs (account_id, region, kind, created_at, job_id);
CREATE INDEX import_export_jobs_status ON import_export_jobs (status);

-- Exports read an account's events by time.
CREATE INDEX event_outbox_account_time ON event_outbox (account_id, region, created_at);
