-- 0032: the servers sharing this database (issue 14). Each `sesame serve`
-- upserts its row at start and every [cluster] heartbeat; `sesame admin
-- cluster status` reads them. Times are Unix nanoseconds (UTC);
-- spool_depth is the node's pending messages at its last heartbeat;
-- listen is its listeners as the node reports them (free text).
CREATE TABLE cluster_nodes (
    node_name   TEXT PRIMARY KEY,
    version     TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    spool_depth BIGINT NOT NULL,
    listen      TEXT NOT NULL
);
