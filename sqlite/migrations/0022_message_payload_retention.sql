-- When a message's payload is to be removed (Svix's payloadRetentionPeriod/Hours), in Unix
-- microseconds, or NULL to keep it as long as the message. The maintenance pass expunges the
-- payloads whose time has come, found along the partial index.
ALTER TABLE messages ADD COLUMN payload_expires_at INTEGER;
CREATE INDEX messages_payload_expiry ON messages (payload_expires_at) WHERE payload_expires_at IS NOT NULL;
