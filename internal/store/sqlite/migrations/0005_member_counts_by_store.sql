-- 0005: member counts kept by the store's member writes instead of row
-- triggers. A trigger runs once per row, so one multi-row write of 2,000
-- members ran 2,000 upserts of its group's count row inside the writer;
-- PutMembers now counts the active rows it replaces and the ones it writes,
-- and applies the difference with one upsert per group, and DeleteGroup
-- drops the group's count row. The counts themselves are unchanged.

DROP TRIGGER members_count_insert;
DROP TRIGGER members_count_update;
DROP TRIGGER members_count_delete;
