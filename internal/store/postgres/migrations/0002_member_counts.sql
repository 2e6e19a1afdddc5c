-- 0002: member counts kept by triggers, so the member limit check on every
-- add costs one row read, not a count over a group of 100,000 members.
-- The triggers hard-code group.MemberRemoved = 4, as the partial indexes do.
-- Every domain write locks its group's row first, so the count row of a
-- group is only ever bumped by one transaction at a time.

CREATE TABLE member_counts (
	group_id text   PRIMARY KEY,
	active   bigint NOT NULL
);

INSERT INTO member_counts (group_id, active)
	SELECT group_id, count(*) FROM members WHERE type <> 4 GROUP BY group_id;

CREATE FUNCTION members_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	delta bigint := 0;
	gid   text;
BEGIN
	IF TG_OP = 'INSERT' THEN
		gid := NEW.group_id;
		IF NEW.type <> 4 THEN delta := 1; END IF;
	ELSIF TG_OP = 'UPDATE' THEN
		gid := NEW.group_id;
		IF OLD.type = 4 AND NEW.type <> 4 THEN delta := 1;
		ELSIF OLD.type <> 4 AND NEW.type = 4 THEN delta := -1; END IF;
	ELSE
		gid := OLD.group_id;
		IF OLD.type <> 4 THEN delta := -1; END IF;
	END IF;
	IF delta <> 0 THEN
		INSERT INTO member_counts (group_id, active) VALUES (gid, delta)
			ON CONFLICT (group_id) DO UPDATE SET active = member_counts.active + delta;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER members_count AFTER INSERT OR UPDATE OF type OR DELETE ON members
	FOR EACH ROW EXECUTE FUNCTION members_count();
