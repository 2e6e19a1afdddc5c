-- 0005: outbound delivery (QQ webhooks, Wildfire callbacks). A stream per
-- bot and kind: its target, its progress through the bot's event log and the
-- lease of the node delivering it; a bounded list of recent attempts and the
-- events given up on. An event may carry data: a server event's group change.

ALTER TABLE events ADD COLUMN data TEXT NOT NULL DEFAULT '';

CREATE TABLE delivery_streams (
	bot_id        TEXT    NOT NULL,
	kind          TEXT    NOT NULL,
	url           TEXT    NOT NULL,
	intents       INTEGER NOT NULL,
	delivered_seq INTEGER NOT NULL,
	epoch         INTEGER NOT NULL,
	last_error    TEXT    NOT NULL,
	next_attempt  INTEGER NOT NULL,
	dropped       INTEGER NOT NULL,
	lease_node    TEXT    NOT NULL,
	lease_until   INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	PRIMARY KEY (bot_id, kind)
);

CREATE TABLE delivery_attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	bot_id      TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	seq         INTEGER NOT NULL,
	item_id     TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	status      INTEGER NOT NULL,
	error       TEXT    NOT NULL,
	at          INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL
);

CREATE INDEX delivery_attempts_stream ON delivery_attempts (bot_id, kind, id);

CREATE TABLE delivery_drops (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	bot_id   TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	from_seq INTEGER NOT NULL,
	to_seq   INTEGER NOT NULL,
	item_id  TEXT    NOT NULL,
	type     TEXT    NOT NULL,
	error    TEXT    NOT NULL,
	at       INTEGER NOT NULL
);

CREATE INDEX delivery_drops_stream ON delivery_drops (bot_id, kind, id);

-- Robots that had a callback before: their callback streams start now, at
-- the end of their logs. -62135596800000 is the zero time in milliseconds.
INSERT INTO delivery_streams (bot_id, kind, url, intents, delivered_seq, epoch, last_error, next_attempt,
	dropped, lease_node, lease_until, updated_at)
SELECT b.user_id, 'callback', b.callback, 0, COALESCE((SELECT s.seq FROM event_seqs s WHERE s.bot_id = b.user_id), 0),
	1, '', -62135596800000, 0, '', -62135596800000, 0
FROM bots b WHERE b.callback <> '';
