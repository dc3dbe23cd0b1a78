-- 0018: account details (v2 PutAccountDetails) per account and region, with
-- the production-access review they may ask for, and an index for an
-- address's bounce history (GetEmailAddressInsights). Portable SQL as in
-- 0001: times are BIGINT Unix nanoseconds (UTC), 0 for none.

-- additional_contacts: the addresses joined by newlines (an address has
-- none). review_status: '' (no review asked), PENDING, GRANTED, DENIED or
-- FAILED (SES's ReviewStatus); case_id is the review's, '' without one.
CREATE TABLE account_details (
    account_id          TEXT NOT NULL,
    region              TEXT NOT NULL,
    mail_type           TEXT NOT NULL,
    website_url         TEXT NOT NULL,
    contact_language    TEXT NOT NULL,
    use_case            TEXT NOT NULL,
    additional_contacts TEXT NOT NULL,
    review_status       TEXT NOT NULL,
    case_id             TEXT NOT NULL,
    updated_at          BIGINT NOT NULL,
    requested_at        BIGINT NOT NULL,
    reviewed_at         BIGINT NOT NULL,
    PRIMARY KEY (account_id, region)
);
CREATE INDEX account_details_review ON account_details (review_status);

CREATE INDEX bounces_recipient ON bounces (account_id, region, recipient_lc);
