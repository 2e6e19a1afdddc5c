-- 0009: the console's search of groups by a prefix of their id or name. A
-- page of it is one range of one of these indexes. Both compare byte by byte
-- (COLLATE "C", as SQLite does), whatever the database's locale: the search
-- is case-sensitive, and a prefix's range ends at store.PrefixEnd. groups.id
-- has the database's collation, so its primary key cannot serve the range.
CREATE INDEX groups_id_c ON groups (id COLLATE "C");
CREATE INDEX groups_name ON groups (name COLLATE "C", id COLLATE "C");
