-- 0005: bounce records of outbound delivery, one per message and recipient
-- that could not be delivered, with SES's classification. Portable SQL as in
-- 0001: times are BIGINT Unix nanoseconds (UTC).

-- (message_id, recipient_lc) is the key: a delivery replayed after a crash
-- records the same bounce again and finds it there.
CREATE TABLE bounces (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    recipient_lc TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    bounce_type  TEXT NOT NULL,            -- Permanent | Transient | Undetermined
    sub_type     TEXT NOT NULL,            -- General, NoEmail, MailboxFull, …
    status       TEXT NOT NULL,            -- RFC 3463, e.g. 5.1.1
    diagnostic   TEXT NOT NULL,            -- RFC 3464 Diagnostic-Code, '' when none
    remote_mta   TEXT NOT NULL,            -- '' when no receiver answered
    feedback_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (message_id, recipient_lc)
);
CREATE INDEX bounces_account ON bounces (account_id, region, created_at);

-- Delivery delays (SES's DeliveryDelay): a recipient still deferred past
-- the delay threshold, one row per message and recipient, updated at each
-- further deferral until the recipient is delivered or bounces.
CREATE TABLE delivery_delays (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    recipient_lc TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    delay_type   TEXT NOT NULL,            -- SES's delayType: RecipientServerError, MailboxFull, …
    status       TEXT NOT NULL,            -- RFC 3463 of the last failure
    diagnostic   TEXT NOT NULL,
    remote_mta   TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    first_at     BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,          -- when delivery gives up
    PRIMARY KEY (message_id, recipient_lc)
);
CREATE INDEX delivery_delays_account ON delivery_delays (account_id, region, last_at);
