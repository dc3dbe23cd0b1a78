-- 0030: the web console's mailbox lists one account's captured mail of one
-- region, newest first; without this index every listing read all of it.
CREATE INDEX captured_account ON captured (account_id, region, received_at, id);
