-- 0012: the event outbox. Every SES event record sesame makes (Send,
-- Delivery, Bounce, Complaint, DeliveryDelay, Rendering Failure, …) is
-- appended here durably before the stage that made it moves on (the spool
-- marks the message done, the feedback MX answers 250); publishing reads the
-- rows in seq order behind a cursor, so sending never waits for a
-- subscriber. Rows stay after publishing (message insights read them) and
-- are pruned after a retention period.
CREATE TABLE event_outbox (
    seq               INTEGER PRIMARY KEY,  -- append order
    event_key         TEXT NOT NULL UNIQUE, -- idempotency: a replayed stage makes the same key
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    event_type        TEXT NOT NULL,        -- the record's eventType
    configuration_set TEXT NOT NULL,        -- '' = none
    source            TEXT NOT NULL,        -- envelope sender (identity notifications)
    remote_ip         TEXT NOT NULL,        -- the receiving MTA's address (identity notifications' remoteMtaIp)
    record            TEXT NOT NULL,        -- the SES event record, JSON
    created_at        BIGINT NOT NULL
);
CREATE INDEX event_outbox_message ON event_outbox (message_id);

-- How far each reader of the outbox got (the publisher: 'publish').
CREATE TABLE event_cursors (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
