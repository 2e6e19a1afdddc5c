-- 0001: the initial schema.
--
-- Times are unix milliseconds (INTEGER). Payloads are JSON text. The partial
-- indexes on members hard-code group.MemberRemoved = 4: listings hide removed
-- members, so only active rows are indexed for them.

CREATE TABLE users (
	id           TEXT PRIMARY KEY,
	name         TEXT    NOT NULL,
	password     TEXT    NOT NULL,
	display_name TEXT    NOT NULL,
	portrait     TEXT    NOT NULL,
	gender       INTEGER NOT NULL,
	mobile       TEXT    NOT NULL,
	email        TEXT    NOT NULL,
	address      TEXT    NOT NULL,
	company      TEXT    NOT NULL,
	social       TEXT    NOT NULL,
	extra        TEXT    NOT NULL,
	type         INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

-- UserByName and UserByMobile return the first user by id.
CREATE INDEX users_name ON users (name, id);
CREATE INDEX users_mobile ON users (mobile, id);

CREATE TABLE bots (
	user_id             TEXT PRIMARY KEY,
	owner               TEXT    NOT NULL,
	secret              TEXT    NOT NULL,
	callback            TEXT    NOT NULL,
	robot_extra         TEXT    NOT NULL,
	app_id              TEXT    NOT NULL,
	app_secret          TEXT    NOT NULL,
	intents             INTEGER NOT NULL,
	ice_breaker_enabled INTEGER NOT NULL,
	ice_breaker_payload TEXT    NOT NULL,
	updated_at          INTEGER NOT NULL
) STRICT;

-- An app id identifies one bot; bots without one may share the empty string.
CREATE UNIQUE INDEX bots_app_id ON bots (app_id) WHERE app_id <> '';

CREATE TABLE groups (
	id               TEXT PRIMARY KEY,
	name             TEXT    NOT NULL,
	portrait         TEXT    NOT NULL,
	owner            TEXT    NOT NULL,
	type             INTEGER NOT NULL,
	extra            TEXT    NOT NULL,
	mute             INTEGER NOT NULL,
	join_type        INTEGER NOT NULL,
	private_chat     INTEGER NOT NULL,
	searchable       INTEGER NOT NULL,
	history_message  INTEGER NOT NULL,
	max_member_count INTEGER NOT NULL,
	super_group      INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
) STRICT;

-- pos is assigned on first insert and kept when the row is updated (upserts
-- never REPLACE), so it orders a group's members by first join and is the
-- key of keyset paging.
CREATE TABLE members (
	pos        INTEGER PRIMARY KEY,
	group_id   TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	alias      TEXT    NOT NULL,
	type       INTEGER NOT NULL,
	extra      TEXT    NOT NULL,
	joined_at  INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (group_id, user_id)
) STRICT;

CREATE INDEX members_active ON members (group_id, pos) WHERE type <> 4;
CREATE INDEX members_user ON members (user_id, group_id) WHERE type <> 4;

-- A bot's settings in one group; no row means the defaults.
CREATE TABLE bot_groups (
	group_id  TEXT    NOT NULL,
	bot_id    TEXT    NOT NULL,
	proactive INTEGER NOT NULL,
	PRIMARY KEY (group_id, bot_id)
) STRICT, WITHOUT ROWID;

-- The group timeline. Rows outlive their group; AUTOINCREMENT keeps a uid
-- from ever being handed out twice.
CREATE TABLE messages (
	uid        INTEGER PRIMARY KEY AUTOINCREMENT,
	group_id   TEXT    NOT NULL,
	line       INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	sender     TEXT    NOT NULL,
	payload    TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX messages_seq ON messages (group_id, line, seq);

-- The bots' event logs.
CREATE TABLE events (
	bot_id      TEXT    NOT NULL,
	seq         INTEGER NOT NULL,
	type        TEXT    NOT NULL,
	group_id    TEXT    NOT NULL,
	operator_id TEXT    NOT NULL,
	message_uid INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (bot_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX events_created ON events (created_at);

-- The last seq handed out per bot. Pruning may delete every event of a bot;
-- its seq must still never go back, or a resume would skip new events.
CREATE TABLE event_seqs (
	bot_id TEXT PRIMARY KEY,
	seq    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE bot_messages (
	id          INTEGER PRIMARY KEY,
	bot_id      TEXT    NOT NULL,
	group_id    TEXT    NOT NULL,
	message_uid INTEGER NOT NULL,
	reply_to    TEXT    NOT NULL,
	msg_seq     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;

-- A passive reply is deduplicated by (msg_id, msg_seq); proactive messages are not.
CREATE UNIQUE INDEX bot_messages_reply ON bot_messages (bot_id, reply_to, msg_seq) WHERE reply_to <> '';
CREATE INDEX bot_messages_proactive ON bot_messages (bot_id, group_id, created_at) WHERE reply_to = '';

CREATE TABLE access_tokens (
	token      TEXT PRIMARY KEY,
	bot_id     TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX access_tokens_bot ON access_tokens (bot_id, expires_at);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	bot_id      TEXT    NOT NULL,
	shard_id    INTEGER NOT NULL,
	shard_count INTEGER NOT NULL,
	intents     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_updated ON sessions (updated_at);

CREATE TABLE openids (
	bot_id      TEXT NOT NULL,
	openid      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	internal_id TEXT NOT NULL,
	PRIMARY KEY (bot_id, openid)
) STRICT, WITHOUT ROWID;

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE nonces (
	key        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX nonces_expires ON nonces (expires_at);
