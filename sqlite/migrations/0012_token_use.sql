-- When a token last authenticated a request (written at most once a minute per token), and
-- single-use tokens (customer-portal links): used_at is when the one use happened.
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN single_use INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN used_at INTEGER;
