-- 0001: the initial schema.
--
-- Times are unix milliseconds (bigint), the precision the domain keeps; every
-- Go int is a bigint so that any value round-trips. Payloads are json (not
-- jsonb: jsonb refuses the \u0000 escape a message may carry). The partial
-- indexes on members hard-code group.MemberRemoved = 4: listings hide removed
-- members, so only active rows are indexed for them. The text columns that
-- order results (users.id, members.group_id, access_tokens.token) are
-- COLLATE "C": ids sort byte by byte, as in SQLite, whatever the database's
-- locale.

CREATE TABLE users (
	id           text   COLLATE "C" PRIMARY KEY,
	name         text   NOT NULL,
	password     text   NOT NULL,
	display_name text   NOT NULL,
	portrait     text   NOT NULL,
	gender       bigint NOT NULL,
	mobile       text   NOT NULL,
	email        text   NOT NULL,
	address      text   NOT NULL,
	company      text   NOT NULL,
	social       text   NOT NULL,
	extra        text   NOT NULL,
	type         bigint NOT NULL,
	updated_at   bigint NOT NULL
);

-- UserByName and UserByMobile return the first user by id.
CREATE INDEX users_name ON users (name, id);
CREATE INDEX users_mobile ON users (mobile, id);

CREATE TABLE bots (
	user_id             text    PRIMARY KEY,
	owner               text    NOT NULL,
	secret              text    NOT NULL,
	callback            text    NOT NULL,
	robot_extra         text    NOT NULL,
	app_id              text    NOT NULL,
	app_secret          text    NOT NULL,
	intents             bigint  NOT NULL,
	ice_breaker_enabled boolean NOT NULL,
	ice_breaker_payload json    NOT NULL,
	updated_at          bigint  NOT NULL
);

-- An app id identifies one bot; bots without one may share the empty string.
CREATE UNIQUE INDEX bots_app_id ON bots (app_id) WHERE app_id <> '';

CREATE TABLE groups (
	id               text    PRIMARY KEY,
	name             text    NOT NULL,
	portrait         text    NOT NULL,
	owner            text    NOT NULL,
	type             bigint  NOT NULL,
	extra            text    NOT NULL,
	mute             bigint  NOT NULL,
	join_type        bigint  NOT NULL,
	private_chat     bigint  NOT NULL,
	searchable       bigint  NOT NULL,
	history_message  bigint  NOT NULL,
	max_member_count bigint  NOT NULL,
	super_group      boolean NOT NULL,
	created_at       bigint  NOT NULL,
	updated_at       bigint  NOT NULL
);

-- pos is assigned on first insert and kept when the row is updated (the
-- upsert never sets it), so it orders a group's members by first join and is
-- the key of keyset paging.
CREATE TABLE members (
	pos        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	group_id   text   COLLATE "C" NOT NULL,
	user_id    text   NOT NULL,
	alias      text   NOT NULL,
	type       bigint NOT NULL,
	extra      text   NOT NULL,
	joined_at  bigint NOT NULL,
	updated_at bigint NOT NULL,
	UNIQUE (group_id, user_id)
);

CREATE INDEX members_active ON members (group_id, pos) WHERE type <> 4;
CREATE INDEX members_user ON members (user_id, group_id) WHERE type <> 4;

-- A bot's settings in one group; no row means the defaults.
CREATE TABLE bot_groups (
	group_id  text    NOT NULL,
	bot_id    text    NOT NULL,
	proactive boolean NOT NULL,
	PRIMARY KEY (group_id, bot_id)
);

-- The group timeline. Rows outlive their group, and so do their counters.
CREATE TABLE messages (
	uid        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	group_id   text   NOT NULL,
	line       bigint NOT NULL,
	seq        bigint NOT NULL,
	sender     text   NOT NULL,
	payload    json   NOT NULL,
	created_at bigint NOT NULL,
	UNIQUE (group_id, line, seq)
);

-- The last seq handed out per (group, line). Appending increments it in
-- place: the row lock orders concurrent appends, and a rollback takes its
-- increment back, so seqs have no gaps and are never handed out twice.
CREATE TABLE timeline_seqs (
	group_id text   NOT NULL,
	line     bigint NOT NULL,
	seq      bigint NOT NULL,
	PRIMARY KEY (group_id, line)
);

-- The bots' event logs.
CREATE TABLE events (
	bot_id      text   NOT NULL,
	seq         bigint NOT NULL,
	type        text   NOT NULL,
	group_id    text   NOT NULL,
	operator_id text   NOT NULL,
	message_uid bigint NOT NULL,
	created_at  bigint NOT NULL,
	PRIMARY KEY (bot_id, seq)
);

CREATE INDEX events_created ON events (created_at);

-- The last seq handed out per bot, taken like timeline_seqs. Pruning may
-- delete every event of a bot; its seq must still never go back, or a resume
-- would skip new events.
CREATE TABLE event_seqs (
	bot_id text   PRIMARY KEY,
	seq    bigint NOT NULL
);

CREATE TABLE bot_messages (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	bot_id      text   NOT NULL,
	group_id    text   NOT NULL,
	message_uid bigint NOT NULL,
	reply_to    text   NOT NULL,
	msg_seq     bigint NOT NULL,
	created_at  bigint NOT NULL
);

-- A passive reply is deduplicated by (msg_id, msg_seq); proactive messages are not.
CREATE UNIQUE INDEX bot_messages_reply ON bot_messages (bot_id, reply_to, msg_seq) WHERE reply_to <> '';
CREATE INDEX bot_messages_proactive ON bot_messages (bot_id, group_id, created_at) WHERE reply_to = '';

CREATE TABLE access_tokens (
	token      text   COLLATE "C" PRIMARY KEY,
	bot_id     text   NOT NULL,
	expires_at bigint NOT NULL,
	created_at bigint NOT NULL
);

CREATE INDEX access_tokens_bot ON access_tokens (bot_id, expires_at);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE sessions (
	id          text   PRIMARY KEY,
	bot_id      text   NOT NULL,
	shard_id    bigint NOT NULL,
	shard_count bigint NOT NULL,
	intents     bigint NOT NULL,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL
);

CREATE INDEX sessions_updated ON sessions (updated_at);

CREATE TABLE openids (
	bot_id      text NOT NULL,
	openid      text NOT NULL,
	kind        text NOT NULL,
	internal_id text NOT NULL,
	PRIMARY KEY (bot_id, openid)
);

CREATE TABLE settings (
	key   text PRIMARY KEY,
	value text NOT NULL
);

CREATE TABLE nonces (
	key        text   PRIMARY KEY,
	expires_at bigint NOT NULL
);

CREATE INDEX nonces_expires ON nonces (expires_at);
