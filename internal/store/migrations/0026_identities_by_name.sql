-- The inbound MX finds the accounts that verified a recipient's address or
-- domain by name, across accounts.
CREATE INDEX identities_by_name ON identities (name, region);
