-- 0031: facts about the database itself. secret_key_check holds a known
-- text sealed with the secret key that first opened the database, so a node
-- (or a restored data dir) with another key is refused at start instead of
-- failing on the first secret it reads.
CREATE TABLE store_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
