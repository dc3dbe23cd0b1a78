-- 0011: SNS-compatible topics, their subscriptions, and the durable queue of
-- deliveries to HTTP(S) subscribers. Portable SQL as in 0001: times are
-- BIGINT Unix nanoseconds (UTC), booleans INTEGER 0/1, option groups JSON
-- text read and written only by sesame.

CREATE TABLE sns_topics (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,             -- case-sensitive, as SNS
    attributes TEXT NOT NULL,             -- JSON object of the settable attributes
    tags       TEXT NOT NULL,             -- JSON: [{"Key":…,"Value":…}]
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE sns_subscriptions (
    arn        TEXT PRIMARY KEY,          -- <topic ARN>:<uuid>
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    protocol   TEXT NOT NULL,             -- http | https
    endpoint   TEXT NOT NULL,
    token      TEXT NOT NULL,             -- the confirmation token sent to the endpoint
    confirmed  INTEGER NOT NULL,
    authenticated INTEGER NOT NULL,       -- confirmed by a signed ConfirmSubscription
    attributes TEXT NOT NULL,             -- JSON object (RawMessageDelivery, …)
    created_at BIGINT NOT NULL
);
CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (account_id, region, topic_name);
CREATE INDEX sns_subscriptions_token ON sns_subscriptions (token);

-- One row per message still to hand to one subscriber. seq orders a
-- subscription's messages (publish order); it comes from sns_delivery_seq so
-- it never goes back, even when the table empties. A row leaves when the
-- subscriber took it, gave a permanent refusal, or the retry period ran out.
CREATE TABLE sns_deliveries (
    seq               BIGINT PRIMARY KEY,
    subscription_arn  TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    raw               INTEGER NOT NULL,   -- RawMessageDelivery: the message alone, no envelope
    kind              TEXT NOT NULL,      -- Notification | SubscriptionConfirmation
    message_id        TEXT NOT NULL,
    topic_arn         TEXT NOT NULL,
    subject           TEXT NOT NULL,      -- '' = none
    message           TEXT NOT NULL,
    token             TEXT NOT NULL,      -- confirmations only
    signature_version TEXT NOT NULL,      -- 1 | 2
    published_at      BIGINT NOT NULL
);
CREATE INDEX sns_deliveries_subscription ON sns_deliveries (subscription_arn, seq);

CREATE TABLE sns_delivery_seq (
    last BIGINT NOT NULL
);
INSERT INTO sns_delivery_seq (last) VALUES (0);

-- The key that signs SNS messages, created once. Its certificate is served
-- at SigningCertURL; the private key is sealed like access key secrets.
CREATE TABLE sns_signing_keys (
    id         TEXT PRIMARY KEY,
    key_sealed TEXT NOT NULL,             -- base64(nonce || AES-256-GCM(PKCS#8 DER)), AAD = id
    cert_pem   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
