-- 0011: no index on events (created_at). Only retention read it, and every
-- event paid for it in the single writer: an index entry, its page in the
-- Update's savepoint and in the commit's WAL frames (BenchmarkAppendEvent:
-- 2.4 of the 20 µs an event cost the writer). Retention now walks each
-- bot's log by its primary key from the oldest seq (see retention.go).
DROP INDEX events_created;
