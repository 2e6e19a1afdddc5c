-- 0008: the robots with a Wildfire callback, indexed on their own, so that
-- CallbackBots (asked for every message appended) starts from them and
-- probes members by (group_id, user_id) instead of reading every member of
-- the group.
CREATE INDEX bots_callback ON bots (user_id) WHERE callback <> '';
