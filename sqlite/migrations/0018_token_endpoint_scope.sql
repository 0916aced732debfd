-- Customer-portal links scoped to chosen endpoints: the endpoint ids as a JSON array, NULL for
-- a link (or session) that sees every endpoint of its application.
ALTER TABLE tokens ADD COLUMN endpoint_ids TEXT;
