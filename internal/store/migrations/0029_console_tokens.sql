-- 0029: the web console's operator sign-in (issue 13). `sesame admin
-- console-token` makes a token; only its SHA-256 is kept, with when it
-- stops working (Unix nanoseconds, UTC).
CREATE TABLE console_tokens (
    token_sha256 TEXT PRIMARY KEY,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
