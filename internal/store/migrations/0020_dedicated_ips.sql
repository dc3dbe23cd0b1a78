-- 0020: dedicated IP pools (issue 11, item 4), per account and region as in
-- SES. The addresses themselves are the operator's ([[delivery.source_
-- addresses]]), not rows: every account sees each of them. What an account
-- sets about one (the pool it is in, its warm-up percentage) is a row of
-- dedicated_ips; an address without a row is in no pool, warmed up (100).
-- Portable SQL as in 0001: times are BIGINT Unix nanoseconds (UTC).

-- scaling_mode: STANDARD (sesame has no MANAGED pools).
CREATE TABLE dedicated_ip_pools (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    name         TEXT NOT NULL,
    scaling_mode TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

-- ip: the address's canonical text (netip); pool_name '' for none.
CREATE TABLE dedicated_ips (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    ip                TEXT NOT NULL,
    pool_name         TEXT NOT NULL,
    warmup_percentage INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, ip)
);
CREATE INDEX dedicated_ips_pool ON dedicated_ips (account_id, region, pool_name);

-- PutAccountDedicatedIpWarmupAttributes' switch (GetAccount's
-- DedicatedIpAutoWarmupEnabled); no row: off.
CREATE TABLE dedicated_ip_warmup (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    auto_warmup INTEGER NOT NULL,
    PRIMARY KEY (account_id, region)
);
