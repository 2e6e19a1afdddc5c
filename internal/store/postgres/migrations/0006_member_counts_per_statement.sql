-- 0006: member counts kept by statement-level triggers. The row-level
-- trigger of 0002 ran a PL/pgSQL call and an upsert of member_counts for
-- every member row, so one multi-row write of 2,000 members paid 2,000 of
-- them; these run once per statement over its transition tables. Like 0002
-- they hard-code group.MemberRemoved = 4. (A transition table cannot go with
-- a column list, so the update trigger fires on every update of members; it
-- adds nothing when no row changed between removed and not.)

DROP TRIGGER members_count ON members;
DROP FUNCTION members_count();

CREATE FUNCTION members_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO member_counts AS c (group_id, active)
		SELECT group_id, count(*) FROM inserted WHERE type <> 4 GROUP BY group_id
		ON CONFLICT (group_id) DO UPDATE SET active = c.active + excluded.active;
	RETURN NULL;
END;
$$;

CREATE FUNCTION members_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO member_counts AS c (group_id, active)
		SELECT n.group_id, sum((n.type <> 4)::int - (o.type <> 4)::int)
		FROM updated_new n JOIN updated_old o ON o.pos = n.pos
		GROUP BY n.group_id
		HAVING sum((n.type <> 4)::int - (o.type <> 4)::int) <> 0
		ON CONFLICT (group_id) DO UPDATE SET active = c.active + excluded.active;
	RETURN NULL;
END;
$$;

CREATE FUNCTION members_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE member_counts c SET active = c.active - d.n
		FROM (SELECT group_id, count(*) AS n FROM deleted WHERE type <> 4 GROUP BY group_id) d
		WHERE c.group_id = d.group_id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER members_count_insert AFTER INSERT ON members
	REFERENCING NEW TABLE AS inserted
	FOR EACH STATEMENT EXECUTE FUNCTION members_count_insert();
CREATE TRIGGER members_count_update AFTER UPDATE ON members
	REFERENCING OLD TABLE AS updated_old NEW TABLE AS updated_new
	FOR EACH STATEMENT EXECUTE FUNCTION members_count_update();
CREATE TRIGGER members_count_delete AFTER DELETE ON members
	REFERENCING OLD TABLE AS deleted
	FOR EACH STATEMENT EXECUTE FUNCTION members_count_delete();
