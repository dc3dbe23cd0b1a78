-- 0004: the account-level suppression list, the account's suppression
-- setting, and configuration sets. Portable SQL as in 0001: times are BIGINT
-- Unix nanoseconds (UTC); option groups are JSON text, read and written only
-- by sesame.

-- address_lc is the key (SES compares suppressed addresses
-- case-insensitively); address keeps the spelling last put.
CREATE TABLE suppressed_destinations (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    address_lc  TEXT NOT NULL,
    address     TEXT NOT NULL,
    reason      TEXT NOT NULL,            -- BOUNCE | COMPLAINT
    updated_at  BIGINT NOT NULL,
    message_id  TEXT NOT NULL,            -- '' for manual entries
    feedback_id TEXT NOT NULL,
    PRIMARY KEY (account_id, region, address_lc)
);
CREATE INDEX suppressed_destinations_updated ON suppressed_destinations (account_id, region, updated_at);

-- One row per account and region once PutAccountSuppressionAttributes was
-- called; absent rows mean SES's default (BOUNCE and COMPLAINT).
CREATE TABLE account_suppression (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    reasons    TEXT NOT NULL,             -- comma-separated, '' = none
    PRIMARY KEY (account_id, region)
);

CREATE TABLE configuration_sets (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,             -- case-sensitive, as SES
    created_at BIGINT NOT NULL,
    options    TEXT NOT NULL,             -- JSON: delivery, sending, reputation, suppression, tracking
    tags       TEXT NOT NULL,             -- JSON: [{"Key":…,"Value":…}]
    PRIMARY KEY (account_id, region, name)
);
