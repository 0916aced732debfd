-- When a token last authenticated a request (written at most once a minute per token), and
-- single-use tokens (customer-portal links): used_at is when the one use happened.
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE tokens ADD COLUMN single_use BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE tokens ADD COLUMN used_at BIGINT;
