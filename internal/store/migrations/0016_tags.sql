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

-- Configuration sets kept their tags as JSON in configuration_sets.tags
-- until now: move them here (the column stays, written as '[]', read by
-- nobody). json_each is SQLite's; it runs once, on databases made before
-- this step — a PostgreSQL schema starts with this table empty.
INSERT INTO resource_tags (account_id, region, resource_type, resource_name, tag_key, tag_value, position)
SELECT cs.account_id, cs.region, 'configuration-set', cs.name,
       json_extract(t.value, '$.Key'), COALESCE(json_extract(t.value, '$.Value'), ''), t.key
FROM configuration_sets cs, json_each(cs.tags) t
WHERE json_extract(t.value, '$.Key') IS NOT NULL;
UPDATE configuration_sets SET tags = '[]';
