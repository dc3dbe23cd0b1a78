-- 0035: named leases. Work that must run on one node of a cluster at a
-- time (the event publisher, SNS deliveries, identity checks, reputation)
-- runs on the node holding its lease; the holder renews it before
-- expires_at, and a node that dies loses it then, to whichever node asks
-- next.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,   -- the node's id (hostname, pid, random)
    expires_at BIGINT NOT NULL  -- unix nanoseconds, the holder's clock
);

-- Import and export jobs are claimed by the node that runs them, renewed
-- while it does; a job whose claim ran out (its node died) is claimed and
-- run again by another node. claimed_until: unix nanoseconds, 0 = never.
ALTER TABLE import_export_jobs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE import_export_jobs ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
