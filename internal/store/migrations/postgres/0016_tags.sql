-- 0016 on PostgreSQL: as migrations/0016_tags.sql without the move of
-- configuration sets' JSON tags (SQLite's json_each), which only databases
-- older than this step need; a PostgreSQL database starts here empty.
--
-- 0016: resource tags (SES v2 TagResource and the Tags of the create
-- operations), one row per tag, for every taggable resource: configuration
-- sets, identities, templates, and the resources still to come (contact
-- lists, dedicated IP pools, custom verification templates). Per account and
-- region, as SES keeps them. resource_type is the ARN's resource type
-- ("configuration-set", "identity", "template", …); resource_name is the
-- resource's key in its own table (identities: domains lower-cased).
CREATE TABLE resource_tags (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    tag_key       TEXT NOT NULL,          -- case-sensitive, as SES
    tag_value     TEXT NOT NULL,          -- '' when none was given
    position      INTEGER NOT NULL,       -- keeps the order tags were added in
    PRIMARY KEY (account_id, region, resource_type, resource_name, tag_key)
);
