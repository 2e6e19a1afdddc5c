-- 0005: nonces are written on every signed call on every node. An unlogged
-- table writes no WAL, so such a transaction commits without waiting for a
-- WAL flush. After a PostgreSQL crash the table is empty: requests captured
-- in the last sign window (5 minutes) could then be replayed once. Nonces are
-- not replicated to standbys either; after a failover the same holds.
ALTER TABLE nonces SET UNLOGGED;
