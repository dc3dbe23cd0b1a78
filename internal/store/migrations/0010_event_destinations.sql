-- 0010: where SES events go. Configuration-set event destinations (at most
-- ten per set, names unique per set) and an identity's own notification
-- settings: its SNS topics per notification type, whether those carry the
-- message's headers, and its default configuration set. Portable SQL as in
-- 0001: times are BIGINT Unix nanoseconds (UTC).

CREATE TABLE event_destinations (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    configuration_set TEXT NOT NULL,
    name              TEXT NOT NULL,       -- case-sensitive, as SES
    enabled           INTEGER NOT NULL,
    event_types       TEXT NOT NULL,       -- v2 spelling, comma-separated: SEND,BOUNCE,…
    sns_topic_arn     TEXT NOT NULL,       -- '' when the destination is not SNS
    destination       TEXT NOT NULL,       -- JSON: the other kinds (Firehose, CloudWatch, EventBridge, Pinpoint)
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, configuration_set, name)
);

-- Identity notifications (SetIdentityNotificationTopic): '' = no topic.
ALTER TABLE identities ADD COLUMN bounce_topic TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN complaint_topic TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN delivery_topic TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN headers_in_bounce INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN headers_in_complaint INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN headers_in_delivery INTEGER NOT NULL DEFAULT 0;
-- The identity's default configuration set ('' = none): used for a message
-- sent from it that names no set itself.
ALTER TABLE identities ADD COLUMN configuration_set TEXT NOT NULL DEFAULT '';
