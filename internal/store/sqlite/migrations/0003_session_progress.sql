-- 0003: a gateway session's progress (the last event seq judged for it and
-- the last s sent) and the connection that holds it, so that a quiet shard
-- can resume after the events it never wanted are pruned, and so that a
-- resume on another node closes the old connection.

ALTER TABLE sessions ADD COLUMN cursor_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN sent_seq   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN conn_id    TEXT    NOT NULL DEFAULT '';
