-- 0023: dedicated IPs as real source addresses (issue 11, item 4).
-- dedicated_ip_sends counts, per account, address and UTC day, the
-- recipients delivery sent from an address while the account had it in
-- warm-up (percentage below 100): the cap is that percentage of
-- delivery.warmup_full_daily_volume. day is 'YYYY-MM-DD' (UTC). Rows of
-- past days are deleted as new days begin.
CREATE TABLE dedicated_ip_sends (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    ip         TEXT NOT NULL,
    day        TEXT NOT NULL,
    sent       INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, ip, day)
);

-- warmup_set_at: when the warm-up percentage was last set (Unix ns; 0 =
-- never): with automatic warm-up on, the percentage advances from there
-- to 100 over SES's 45-day plan.
ALTER TABLE dedicated_ips ADD COLUMN warmup_set_at BIGINT NOT NULL DEFAULT 0;
