-- A venue layout per schedule: where each seat number sits (section, row,
-- seat) and its price tier. Written with its schedule, in the same
-- transaction, and never changed: the application caches it for good. A
-- schedule without a row here is a numbered hall at the schedule's price.
--
-- The layout is the domain's draft spelled out (every row), as JSON. A
-- MEDIUMBLOB, not TEXT: sqlx's Any driver reads MySQL TEXT as bytes anyway,
-- and a 10,000-seat layout spelled out row by row can pass 64 KB.
CREATE TABLE schedule_layouts (
    schedule_id BIGINT     NOT NULL PRIMARY KEY,
    layout      MEDIUMBLOB NOT NULL
) ENGINE = InnoDB;
