-- A scheduled sale: when it opens, and how long before that its pre-queue
-- takes joins (see frontrow_domain::queue::SaleOpening). NULL: open now.
ALTER TABLE concerts ADD COLUMN opens_at_ms BIGINT NULL;
ALTER TABLE concerts ADD COLUMN pre_queue_minutes BIGINT NOT NULL DEFAULT 30;
