-- 0008: a group's robots, indexed on their own. BotMembers (asked for every
-- message that mentions someone, and by the console) joined every active
-- member of the group with bots: one index entry per member, 100,000 for a
-- 100,000-member group. A member row now says whether its user has a Bot
-- record (bot = 1), kept by the store: PutMembers sets it from bots as it
-- writes the row, PutBot sets it on the rows of a user that becomes a robot
-- (no Bot record is ever deleted). The partial index holds only active robot
-- members, so BotMembers reads as many entries as the group has robots.
ALTER TABLE members ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
UPDATE members SET bot = 1 WHERE user_id IN (SELECT user_id FROM bots);
CREATE INDEX members_bots ON members (group_id, pos) WHERE type <> 4 AND bot = 1;
