-- 0017: custom verification email templates (issue 11), per account and
-- region as in SES. link_id names the template in the verification links
-- its mails carry, so a link whose token is wrong, replaced or expired can
-- still be redirected to the template's failure URL; it is random, so a
-- link shows neither the account nor the template's name.
CREATE TABLE custom_verification_templates (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    name         TEXT NOT NULL,
    link_id      TEXT NOT NULL UNIQUE,
    from_address TEXT NOT NULL,
    subject      TEXT NOT NULL,
    content      TEXT NOT NULL,
    success_url  TEXT NOT NULL,
    failure_url  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);
