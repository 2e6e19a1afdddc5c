-- 0007: the robots with a Wildfire callback, indexed on their own. Every
-- message appended to a timeline asks which of its group's members are such
-- robots; reading that from the group's members cost one index entry per
-- member (a 10,000-member group: 10,000 per message), while robots with a
-- callback are few: CallbackBots now starts from them and probes members
-- by its (group_id, user_id) key.
CREATE INDEX bots_callback ON bots (user_id) WHERE callback <> '';
