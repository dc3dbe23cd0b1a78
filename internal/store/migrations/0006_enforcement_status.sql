-- 0006: SES's enforcement status per account and region (HEALTHY, PROBATION,
-- SHUTDOWN). SHUTDOWN is an operator's suspension: sends are refused with
-- AccountSuspendedException and the account cannot lift it itself.
ALTER TABLE account_settings ADD COLUMN enforcement_status TEXT NOT NULL DEFAULT 'HEALTHY';
