-- Messages are the delivery queue: a new message waits for dispatch, and the delivery engine
-- fans it out when it claims it; a delivery row is written when its first outcome is recorded
-- (or when it cannot be sent at once). A delivery that succeeds at once then costs one insert,
-- where an eager fan-out cost an insert, a claim and an update.
--
-- dispatch_until is NULL once the message is fanned out for good. Otherwise the message is due
-- for fan-out at dispatch_until: its creation for a new message, the end of the lease of the
-- process that fanned it out (dispatch_owner) while its fresh deliveries are on their way.
ALTER TABLE messages ADD COLUMN dispatch_owner TEXT;
ALTER TABLE messages ADD COLUMN dispatch_until INTEGER;
CREATE INDEX messages_dispatch ON messages (dispatch_until) WHERE dispatch_until IS NOT NULL;

-- One delivery per message and endpoint: a message fanned out twice (its first dispatcher died)
-- keeps the deliveries it has.
DROP INDEX deliveries_msg;
CREATE UNIQUE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);
