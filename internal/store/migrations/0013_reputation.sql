-- 0013: send statistics and reputation. Portable SQL as in 0001: times are
-- BIGINT Unix nanoseconds (UTC), booleans INTEGER 0/1.

-- Per-bucket counters made from the event outbox by internal/reputation
-- (one row per account, region, configuration set and 15-minute bucket),
-- so GetSendStatistics and the reputation rates read a few hundred rows
-- rather than two weeks of events. The mailbox simulator's recipients are
-- not counted; configuration_set '' is mail sent without one.
CREATE TABLE send_statistics (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    bucket            BIGINT NOT NULL,   -- start of the 15-minute bucket
    configuration_set TEXT NOT NULL,
    delivery_attempts BIGINT NOT NULL,   -- recipients of Send events
    bounces           BIGINT NOT NULL,   -- bounced recipients (GetSendStatistics)
    hard_bounces      BIGINT NOT NULL,   -- Permanent ones, less the account's suppression list (bounce rate)
    complaints        BIGINT NOT NULL,
    rejects           BIGINT NOT NULL,   -- Reject events (messages)
    PRIMARY KEY (account_id, region, bucket, configuration_set)
);
CREATE INDEX send_statistics_set ON send_statistics (account_id, region, configuration_set, bucket);
CREATE INDEX send_statistics_bucket ON send_statistics (bucket);

-- The last evaluation of each account's (configuration_set '') and each
-- configuration set's reputation, and what sesame did about it: paused = 1
-- while a pause sesame imposed is not lifted; probation = 1 while the
-- PROBATION status is sesame's doing. counts_from is where the rates start
-- after a lifted pause (0: the whole window).
CREATE TABLE reputation (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    configuration_set TEXT NOT NULL,
    sends             BIGINT NOT NULL,
    hard_bounces      BIGINT NOT NULL,
    complaints        BIGINT NOT NULL,
    bounce_rate       DOUBLE PRECISION NOT NULL,
    complaint_rate    DOUBLE PRECISION NOT NULL,
    status            TEXT NOT NULL,     -- HEALTHY | PROBATION | PAUSED: what the rates call for
    paused            INTEGER NOT NULL,
    probation         INTEGER NOT NULL,
    paused_at         BIGINT NOT NULL,
    counts_from       BIGINT NOT NULL,
    evaluated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, configuration_set)
);
