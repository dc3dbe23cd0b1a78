-- 0008: whether an identity's owner set DKIM signing on or off itself
-- (SetIdentityDkimEnabled / PutEmailIdentityDkimAttributes). An email
-- address identity without a DKIM setup of its own signs with its domain's
-- key; once its owner turned signing off, its mail goes unsigned.
ALTER TABLE identities ADD COLUMN dkim_signing_set INTEGER NOT NULL DEFAULT 0;
