-- 0027: what sesame keeps of a message it received (issue 12): who sent it
-- and to which matched recipients, its header section as received (a DSN
-- returns it), its verdicts and the actions its receipt rules ran. SES's
-- SendBounce bounces a received message for 24 hours after it arrived, so
-- a record is kept that long and then pruned (the store prunes on put).
-- recipients and actions are JSON arrays of strings; times are BIGINT Unix
-- nanoseconds (UTC).
CREATE TABLE received_messages (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    message_id        TEXT NOT NULL,       -- SES's id of the received message
    received_at       BIGINT NOT NULL,
    mail_from         TEXT NOT NULL,       -- envelope sender, '' = the null reverse-path
    recipients        TEXT NOT NULL,       -- matched RCPT TO addresses
    header_from       TEXT NOT NULL,
    subject           TEXT NOT NULL,
    header_message_id TEXT NOT NULL,
    header            BLOB NOT NULL,       -- the header section as received
    spf_verdict       TEXT NOT NULL,
    dkim_verdict      TEXT NOT NULL,
    dmarc_verdict     TEXT NOT NULL,
    spam_verdict      TEXT NOT NULL,
    virus_verdict     TEXT NOT NULL,
    actions           TEXT NOT NULL,       -- one line per action run, in order
    PRIMARY KEY (account_id, message_id)
);
CREATE INDEX received_messages_recent ON received_messages (account_id, region, received_at);
CREATE INDEX received_messages_received ON received_messages (received_at);
