-- 0003: email templates (issue 3), per account and region as in SES. A part
-- the template does not have is NULL (SES omits it from GetTemplate), which
-- is not the same as an empty part.
CREATE TABLE templates (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    subject    TEXT,
    text_part  TEXT,
    html_part  TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);
