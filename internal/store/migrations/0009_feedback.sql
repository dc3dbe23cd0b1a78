-- 0009: what feedback arriving later needs. A receiver that accepted a
-- message may still report on it: an asynchronous DSN or an ARF complaint
-- sent to the message's bounce address (<message id>@<bounce domain>). By
-- then the message has left the spool, so delivery keeps, per message it
-- handed to a receiver, who sent it and where its feedback goes; rows are
-- pruned after a retention period.
CREATE TABLE sent_messages (
    message_id        TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    source            TEXT NOT NULL,       -- envelope sender as the client gave it
    recipients        TEXT NOT NULL,       -- envelope recipients, lower-case, one per line
    feedback_to       TEXT NOT NULL,       -- Return-Path / ReturnPath, '' = source
    configuration_set TEXT NOT NULL,
    bounce_domain     TEXT NOT NULL,       -- the domain of the MAIL FROM address used
    created_at        BIGINT NOT NULL
);
CREATE INDEX sent_messages_created ON sent_messages (created_at);

-- Complaints (SES's Complaint notification), one per message and recipient.
CREATE TABLE complaints (
    account_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    recipient_lc   TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    feedback_type  TEXT NOT NULL,          -- abuse | auth-failure | fraud | not-spam | other | virus | ''
    user_agent     TEXT NOT NULL,
    arrival_at     BIGINT NOT NULL,        -- 0 when the report gave none
    feedback_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (message_id, recipient_lc)
);
CREATE INDEX complaints_account ON complaints (account_id, region, created_at);
