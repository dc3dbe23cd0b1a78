-- 0002: what identity verification keeps per identity (issue 3). Columns on
-- identities rather than a table beside it: every identity has them, and
-- one row keeps create/delete atomic. Defaults are SES's for an identity
-- that never started verification (e.g. one `sesame admin` created).

-- Email link: sha256 (hex) of the token mailed out, and when it expires.
ALTER TABLE identities ADD COLUMN verify_token_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN verify_expires_at BIGINT NOT NULL DEFAULT 0;
-- When the current verification attempt started (the 72-hour DNS search).
ALTER TABLE identities ADD COLUMN verify_started_at BIGINT NOT NULL DEFAULT 0;
-- v1 domain verification token (TXT _amazonses.<domain>).
ALTER TABLE identities ADD COLUMN domain_token TEXT NOT NULL DEFAULT '';

-- DKIM. tokens: space-separated. status: v1 spelling (Pending, Success, …).
ALTER TABLE identities ADD COLUMN dkim_tokens TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN dkim_origin TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN dkim_signing_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN dkim_status TEXT NOT NULL DEFAULT 'NotStarted';
ALTER TABLE identities ADD COLUMN dkim_key_length TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN dkim_next_key_length TEXT NOT NULL DEFAULT '';
-- base64(nonce || AES-256-GCM(PKCS#8 DER)), AAD = "dkim:" account/region/name.
ALTER TABLE identities ADD COLUMN dkim_key_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN dkim_selector TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN dkim_key_generated_at BIGINT NOT NULL DEFAULT 0;

-- Custom MAIL FROM. status: v1 spelling; '' while none is set.
ALTER TABLE identities ADD COLUMN mail_from_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN mail_from_behavior TEXT NOT NULL DEFAULT 'USE_DEFAULT_VALUE';
ALTER TABLE identities ADD COLUMN mail_from_status TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN mail_from_started_at BIGINT NOT NULL DEFAULT 0;

ALTER TABLE identities ADD COLUMN feedback_forwarding INTEGER NOT NULL DEFAULT 1;

CREATE INDEX identities_verify_token ON identities (verify_token_hash);
