-- The delivery engine's state: endpoint health and disable reasons, the internal application
-- of operational webhooks, manual triggers, and the indexes of the claim and the attempt log.

ALTER TABLE applications ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;

ALTER TABLE endpoints ADD COLUMN disabled_reason TEXT;             -- NULL while enabled
ALTER TABLE endpoints ADD COLUMN failure_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;            -- first failure of the streak
ALTER TABLE endpoints ADD COLUMN last_attempt_at INTEGER;
ALTER TABLE endpoints ADD COLUMN last_event_type TEXT;
ALTER TABLE endpoints ADD COLUMN last_status INTEGER;

-- 1 (manual) when the next attempt was asked for by a resend or recover.
ALTER TABLE deliveries ADD COLUMN trigger_type INTEGER NOT NULL DEFAULT 0;

-- Expired leases, for the claim and ReleaseExpiredLeases.
CREATE INDEX deliveries_lease ON deliveries (status, leased_until);
-- An endpoint's messages, paginated by delivery id.
CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint_id, id);
-- An application's attempt log, paginated by attempt id.
CREATE INDEX attempts_app ON attempts (app_id, id);
