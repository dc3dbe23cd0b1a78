-- 0028: SES v1 receiving (issue 12): IP filters, receipt rule sets, their
-- rules in order, and the active set, per account and region as in SES.
-- The inbound MX reads the filters and the active set with its rules for
-- every message: each is one indexed query (primary keys below).
--
-- An IP filter: Policy "Block" or "Allow", Cidr an address or a range.
CREATE TABLE receipt_filters (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    policy     TEXT NOT NULL,
    cidr       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

-- A rule set; created_at is SES's CreatedTimestamp (Unix nanoseconds, UTC).
CREATE TABLE receipt_rule_sets (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

-- A set's rules: position orders them (0 first, no gaps); rule is the
-- rule as SES shows it (internal/receipt.Rule's JSON, SES's member names).
CREATE TABLE receipt_rules (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    rule_set   TEXT NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    rule       TEXT NOT NULL,
    PRIMARY KEY (account_id, region, rule_set, position)
);

-- The one active rule set of an account in a region (none: no row).
CREATE TABLE receipt_active_rule_sets (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    rule_set   TEXT NOT NULL,
    PRIMARY KEY (account_id, region)
);
