-- 0019: contact lists and their contacts (issue 11, item 3), per account
-- and region as in SES. A list's topics and a contact's topic preferences
-- are small typed JSON documents (at most 20 topics a list); a contact's
-- attributes are the caller's own JSON, kept as given.
CREATE TABLE contact_lists (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    topics      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE contacts (
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    list_name       TEXT NOT NULL,
    email           TEXT NOT NULL,
    preferences     TEXT NOT NULL,
    unsubscribe_all INTEGER NOT NULL,
    attributes      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, list_name, email)
);
