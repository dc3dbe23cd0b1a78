-- 0001: the first schema. Portable SQL (SQLite now, PostgreSQL later):
-- times are BIGINT Unix nanoseconds (UTC), booleans are INTEGER 0/1, and the
-- only engine-specific type is BLOB for raw mail (BYTEA in PostgreSQL).

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,          -- 12 digits
    created_at BIGINT NOT NULL
);

CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY,       -- AKIA + 16 chars
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    secret_sealed TEXT NOT NULL,          -- base64(nonce || AES-256-GCM(secret)), AAD = id
    active        INTEGER NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX access_keys_account ON access_keys (account_id);

-- One row per account and region once an operator changed something; absent
-- rows mean SES's defaults for a new account (the sandbox).
CREATE TABLE account_settings (
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    production      INTEGER NOT NULL,
    sending_enabled INTEGER NOT NULL,
    max_send_rate   DOUBLE PRECISION NOT NULL,
    max_24hour_send DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, region)
);

-- name: domains lower-case, addresses as given (SES: addresses are
-- case-sensitive).
CREATE TABLE identities (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE captured (
    id           TEXT PRIMARY KEY,        -- SES MessageId
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    mail_from    TEXT NOT NULL,
    mail_from_lc TEXT NOT NULL,           -- lower-cased, for the Email filter
    raw          BLOB NOT NULL,
    received_at  BIGINT NOT NULL,
    outcome      TEXT NOT NULL
);
CREATE INDEX captured_received ON captured (received_at, id);
CREATE INDEX captured_mail_from ON captured (mail_from_lc);

CREATE TABLE capture_recipients (
    message_id TEXT NOT NULL,
    position   INTEGER NOT NULL,          -- keeps the envelope order
    address    TEXT NOT NULL,
    address_lc TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX capture_recipients_address ON capture_recipients (address_lc);

-- Recipients sent per account, region and minute, for the rolling 24-hour
-- quota.
CREATE TABLE send_counts (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    minute     BIGINT NOT NULL,           -- Unix seconds, a multiple of 60
    n          BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, minute)
);
CREATE INDEX send_counts_minute ON send_counts (minute);
