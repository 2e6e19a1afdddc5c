-- 0002: member counts kept by triggers, so the member limit check on every
-- add costs one row read, not a count over a group of 100,000 members.
-- The triggers hard-code group.MemberRemoved = 4, as the partial indexes do.

CREATE TABLE member_counts (
	group_id TEXT PRIMARY KEY,
	active   INTEGER NOT NULL
) STRICT;

INSERT INTO member_counts (group_id, active)
	SELECT group_id, count(*) FROM members WHERE type <> 4 GROUP BY group_id;

CREATE TRIGGER members_count_insert AFTER INSERT ON members WHEN NEW.type <> 4
BEGIN
	INSERT INTO member_counts (group_id, active) VALUES (NEW.group_id, 1)
		ON CONFLICT (group_id) DO UPDATE SET active = active + 1;
END;

CREATE TRIGGER members_count_update AFTER UPDATE OF type ON members
	WHEN (OLD.type = 4) <> (NEW.type = 4)
BEGIN
	INSERT INTO member_counts (group_id, active) VALUES (NEW.group_id, CASE WHEN NEW.type = 4 THEN -1 ELSE 1 END)
		ON CONFLICT (group_id) DO UPDATE SET active = active + excluded.active;
END;

CREATE TRIGGER members_count_delete AFTER DELETE ON members WHEN OLD.type <> 4
BEGIN
	UPDATE member_counts SET active = active - 1 WHERE group_id = OLD.group_id;
END;
