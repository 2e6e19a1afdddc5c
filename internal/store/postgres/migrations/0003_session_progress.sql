-- 0003: a gateway session's progress (the last event seq judged for it and
-- the last s sent) and the connection that holds it, so that a quiet shard
-- can resume after the events it never wanted are pruned, and so that a
-- resume on another node closes the old connection. Constant defaults: no
-- table rewrite (PostgreSQL 11+).

ALTER TABLE sessions
	ADD COLUMN cursor_seq bigint NOT NULL DEFAULT 0,
	ADD COLUMN sent_seq   bigint NOT NULL DEFAULT 0,
	ADD COLUMN conn_id    text   NOT NULL DEFAULT '';
