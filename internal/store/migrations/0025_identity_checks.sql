-- 0025: what GetEmailIdentity's VerificationInfo reports of an identity's
-- verification (issue 11, item 7): when the verifier last checked it
-- (a domain's DNS records; an address's link followed or expired), when a
-- check last succeeded, and why the last one failed (SES's
-- VerificationError: HOST_NOT_FOUND, TYPE_NOT_FOUND, INVALID_VALUE,
-- DNS_SERVER_ERROR; '' when it did not), and the SOA of the domain's zone
-- as that check found it ('' and 0 when none was found). Times are BIGINT
-- Unix nanoseconds (UTC), 0 for never.
ALTER TABLE identities ADD COLUMN verify_checked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN verify_succeeded_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN verify_error TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN verify_soa_ns TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN verify_soa_admin TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN verify_soa_serial BIGINT NOT NULL DEFAULT 0;
