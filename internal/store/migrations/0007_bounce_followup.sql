-- 0007: what follows a bounce (the suppression-list entry, the DSN to the
-- sender) is done at least once. A bounce is recorded with dsn_pending = 1
-- and cleared only after its DSN was spooled (or none was due), so an
-- attempt that crashed in between finds it pending on the replay and sends
-- the DSN then. Bounces recorded before this step are settled (0).
-- reply keeps the failure as an SMTP reply line, e.g. "550 5.1.1 no such
-- user" or sesame's own "451 4.4.7 delivery time expired", so a DSN sent on a
-- later attempt says what the first one would have.
ALTER TABLE bounces ADD COLUMN dsn_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bounces ADD COLUMN reply TEXT NOT NULL DEFAULT '';
