-- 0021: sending authorization (issue 11, item 1). The policies, and which
-- account's identity a delegate's message was sent as (in its events and
-- its sent-message record).
--
-- Sending-authorization policies: the IAM-style
-- JSON documents an identity's owner attaches to let other accounts send
-- as it (SES v2 Create/Update/DeleteEmailIdentityPolicy, v1
-- PutIdentityPolicy). Per account and region as in SES; identity is the
-- identities table's key (domains lower-cased). The document is kept as
-- given: SES returns it byte for byte.
CREATE TABLE identity_policies (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    identity   TEXT NOT NULL,
    name       TEXT NOT NULL,
    policy     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, identity, name)
);

-- A delegate's message is sent as the owner's identity: its events stay
-- the delegate's (account_id), the owner's identity notifications apply
-- (publishing looks the identity up in this account; '' = account_id).
ALTER TABLE event_outbox ADD COLUMN identity_account_id TEXT NOT NULL DEFAULT '';

-- Likewise for the feedback a delegate's message gets after delivery.
ALTER TABLE sent_messages ADD COLUMN identity_account_id TEXT NOT NULL DEFAULT '';
