-- 0012: no index on events (created_at). Only retention read it, and it no
-- longer does: it prunes each bot's log from its first seq by the primary
-- key (see retention.go), so that an old event behind a younger one (a clock
-- stepped back, two nodes' clocks that disagree) is kept rather than cut out
-- of the middle of the log. Every appended event paid for the index: an
-- entry, in the WAL and in the commit that holds the bot's counter row.
DROP INDEX events_created;
