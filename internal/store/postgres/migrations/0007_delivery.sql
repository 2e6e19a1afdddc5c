-- 0006: outbound delivery (QQ webhooks, Wildfire callbacks). A stream per
-- bot and kind: its target, its progress through the bot's event log and the
-- lease of the node delivering it; a bounded list of recent attempts and the
-- events given up on. An event may carry data: a server event's group change.

ALTER TABLE events ADD COLUMN data text NOT NULL DEFAULT '';

CREATE TABLE delivery_streams (
	bot_id        text    NOT NULL,
	kind          text    NOT NULL,
	url           text    NOT NULL,
	intents       bigint  NOT NULL,
	delivered_seq bigint  NOT NULL,
	epoch         bigint  NOT NULL,
	last_error    text    NOT NULL,
	next_attempt  bigint  NOT NULL,
	dropped       bigint  NOT NULL,
	lease_node    text    NOT NULL,
	lease_until   bigint  NOT NULL,
	updated_at    bigint  NOT NULL,
	PRIMARY KEY (bot_id, kind)
);

CREATE TABLE delivery_attempts (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	bot_id      text    NOT NULL,
	kind        text    NOT NULL,
	seq         bigint  NOT NULL,
	item_id     text    NOT NULL,
	type        text    NOT NULL,
	status      bigint  NOT NULL,
	error       text    NOT NULL,
	at          bigint  NOT NULL,
	duration_ms bigint  NOT NULL
);

CREATE INDEX delivery_attempts_stream ON delivery_attempts (bot_id, kind, id);

CREATE TABLE delivery_drops (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	bot_id   text    NOT NULL,
	kind     text    NOT NULL,
	from_seq bigint  NOT NULL,
	to_seq   bigint  NOT NULL,
	item_id  text    NOT NULL,
	type     text    NOT NULL,
	error    text    NOT NULL,
	at       bigint  NOT NULL
);

CREATE INDEX delivery_drops_stream ON delivery_drops (bot_id, kind, id);

-- Robots that had a callback before: their callback streams start now, at
-- the end of their logs. -62135596800000 is the zero time in milliseconds.
INSERT INTO delivery_streams (bot_id, kind, url, intents, delivered_seq, epoch, last_error, next_attempt,
	dropped, lease_node, lease_until, updated_at)
SELECT b.user_id, 'callback', b.callback, 0, COALESCE((SELECT s.seq FROM event_seqs s WHERE s.bot_id = b.user_id), 0),
	1, '', -62135596800000, 0, '', -62135596800000, 0
FROM bots b WHERE b.callback <> '';
