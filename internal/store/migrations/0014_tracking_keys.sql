-- 0014: the key that signs open and click tracking URLs, made once and
-- shared by every node of the store, so a link in a mail sent by one node
-- verifies on any other and keeps working across restarts. Sealed like
-- access key secrets (AAD = id).
CREATE TABLE tracking_keys (
    id         TEXT PRIMARY KEY,
    key_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
