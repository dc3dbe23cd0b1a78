-- 0034: the max send rate shared by the nodes of a cluster. One token bucket
-- per account+region, from which nodes take batches of tokens (see
-- TakeRateTokens). tokens is in millionths of a recipient; updated is the
-- Unix time in nanoseconds it was last refilled at. The 24-hour quota's
-- leases need no table of their own: they are counted in send_counts.
CREATE TABLE send_rate_buckets (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    tokens     BIGINT NOT NULL,
    updated    BIGINT NOT NULL,
    PRIMARY KEY (account_id, region)
);
