-- 0015: SNS deliveries to email, email-json and sqs subscribers, and the
-- re-subscribe offer an UnsubscribeConfirmation carries.

-- The subscriber's protocol, so delivery knows how to hand the row over
-- ('' on rows queued before: http or https, from the endpoint's scheme).
ALTER TABLE sns_deliveries ADD COLUMN protocol TEXT NOT NULL DEFAULT '';

-- A subscription removed by Unsubscribe, kept for a while so the token in
-- its UnsubscribeConfirmation can restore it (ConfirmSubscription or the
-- SubscribeURL), as SNS offers. Pruned after a few days.
CREATE TABLE sns_unsubscribed (
    token           TEXT PRIMARY KEY,     -- sent in the UnsubscribeConfirmation
    arn             TEXT NOT NULL,        -- restored under the same ARN
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    topic_name      TEXT NOT NULL,
    protocol        TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    attributes      TEXT NOT NULL,        -- JSON object, as sns_subscriptions.attributes
    created_at      BIGINT NOT NULL,      -- the subscription's
    unsubscribed_at BIGINT NOT NULL
);
CREATE INDEX sns_unsubscribed_at ON sns_unsubscribed (unsubscribed_at);
