-- 0008: which node's connection holds a gateway session and since when, so
-- that the console and the Admin API list a bot's live sessions across nodes;
-- and an index to list a bot's sessions, newest first. A session stored
-- before this was connected when it was created, as far as anyone knows.
ALTER TABLE sessions ADD COLUMN node         TEXT    NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN connected_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET connected_at = created_at;
CREATE INDEX sessions_bot ON sessions (bot_id, updated_at);
