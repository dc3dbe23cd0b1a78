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
