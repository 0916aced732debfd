-- The relations whose files still hold expunged content (old row versions), until
-- ReclaimExpunged rewrites them: an expunge notes each partition of messages and attempts it
-- changed (and idempotency_keys) in its own transaction, so the obligation outlives the
-- process that took the request, and whichever process reclaims next (the one that expunged,
-- in the background, or the maintenance leader) finds it. See postgres/content.go.
CREATE TABLE expunge_reclaims (
	seq       BIGSERIAL PRIMARY KEY,
	relation  TEXT NOT NULL,
	noted_at  BIGINT NOT NULL
);
