-- 0033: announced changes of cached state (changes.go). On SQLite the
-- writer adds a row in the same transaction and every process polls the
-- rows past the last it saw; rows older than a minute are pruned. On
-- PostgreSQL changes travel by NOTIFY and the table stays empty.
CREATE TABLE store_changes (
    seq   INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    key   TEXT NOT NULL,
    at    INTEGER NOT NULL
);
