-- 0004: bot messages are pruned oldest first, a bounded batch at a time
-- (Prune); without an index on their creation time each batch would scan the
-- whole table.

CREATE INDEX bot_messages_created ON bot_messages (created_at);
