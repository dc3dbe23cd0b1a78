-- 0022: access keys scoped by a policy (issue 11, item 1, "beyond SES"):
-- what an IAM policy attached to a user does for SES users. policy is the
-- document as the operator gave it ('' = none: the key may do whatever its
-- account may, as before); it is validated before it is stored and parsed
-- again when a server caches the key. name is the user name in the key's
-- ARN (arn:aws:iam::ACCOUNT:user/NAME) that refusals quote; '' = the key id.
ALTER TABLE access_keys ADD COLUMN policy TEXT NOT NULL DEFAULT '';
ALTER TABLE access_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
