-- 0008: groups by name, for the console's search by a prefix of the name: a
-- page of it is one range of this index (ids are searched on the primary
-- key's). Names compare byte by byte (BINARY): the search is case-sensitive.
CREATE INDEX groups_name ON groups (name, id);
