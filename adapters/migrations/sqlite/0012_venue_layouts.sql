-- A venue layout per schedule (see the MySQL migration of the same number):
-- the domain's draft spelled out, as JSON bytes; written with its schedule
-- and never changed.
CREATE TABLE schedule_layouts (
    schedule_id INTEGER NOT NULL PRIMARY KEY,
    layout      BLOB    NOT NULL
);
